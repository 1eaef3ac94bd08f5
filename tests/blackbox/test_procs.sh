#!/usr/bin/env bash
# procs: shared memory across processes, bytes copied counted, a killed worker reported at once,
# signals stop every child, nothing left behind.
. "$(dirname "$0")/lib.sh"

no_children_of() { ! pgrep -P "$1" >/dev/null; }

# kill_a_worker PID WAIT [SIGNAL]: once PID's worker-1 runs, waits WAIT seconds, sends it SIGNAL
# (KILL) and sets $victim to its pid. The worker is picked by its name (cv:worker-1) and seen
# running, and the runs below last well over a second: a signal to a worker that has already
# left would fail (it did: the first child of a run of 0.4 s, signalled 0.2 s after it was seen).
kill_a_worker() {
    child_named "$1" cv:worker-1 || true
    sleep "$2"
    signal_victim "${3:-KILL}"
}

no_zombie_of() { test -z "$(ps -eo stat,ppid | awk -v p="$1" '$1 ~ /^Z/ && $2 == p')"; }

# counter-race across processes
run_cv 0 run counter-race --model procs --set iterations=300000 --json --check
check "procs none: loses updates across processes" fcmp "$(jqv .results.lost_updates) > 0"
check "procs: one process per worker" test "$(jqv .runtime.os_processes)" = 5
# 40,000 iterations write about 80,000 events per worker (a mutex: two per increment, a few
# more when contended), under its ring's 131,072: none can be dropped, however slowly a loaded
# machine or a sanitized build drains them (at 300,000 they were, and --check failed on it)
for v in mutex atomic; do
    run_cv 0 run counter-race --model procs --set iterations=40000 --set variant=$v --json --check
    check "procs $v: exact" test "$(jqv .results.counter_final)" = 160000
done

# bytes copied: procs pays for arguments and results, threads do not
run_cv 0 run compress --model procs --set buffers=8 --json --check
check "compress procs: copies more than its input" fcmp "$(jqv .results.bytes_copied) > $(jqv .results.bytes_in)"
run_cv 0 run compress --model threads --set buffers=8 --json --check
check "compress threads: copies nothing" test "$(jqv .results.bytes_copied)" = 0
run_cv 0 run cpu-many-small --model procs --set repeat=20 --json --check
check "many small: every task's argument and result crossed a pipe" fcmp "$(jqv .results.bytes_copied) >= 2000 * 32"

# a worker killed mid-run: reported, the run ends within 5 s with a clear error, no child left
set +e
"$CONCVIZ" run cpu-primes --model procs --set repeat=60 --json >"$TMP/kill.json" 2>"$TMP/kill.err" &
pid=$!
set -e
kill_a_worker $pid 0.3
reap $pid
check "killed worker: exit 3" test "$rc" = 3
check "killed worker: run ends within 5 s (${took}s)" fcmp "$took < 5"
# The kill can land between two tasks (the worker has sent its result, the parent has not yet
# sent the next one; on a loaded machine that takes milliseconds): then the line names no task
# and none failed. held=1 when it names one.
check "killed worker: one clear line" grep -Eq "^concviz: run failed: worker-1 \(pid $victim\) was killed by signal 9 \(SIGKILL\)( while running task [0-9]+)?$" "$TMP/kill.err"
held=$(grep -c "while running task" "$TMP/kill.err" || true)
OUT=$(cat "$TMP/kill.json")
check "killed worker: its task failed ($held held)" test "$(jqv .tasks.failed)" = "$held"
check "killed worker: its lane is marked dead" test "$(jqv '[.lanes[] | select(has("dead_s"))] | length')" = 1
check "killed worker: no process left" no_children_of $pid
check "killed worker: no zombie" no_zombie_of $pid

# on_worker_death = continue: the rest of the pool finishes the run
sed -e 's/^workers = 2$/workers = 2\non_worker_death = continue/' "$CONCVIZ_SCENARIO_DIR/cpu-primes.ini" >"$TMP/survive.ini"
set +e
"$CONCVIZ" run "$TMP/survive.ini" --model procs --set repeat=30 --json >"$TMP/survive.json" 2>"$TMP/survive.err" &
pid=$!
set -e
kill_a_worker $pid 0.2
reap $pid
OUT=$(cat "$TMP/survive.json")
check "continue: exit 0" test "$rc" = 0
check "continue: the death is reported as a warning" grep -q "^concviz: warning: worker-1 (pid $victim) was killed by signal 9" "$TMP/survive.err"
held=$(grep -c "while running task" "$TMP/survive.err" || true)
check "continue: its task failed ($held held), every other completed" \
    test "$(jqv '.tasks.failed + .tasks.completed')" = "$(jqv .tasks.submitted)" -a "$(jqv .tasks.failed)" = "$held"
check "continue: state done" test "$(jqv .state)" = done

# a stopped worker (SIGSTOP) under a watchdog (--task-timeout 2): its lane shows it stalled, the
# timeout kills it, its task is reported timed out in one line, the run fails with exit 3 well
# within a minute (it would hang without the watchdog), nothing is left, the recording replays
set +e
"$CONCVIZ" run cpu-primes --model procs --set repeat=40 --task-timeout 2 --json \
    --record "$TMP/stall.cvr" >"$TMP/stall.json" 2>"$TMP/stall.err" &
pid=$!
set -e
kill_a_worker $pid 0.3 STOP
reap $pid
# the line for a stalled $victim
stall_line() {
    echo "worker-1 \(pid $victim\) stalled \(the process was stopped\): task [0-9]+ timed out after 2 s; killed the worker \(SIGKILL\)"
}
line=$(stall_line)
check "stalled worker: exit 3" test "$rc" = 3
check "stalled worker: the run ends within 60 s (${took}s)" fcmp "$took < 60"
check "stalled worker: one clear line" grep -Eqx "concviz: run failed: $line" "$TMP/stall.err"
check "stalled worker: nothing else on stderr" test "$(wc -l <"$TMP/stall.err")" = 1
OUT=$(cat "$TMP/stall.json")
check "stalled worker: json state failed, the line in errors" \
    test "$(jqv .state)" = failed -a -n "$(jqv '.errors[0]' | grep -Ex "$line")"
check "stalled worker: one task timed out (and was cancelled), none failed" \
    test "$(jqc '[.tasks.timed_out, .tasks.failed]')" = "[1,0]"
check "stalled worker: its lane was stalled, then dead" \
    test "$(jqv '[.lanes[] | select(.stalled_s > 0 and has("dead_s"))] | length')" = 1
check "stalled worker: no process left" no_children_of $pid
check "stalled worker: no zombie" no_zombie_of $pid
run_cv 0 replay "$TMP/stall.cvr" --headless --json
same_as_run() { # FILTER: the replay ($OUT) and the run's JSON agree on it; shows both if not
    local a b
    a=$(jqc "$1")
    b=$(jq -c "$1" "$TMP/stall.json")
    [ "$a" = "$b" ] || { echo "# replay: $a"; echo "# run:    $b"; return 1; }
}
check "stalled worker: the recording replays the same tasks and lanes" \
    same_as_run '[.state, .tasks, [.lanes[] | has("stalled_s")]]'

# the same under on_worker_death = continue: the rest of the pool finishes; the timeout is a
# warning
set +e
"$CONCVIZ" run "$TMP/survive.ini" --model procs --set repeat=40 --task-timeout 2 --json \
    >"$TMP/stall2.json" 2>"$TMP/stall2.err" &
pid=$!
set -e
kill_a_worker $pid 0.2 STOP
reap $pid
OUT=$(cat "$TMP/stall2.json")
check "stalled, continue: exit 0" test "$rc" = 0
check "stalled, continue: a warning" grep -Eqx "concviz: warning: $(stall_line) \(the run went on\)" "$TMP/stall2.err"
# its task was cancelled, unless it was stopped after ending the task and before sending the
# result: then the task ended (once) and only its result timed out
check "stalled, continue: every other task completed, each ended once" \
    test "$(jqc '[.tasks.timed_out, .tasks.cancelled <= 1, .tasks.failed, .tasks.completed + .tasks.cancelled == .tasks.submitted]')" = "[1,true,0,true]"

# a worker stopped and continued: shown stalled meanwhile, the run completes as usual
set +e
"$CONCVIZ" run cpu-primes --model procs --set repeat=40 --json --check >"$TMP/cont.json" 2>/dev/null &
pid=$!
set -e
kill_a_worker $pid 0.2 STOP
sleep 0.5
kill -CONT "$victim"
reap $pid
OUT=$(cat "$TMP/cont.json")
check "stopped, continued: exit 0, done" test "$rc" = 0 -a "$(jqv .state)" = done
check "stopped, continued: one lane was stalled, none dead" \
    test "$(jqc '[([.lanes[] | select(.stalled_s > 0)] | length), ([.lanes[] | select(has("dead_s"))] | length)]')" = "[1,0]"

# Ctrl-C with a stopped worker while recording: the run stops at once (the stopped worker cannot
# stop by itself, so it is killed), exit 130, the recording is complete
set +e
"$CONCVIZ" run cpu-primes --model procs --set repeat=40 --json --record "$TMP/int.cvr" \
    >"$TMP/int.json" 2>"$TMP/int.err" &
pid=$!
set -e
kill_a_worker $pid 0.3 STOP
sleep 0.3
kill -INT $pid
reap $pid
check "Ctrl-C, stopped worker: exit 130 (${took}s)" test "$rc" = 130
check "Ctrl-C, stopped worker: ends within 60 s" fcmp "$took < 60"
check "Ctrl-C, stopped worker: interrupted, not failed" grep -q "interrupted" "$TMP/int.err"
check "Ctrl-C, stopped worker: no process left" no_children_of $pid
run_cv 0 replay "$TMP/int.cvr" --headless --json
check "Ctrl-C, stopped worker: the recording replays, stopped" test "$(jqv .state)" = stopped
check "Ctrl-C, stopped worker: no warning that it was cut short" test -z "$ERR"

# SIGTERM stops role processes blocked on the queue
set +e
"$CONCVIZ" run pipeline --model procs --set consume_ms=2000 --json >"$TMP/term.json" 2>/dev/null &
pid=$!
sleep 0.7
kill -TERM $pid
wait $pid
rc=$?
set -e
check "SIGTERM: exit 130" test "$rc" = 130
check "SIGTERM: no child left" no_children_of $pid
OUT=$(cat "$TMP/term.json")
check "SIGTERM: summary says stopped" test "$(jqv .state)" = stopped
finish

#!/usr/bin/env bash
# procs: shared memory across processes, bytes copied counted, a killed worker reported at once,
# signals stop every child, nothing left behind.
. "$(dirname "$0")/lib.sh"

no_children_of() { ! pgrep -P "$1" >/dev/null; }

# kill_a_worker PID WAIT: once PID has a child, waits WAIT seconds, kill -9s that child and
# sets $victim to its pid
kill_a_worker() {
    victim=""
    for _ in $(seq 50); do
        victim=$(pgrep -P "$1" | head -1) && [ -n "$victim" ] && break
        sleep 0.1
    done
    sleep "$2"
    kill -9 "$victim"
}

# counter-race across processes
run_cv 0 run counter-race --model procs --set iterations=300000 --json --check
check "procs none: loses updates across processes" fcmp "$(jqv .results.lost_updates) > 0"
check "procs: one process per worker" test "$(jqv .runtime.os_processes)" = 5
for v in mutex atomic; do
    run_cv 0 run counter-race --model procs --set iterations=300000 --set variant=$v --json --check
    check "procs $v: exact" test "$(jqv .results.counter_final)" = 1200000
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
"$CONCVIZ" run cpu-primes --model procs --json >"$TMP/kill.json" 2>"$TMP/kill.err" &
pid=$!
set -e
kill_a_worker $pid 0.3
start=$(date +%s.%N)
set +e
wait $pid
rc=$?
set -e
took=$(awk "BEGIN { print $(date +%s.%N) - $start }")
check "killed worker: exit 3" test "$rc" = 3
check "killed worker: run ends within 5 s (${took}s)" fcmp "$took < 5"
check "killed worker: one clear line" grep -Eq "^concviz: run failed: worker-[0-9] \(pid $victim\) was killed by signal 9 \(SIGKILL\) while running task [0-9]+$" "$TMP/kill.err"
OUT=$(cat "$TMP/kill.json")
check "killed worker: its task failed" test "$(jqv .tasks.failed)" = 1
check "killed worker: its lane is marked dead" test "$(jqv '[.lanes[] | select(has("dead_s"))] | length')" = 1
check "killed worker: no process left" no_children_of $pid
check "killed worker: no zombie" test -z "$(ps -eo stat,ppid | awk -v p=$pid '$1 ~ /^Z/ && $2 == p')"

# on_worker_death = continue: the rest of the pool finishes the run
sed -e 's/^workers = 2$/workers = 2\non_worker_death = continue/' "$CONCVIZ_SCENARIO_DIR/cpu-primes.ini" >"$TMP/survive.ini"
set +e
"$CONCVIZ" run "$TMP/survive.ini" --model procs --set repeat=12 --json >"$TMP/survive.json" 2>"$TMP/survive.err" &
pid=$!
set -e
kill_a_worker $pid 0.2
set +e
wait $pid
rc=$?
set -e
OUT=$(cat "$TMP/survive.json")
check "continue: exit 0" test "$rc" = 0
check "continue: the death is reported as a warning" grep -q "^concviz: warning: worker-[0-9] (pid $victim) was killed by signal 9" "$TMP/survive.err"
check "continue: one task failed, every other completed" \
    test "$(jqv '.tasks.failed + .tasks.completed')" = "$(jqv .tasks.submitted)" -a "$(jqv .tasks.failed)" = 1
check "continue: state done" test "$(jqv .state)" = done

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

#!/usr/bin/env bash
# concviz trace -- PROGRAM: a real threaded C program (progs/trace_prog.c, built here) traced
# through the preloaded library. Its counts are known exactly: each lock's acquisitions, the
# threads, the processes; the program's exit status is concviz's; a program that cannot be run
# is exit 127 in one line; --json keeps stdout for the JSON; --expect/--check judge the summary;
# a Chrome export is valid; the live view (virtual screen) shows the program's lock by its name.
. "$(dirname "$0")/lib.sh"
RUN_TIMEOUT=120

PROG="$TMP/trace_prog"
cc -O2 -pthread -o "$PROG" "$BLACKBOX_DIR/progs/trace_prog.c" || {
    bad "the test program does not build"
    finish
}

# ---------------------------------------------------------------- a lock, four threads
run_cv 0 trace --json -q -- "$PROG" race 4 50000 &&
    check "race: a summary of model trace, done" \
        test "$(jqv '.model + " " + .state')" = "trace done"
check "race: the program's output went to stderr, stdout is the JSON" \
    test "$ERR" = "counter 200000"
check "race: counter_lock named by its symbol, acquired exactly 200000 times ($(jqc '[.locks[] | [.name, .acquisitions]]'))" \
    test "$(jqc '[.locks[] | select(.name == "counter_lock") | .acquisitions]')" = "[200000]"
check "race: five threads traced, each a lane that ran and ended" \
    test "$(jqv '[.results.threads_traced, (.lanes | length), .tasks.completed] | map(tostring) | join(" ")')" = "5 5 5"
check "race: no event lost" test "$(jqv '.events.dropped')" = 0
stop_if_all_failed "race"

# ---------------------------------------------------------------- exit status, bad programs
run_cv 7 trace --headless -q -- "$PROG" exit 7 &&
    check "exit status: the program's (7)" true
run_cv 127 trace --json -- no-such-program-here &&
    check "a program not in PATH: exit 127, one line naming it" \
        test "$ERR" = "concviz: cannot run 'no-such-program-here': not found in PATH"
run_cv 127 trace --json -- "$TMP/nothing" &&
    check "a path that is not there: exit 127, one line" \
        eval '[[ "$ERR" == "concviz: cannot run '"'$TMP/nothing'"': No such file or directory" ]]'
run_cv 2 trace --json &&
    check "no program: a usage error" eval '[[ "$ERR" == *"trace needs a program"* ]]'
run_cv 2 trace '-+^' &&
    check "an option character that is the scan's mode ('+'): named, one line" \
        test "$ERR" = "concviz: unknown option character '+' (see 'concviz trace --help')"
run_cv 2 trace --bogus -- true &&
    check "an unknown option: a usage error naming it" eval '[[ "$ERR" == *"--bogus"* ]]'

# ---------------------------------------------------------------- timed lock, condition, semaphore
run_cv 0 trace --json -q -- "$PROG" timed &&
    check "timedlock that times out: one acquisition, no waiter left, the lock free at the end" \
        test "$(jqc '[.locks[] | select(.name == "counter_lock") | .acquisitions, .contended]')" = "[1,0]"
check "timedlock: the program saw the timeout" test "$ERR" = "timedlock timed out"

# what a lane waits in: the thread holding the lock sleeps, the main thread joins it (its
# timed lock gave up at 0.15 s): a replay's lane details at 0.2 s name both calls
run_cv 0 trace --headless -q --record "$TMP/timed.cvr" -- "$PROG" timed
for lane in 0 1; do
    keys=("key g" "type 0.2" "key Enter")
    [ "$lane" = 1 ] && keys+=("key j")
    printf '%s\n' "${keys[@]}" "key Enter" "snapshot $TMP/timed-$lane.txt" "key q" "key q" >"$TMP/timed.script"
    run_cv 0 replay "$TMP/timed.cvr" --no-color --script "$TMP/timed.script" --size 120x40
done
check "lane details: the main thread is in pthread_join, the other in sleep" \
    eval 'grep -q "^ *in pthread_join" "$TMP/timed-0.txt" && grep -q "^ *in sleep" "$TMP/timed-1.txt"'

run_cv 0 trace --json -q -- "$PROG" cond 2000 &&
    waits=$(sed -n 's/^items 2000 waits \([0-9]*\)$/\1/p' <<<"$ERR") &&
    check "condition: qmu acquired 2 x 2000 + waits ($waits) times, each wait giving it back" \
        test "$(jqv '[.locks[] | select(.name == "qmu") | .acquisitions] | .[0]')" = $((4000 + waits))

run_cv 0 trace --json -q -- "$PROG" sem 3000 &&
    check "semaphores: ping and pong each acquired 3000 times, kind semaphore" \
        test "$(jqc '[.locks[] | select(.name == "ping" or .name == "pong") | [.kind, .acquisitions]] | unique')" = '[["semaphore",3000]]'

# ---------------------------------------------------------------- processes
run_cv 0 trace --json -q -- "$PROG" fork &&
    check "fork: two processes, each its own counter_lock (1000 each), the child's named with its pid" \
        test "$(jqv '[.results.processes, ([.locks[] | select(.name | startswith("counter_lock")) | .acquisitions] | add), ([.locks[] | select(.name | test("^counter_lock:[0-9]+$"))] | length)] | map(tostring) | join(" ")')" = "2 2000 1"

# each process a group of lanes: the lanes carry their pid (JSON, replay, Chrome export, view)
run_cv 0 trace --json -q --record "$TMP/fork.cvr" -- "$PROG" fork &&
    check "fork: each lane carries its process's pid, two pids, the first the program's" \
        test "$(jqv '[.lanes[].pid] | unique | length')" = 2
live_pids=$(jqc '[.lanes[] | [.name, .pid]]')
run_cv 0 replay "$TMP/fork.cvr" --json &&
    check "fork: the replay's lanes carry the same pids ($live_pids)" \
        test "$(jqc '[.lanes[] | [.name, .pid]]')" = "$live_pids"
run_cv 0 export "$TMP/fork.cvr" --format chrome -o "$TMP/fork.json" &&
    check "fork: the Chrome trace puts each thread in its real process, each process named" \
        eval 'valid_trace "$TMP/fork.json" &&
            pids=$(jq -c "[.[][1]] | unique" <<<"$live_pids") &&
            test "$(jq -c "[.traceEvents[] | select(.name == \"thread_name\") | .pid] | unique" "$TMP/fork.json")" = "$pids" &&
            test "$(jq -c "[.traceEvents[] | select(.name == \"process_name\") | .pid] | sort" "$TMP/fork.json")" = "$pids"'
printf '%s\n' "key g" "type 0" "key Enter" "snapshot $TMP/fork-view.txt" "key q" "key q" >"$TMP/fork.script"
run_cv 0 replay "$TMP/fork.cvr" --no-color --script "$TMP/fork.script" --size 120x30 &&
    check "fork: the lanes panel shows each thread's pid" \
        eval 'for p in $(jq -r ".[][1]" <<<"$live_pids"); do grep -q "^trace_prog:[0-9]* *$p\$" "$TMP/fork-view.txt" || exit 1; done'

# threads that cannot record their own end: they end with their process
run_cv 0 trace --json -q -- "$PROG" killed &&
    check "a child killed with two threads: its lanes end with it (3 of 3 done, 2 given their end)" \
        test "$(jqv '[.tasks.submitted, .tasks.completed, .results.threads_ended_with_process, ([.lanes[].pid] | unique | length)] | map(tostring) | join(" ")')" = "3 3 2 2"
run_cv 0 trace --json -q -- "$PROG" exitthreads &&
    check "exit() while two threads sleep: they end with the process (3 of 3 done)" \
        test "$(jqv '[.tasks.completed, .results.threads_ended_with_process] | map(tostring) | join(" ")')" = "3 2"
run_cv 0 trace --json -q -- "$PROG" execthreads &&
    check "execvp while a thread sleeps: both threads of the old image end, the new image is a lane of the same pid" \
        test "$(jqv '[.tasks.submitted, .tasks.completed, .results.threads_ended_with_process, ([.lanes[].pid] | unique | length)] | map(tostring) | join(" ")')" = "3 3 2 1"
run_cv 0 trace --json -q -- bash -c 'sleep 0.3; true' &&
    check "a shell waiting for its command: the wait is a wait (waitpid), not running ($(jqc '[.lanes[0] | .io_s, .running_s]'))" \
        test "$(jqv '.lanes[0] | .io_s > 0.2 and .running_s < 0.2')" = true

# ---------------------------------------------------------------- expectations
run_cv 0 trace --json --check -q --expect 'locks.counter_lock.acquisitions == 4000' \
    --expect 'results.exit_status == 0' -- "$PROG" race 2 2000 &&
    check "--expect, --check: both hold, exit 0" \
        test "$(jqc '[.expectations[] | .ok]')" = "[true,true]"
run_cv 1 trace --json --check -q --expect 'locks.counter_lock.acquisitions == 1' -- "$PROG" race 2 2000 &&
    check "--check: a failed expectation is exit 1" test "$(jqc '[.expectations[] | .ok]')" = "[false]"
run_cv 2 trace --json --expect 'locks.x ==' -- "$PROG" exit 0 &&
    check "--expect that does not parse: a usage error naming --expect" \
        eval '[[ "$ERR" == "concviz: --expect: "* ]]'

# ---------------------------------------------------------------- recording, replay
# threads appear after the recording's header: they are declared as they come (and checkpoints
# taken before some existed still restore)
CONCVIZ_CHECKPOINT_EVENTS=2000 run_cv 0 trace --json -q --record "$TMP/t.cvr" -- "$PROG" race 3 5000 &&
    live=$(jqc '[(.lanes | length), ([.locks[] | [.name, .acquisitions]])]')
run_cv 0 replay "$TMP/t.cvr" --json &&
    check "replay: the same lanes and lock counts as the live summary ($live)" \
        test "$(jqc '[(.lanes | length), ([.locks[] | [.name, .acquisitions]])]')" = "$live"
check "replay: the lanes carry the program's thread names" \
    test "$(jqv '[.lanes[] | select(.name | startswith("trace_prog:"))] | length')" = 4
run_cv 0 export "$TMP/t.cvr" --format svg -o "$TMP/t.svg" &&
    check "export: the trace as SVG, well-formed, a row for each thread" \
        eval 'xmllint --noout "$TMP/t.svg" && test "$(grep -o "trace_prog:[0-9]*" "$TMP/t.svg" | sort -u | wc -l)" = 4'
run_cv 0 export "$TMP/t.cvr" --format csv &&
    check "export: the trace as CSV, every acquisition a row (lock.acquire, or lock.pair and lock.held for an uncontended one)" \
        test "$(grep -cE ",lock\.(acquire|pair|held)," <<<"$OUT")" = 15000
check "export: uncontended holds are one lock.pair row each, their release in it (releases and pairs: 15000)" \
    eval 'test "$(grep -c ",lock\.pair," <<<"$OUT")" -gt 0 && test "$(grep -cE ",lock\.(release|pair)," <<<"$OUT")" = 15000'
printf '%s\n' "key End" "key Home" "key l" "key l" "snapshot $TMP/replay.txt" "key q" >"$TMP/replay.script"
run_cv 0 replay "$TMP/t.cvr" --no-color --script "$TMP/replay.script" --size 120x40 &&
    check "replay view: seeks over checkpoints from before the threads existed" \
        grep -q "counter_lock" "$TMP/replay.txt"

# ---------------------------------------------------------------- export, live view
run_cv 0 trace --headless -q --export-chrome "$TMP/t.json" -- "$PROG" race 2 1000 &&
    check "--export-chrome: a valid Chrome trace" valid_trace "$TMP/t.json"
printf '%s\n' "wait done" "snapshot $TMP/live.txt" "key q" >"$TMP/live.script"
run_cv 0 trace --no-color --script "$TMP/live.script" --size 120x40 -- "$PROG" race 3 1000 &&
    check "live view: the lock panel names counter_lock, the lanes the program's threads" \
        eval 'grep -q "^counter_lock" "$TMP/live.txt" && grep -q "trace_prog:" "$TMP/live.txt"'
check "live view: the program's output printed once the view closed" \
    eval '[[ "$OUT" == *"counter 3000"* ]]'
printf '%s\n' "wait done" "key m" "snapshot $TMP/keys-m.txt" "key ?" "snapshot $TMP/keys-help.txt" \
    "key q" "key q" >"$TMP/keys.script"
run_cv 0 trace --no-color --script "$TMP/keys.script" --size 120x40 -- "$PROG" race 2 100 &&
    check "live view: a trace's keys (no model, workers or compare: m says why; the help and bar fit a program)" \
        eval 'grep -q "a trace shows the program as it runs: it has no model or workers" "$TMP/keys-m.txt" &&
            grep -q "run the program again" "$TMP/keys-help.txt" && ! grep -q "compare" "$TMP/keys-help.txt"'

# ---------------------------------------------------------------- real CPython 3.11 (Debian's)
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
SCEN_PY="$(cd "$BLACKBOX_DIR/../.." && pwd)/scenarios/python"
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    skip "CPython's GIL: no python3 3.11 here (Debian 12's is; make deps installs it)"
else
    run_cv 0 trace --json -q -- "$PY" "$SCEN_PY/cpu_threads.py" 2 &&
        check "python: the GIL is an object of kind gil, handed over between the threads ($(jqc '[.locks[] | select(.kind == "gil") | .name, .handoffs]'))" \
            test "$(jqv '[.locks[] | select(.kind == "gil" and .name == "GIL" and .handoffs > 0)] | length')" = 1
    check "python: lanes carry Python's thread names, each spinning thread waited for the GIL" \
        test "$(jqc '[.lanes[] | select(.name | test("^(MainThread|spin-[12])$")) | [.name, .gil_wait_s > 0]]')" = '[["MainThread",true],["spin-1",true],["spin-2",true]]'
    check "python: the version is in the results, the GIL seen" \
        test "$(jqv '.results.python[0:5] + " " + .results.gil + " " + (.gil | tostring)')" = "3.11. seen true"
    run_cv 0 trace --json -q -- "$PY" "$SCEN_PY/counter_race.py" --lock --iterations 20000 &&
        check "python: a threading.Lock is one object, acquired exactly 4 x 20000 times" \
            test "$(jqc '[.locks[] | select(.acquisitions == 80000) | .kind]')" = '["semaphore"]'
    check "python: the program counted every increment" test "$ERR" = "counter 80000 of 80000"
    printf 'import threading\nt = threading.Thread(target=print)\nt.start()\nt.join()\n' >"$TMP/named.py"
    run_cv 0 trace --json -q --record "$TMP/py.cvr" -- "$PY" "$TMP/named.py" &&
        run_cv 0 replay "$TMP/py.cvr" --json &&
        check "python: a thread's own name, spaces and all, live and replayed ($(jqc '[.lanes[].name]'))" \
            test "$(jqc '[.lanes[].name]')" = '["MainThread","Thread-1 (print)"]'
    # every program shipped for the articles runs traced, and computes what it computes untraced
    run_cv 0 trace --json -q --serve -- "$PY" "$SCEN_PY/io_threads.py" &&
        check "io_threads.py with --serve: 20 of 20 answered, 21 threads, each request waited on ($ERR)" \
            eval '[[ "$ERR" == "20 of 20 requests answered 200 in "* ]] &&
                test "$(jqv ".results.threads_traced")" = 21'
    run_cv 0 trace --json -q -- "$PY" "$SCEN_PY/process_primes.py" &&
        check "process_primes.py: three processes (two workers), a GIL each, the same primes" \
            eval 'test "$ERR" = "$("$PY" "$SCEN_PY/process_primes.py")" &&
                test "$(jqv "[.results.processes, ([.locks[] | select(.kind == \"gil\")] | length)] | map(tostring) | join(\" \")")" = "3 3"'
    check "process_primes.py: each worker's lane keeps the forking thread's Python name, with its own pid ($(jqc '[.lanes[] | [.name, .pid]]'))" \
        test "$(jqv '[.lanes[] | select(.name == "MainThread") | .pid] | unique | length')" = 3
    run_cv 0 trace --json -q -- "$PY" "$SCEN_PY/asyncio_gather.py" &&
        check "asyncio_gather.py: ten tasks, one thread (tasks are not lanes)" \
            eval '[[ "$ERR" == "10 tasks in "* ]] && test "$(jqv ".results.threads_traced")" = 1'
    run_cv 0 trace --json -q -- "$PY" "$SCEN_PY/queue_pipeline.py" &&
        check "queue_pipeline.py: every item consumed, the lanes named producer, consumer-1, consumer-2" \
            eval 'test "$ERR" = "200 of 200 items consumed" &&
                test "$(jqc "[.lanes[].name] | sort")" = "[\"MainThread\",\"consumer-1\",\"consumer-2\",\"producer\"]"'
    run_cv 0 trace --json -q -- "$PY" "$SCEN_PY/counter_race.py" --iterations 100000 &&
        check "counter_race.py: CPython 3.11 loses no update of a bare counter += 1 ($ERR)" \
            test "$ERR" = "counter 400000 of 400000"
fi
run_cv 0 list &&
    check "list: the Python programs too" eval '[[ "$OUT" == *"io_threads.py "*"--serve"* ]]'

# ---------------------------------------------------------------- limits
run_cv 0 trace --json -q --max-threads 2 -- "$PROG" race 4 1000 &&
    check "--max-threads 2: two threads traced, three counted as not traced" \
        test "$(jqv '[.results.threads_traced, .results.threads_untraced, (.lanes | length)] | map(tostring) | join(" ")')" = "2 3 2"
if cc -static -O2 -pthread -o "$TMP/static_prog" "$BLACKBOX_DIR/progs/trace_prog.c" 2>/dev/null; then
    run_cv 0 trace --json -q -- "$TMP/static_prog" race 2 1000 &&
        check "a static program: one warning saying why it is not traced, and it runs" \
            eval '[[ "$ERR" == *"is statically linked: the loader does not preload"*"counter 2000" ]] &&
                test "$(jqv ".results.threads_traced")" = 0'
else
    skip "a static program: no static C library to build one"
fi
# programs that make tracing hard: they must run as they do untraced, and the trace go on
run_cv 0 trace --json -q -- "$PROG" closefds &&
    check "a program that closes every descriptor: traced all the same (counter_lock 2000)" \
        eval 'test "$ERR" = "counter 2000" &&
            test "$(jqv "[.locks[] | select(.name == \"counter_lock\") | .acquisitions] | .[0]")" = 2000'
run_cv 0 trace --json -q -- "$PROG" forkthreads &&
    check "fork while four threads race: the child runs (its own lock, 100 times), nothing hangs" \
        eval 'test "$ERR" = "counter 800000 child 0" &&
            test "$(jqv "[.locks[] | select(.name | startswith(\"child_lock:\")) | .acquisitions] | .[0]")" = 100'
run_cv 0 trace --json -q -- "$PROG" unpreload &&
    check "a program that clears LD_PRELOAD and execs: what it execs runs untraced" \
        eval 'test "$ERR" = "counter 2000" && test "$(jqv ".results.threads_traced")" = 1'
run_cv 0 trace --json -q --ring-size 64 -- "$PROG" race 2 20000 &&
    check "a ring too small: the events lost are counted ($(jqv '.events.dropped')), the program unharmed" \
        eval 'test "$ERR" = "counter 40000" && test "$(jqv ".events.dropped > 0")" = true'

# Ctrl-C: the program gets SIGINT (a Python program its KeyboardInterrupt), concviz exits 130
printf 'import time\nwhile True:\n    time.sleep(0.05)\n' >"$TMP/forever.py"
if [ -n "$PY" ]; then
    "$CONCVIZ" trace --headless -q -- "$PY" "$TMP/forever.py" >"$TMP/int.out" 2>"$TMP/int.err" &
    pid=$!
    sleep 1
    kill -INT "$pid"
    reap "$pid"
    check "SIGINT: exit 130, the program got it (KeyboardInterrupt), its status reported ($(grep -c KeyboardInterrupt "$TMP/int.err"))" \
        eval 'test "$rc" = 130 && grep -q KeyboardInterrupt "$TMP/int.err" && grep -q "exit_signal *INT" "$TMP/int.out"'
fi

# SIGTERM to concviz: the program gets SIGTERM (not a SIGINT first), its status reported
printf 'trap "exit 3" TERM\ntrap "exit 4" INT\nwhile :; do sleep 0.05; done\n' >"$TMP/traps.sh"
for sig in TERM INT; do
    "$CONCVIZ" trace --json -q -- bash "$TMP/traps.sh" >"$TMP/sig.out" 2>"$TMP/sig.err" &
    pid=$!
    sleep 1
    kill -"$sig" "$pid"
    reap "$pid"
    want=$([ "$sig" = TERM ] && echo 3 || echo 4)
    check "SIG$sig to concviz: the program got SIG$sig (exit status $want), concviz exits 130" \
        eval 'test "$rc" = 130 && test "$(jq -r .results.exit_status "$TMP/sig.out")" = "$want"'
done

finish

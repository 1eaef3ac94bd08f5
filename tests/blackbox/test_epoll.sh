#!/usr/bin/env bash
# epoll: one OS thread runs every task as a coroutine; waits overlap; the loop lane shows its
# time in epoll_wait; no update is lost without an await; Ctrl-C ends it at once.
. "$(dirname "$0")/lib.sh"

run_cv 0 run gather-sleep --model epoll --json --check
check "one OS thread" test "$(jqv .runtime.os_threads)" = 1
check "waits overlap: wall about the longest sleep" fcmp "$(jqv .wall_s) < 2.4"
check "the fast task completes first" test "$(jqv .completion_order[0])" = 1
check "a lane per task plus the loop" test "$(jqc '[.lanes[].name]')" = '["loop","task-0","task-1"]'
check "the loop waits in epoll most of the time" fcmp "$(jqv '.lanes[0].idle_s') > 1.9"

# (no --check: the scenario's fast_first needs the 300 tasks started within 1 ms of each other,
# which a sanitized build on a busy machine does not promise; overlap is the point here)
run_cv 0 run gather-sleep --model epoll --set sleeps_ms=$(seq -s, 300 -1 1) --json
check "300 sleeping tasks on one thread" test "$(jqv .tasks.completed)" = 300
check "300 sleeps overlap (wall < 3 s, against 45 s of sleeps in all)" fcmp "$(jqv .wall_s) < 3"
check "in flight at once: 300" test "$(jqv .inflight_max)" = 300

run_cv 0 run counter-race --model epoll --set iterations=100000 --json --check
check "no await between read and write: nothing lost" test "$(jqv .results.lost_updates)" = 0

run_cv 0 run pipeline --model epoll --set items=30 --set consume_ms=5 --json --check
check "queues between coroutines: all consumed" test "$(jqv .results.consumed)" = 60

set +e
"$CONCVIZ" run gather-sleep --model epoll --set sleeps_ms=30000,30000 --json >"$TMP/int.json" 2>/dev/null &
pid=$!
sleep 0.4
kill -INT $pid
start=$(date +%s.%N)
wait $pid
rc=$?
set -e
check "Ctrl-C: exit 130" test "$rc" = 130
check "Ctrl-C: within 2 s" fcmp "$(date +%s.%N) - $start < 2"
OUT=$(cat "$TMP/int.json")
check "Ctrl-C: both tasks cancelled" test "$(jqv .tasks.cancelled)" = 2
# hybrid: the loop plus an executor keeps the loop responsive; plain epoll is blocked
run_cv 0 run hybrid-offload --model epoll --set rounds=1 --json --check
blocked=$(jqv .results.max_lateness_ms)
run_cv 0 run hybrid-offload --model hybrid --set rounds=1 --json --check
free=$(jqv .results.max_lateness_ms)
echo "# ticker lateness: epoll ${blocked} ms, hybrid ${free} ms"
check "epoll: CPU work on the loop delays the tickers by about its length" fcmp "$blocked >= 160"
check "hybrid: the loop stays responsive" fcmp "$free < 100"
check "hybrid: the executor's lanes did the work" \
    fcmp "$(jqv '[.lanes[] | select(.name | startswith("offload")) | .running_s] | add') >= 0.7"
check "hybrid: loop + 2 executor threads" test "$(jqv .runtime.os_threads)" = 3
# hybrid with an executor of processes (ProcessPoolExecutor): same responsiveness, the work's
# argument and result cross pipes and are counted
run_cv 0 run hybrid-offload --model hybrid --set offload=procs --set rounds=1 --json --check
check "hybrid procs: the loop stays responsive" fcmp "$(jqv .results.max_lateness_ms) < 100"
check "hybrid procs: the executor's lanes did the work" \
    fcmp "$(jqv '[.lanes[] | select(.name | startswith("offload")) | .running_s] | add') >= 0.7"
check "hybrid procs: loop + 2 executor processes" test "$(jqv .runtime.os_processes)" = 3
check "hybrid procs: bytes copied counted" fcmp "$(jqv .results.bytes_copied) > 0"
# an executor process killed mid-run: one clear line, exit 3, nothing left behind
"$CONCVIZ" run hybrid-offload --model hybrid --set offload=procs --set rounds=20 --json \
    >"$TMP/xk.json" 2>"$TMP/xk.err" &
pid=$!
child_named $pid cv:offload-1 || true
sleep 0.5
signal_victim KILL
reap $pid
check "hybrid procs: killed executor: exit 3" test "$rc" = 3
check "hybrid procs: killed executor: ends within 5 s" fcmp "$took < 5"
check "hybrid procs: killed executor: one clear line" grep -Eq \
    "^concviz: run failed: offload-1 \(pid $victim\) was killed by signal 9 \(SIGKILL\) while running work for task [0-9]+$" \
    "$TMP/xk.err"
check "hybrid procs: killed executor: no child left" bash -c "! pgrep -P $pid"
# file I/O holds pointers: a process executor refuses it clearly
run_cv 2 run file-io --model hybrid --set offload=procs --set files=4
check "hybrid procs: file I/O refused with a clear line" grep -q \
    "cannot be sent to an executor process; use --set offload=threads" <<<"$ERR"
run_cv 0 run block-the-loop --model epoll --set ticks=10 --set block_ms=200 --json --check
check "block-the-loop: lateness about the blocking time" fcmp "$(jqv .results.max_lateness_ms) >= 160"
run_cv 0 run retry-backoff --model epoll --set backoff_ms=20 --json --check
check "retries counted on the timeline" test "$(jqv .tasks.retried)" = 18
finish

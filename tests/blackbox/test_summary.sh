#!/usr/bin/env bash
# The JSON summary carries every stable key; --check turns a failed expectation into exit 1;
# Ctrl-C stops the run, still prints the summary, and exits 130.
. "$(dirname "$0")/lib.sh"

run_cv 0 run gather-sleep --set sleeps_ms=100,50 --json
for k in schema scenario model workers gil params wall_s cpu_s runtime tasks completion_order \
    inflight_max lanes locks queues results events expectations errors; do
    check "summary has '$k'" test "$(jqv "has(\"$k\")")" = true
done
check "schema is concviz.summary/1" test "$(jqv .schema)" = concviz.summary/1
check "runtime keys" test "$(jqv '.runtime | has("os_threads") and has("os_processes") and has("peak_rss_kb")')" = true
check "task keys" test "$(jqv '.tasks | [has("submitted","completed","failed","cancelled","timed_out","retried")] | all')" = true
check "lane keys" test "$(jqv '.lanes[0] | [has("name","tasks","running_s","io_s","lock_wait_s","queue_wait_s","sem_wait_s","gil_wait_s","barrier_s","idle_s")] | all')" = true
check "events keys" test "$(jqv '.events | has("recorded") and has("dropped")')" = true
check "expectations listed with expr, ok, actual" test "$(jqv '.expectations[0] | [has("expr","ok","actual")] | all')" = true

# an expectation that fails: exit 1 with --check, 0 without
sed -e 's/^all_done = .*/all_done = tasks.completed == 99/' "$CONCVIZ_SCENARIO_DIR/gather-sleep.ini" >"$TMP/strict.ini"
run_cv 1 run "$TMP/strict.ini" --set sleeps_ms=10,5 --check && ok "failed expectation exits 1 with --check"
check "the failure is named" grep -q "1 expectation failed" "$TMP/err"
check "the summary marks it FAIL" grep -q "FAIL all_done" "$TMP/out"
run_cv 0 run "$TMP/strict.ini" --set sleeps_ms=10,5 &&
    check "without --check the exit is 0, the failure still shown" grep -q "FAIL all_done" "$TMP/out"

# SIGINT: stops waits at once, prints a valid summary, exits 130
"$CONCVIZ" run gather-sleep --set sleeps_ms=20000,20000 --json >"$TMP/int.json" 2>"$TMP/int.err" &
pid=$!
sleep 0.5
kill -INT $pid
reap $pid
check "SIGINT exits 130" test "$rc" = 130
check "SIGINT ends the run within 5 s" fcmp "$took <= 5"
OUT=$(cat "$TMP/int.json")
check "interrupted summary is valid JSON with state stopped" test "$(jqv .state)" = stopped
check "interrupted tasks counted as cancelled" test "$(jqv .tasks.cancelled)" = 2
# SIGINT during a long setup (800 MiB of buffers to fill before the first task): the run
# stops as soon as it exists, instead of losing the first Ctrl-C and running to its end. Where
# the signal lands after the setup, the same holds.
"$CONCVIZ" run compress --model serial --set buffers=100 --set size_kb=8192 --json -q \
    >"$TMP/setup.json" 2>"$TMP/setup.err" &
pid=$!
sleep 0.2
kill -INT $pid
reap $pid
check "SIGINT during setup: exits 130" test "$rc" = 130
check "SIGINT during setup: stopped, not every buffer done" \
    test "$(jq -r '.state + " " + (.tasks.completed < 100 | tostring)' "$TMP/setup.json")" = "stopped true"
# the monotonic fallback clock (CPUs without an invariant TSC) gives the same lesson
CONCVIZ_CLOCK=monotonic run_cv 0 run gather-sleep --set sleeps_ms=300,100 --json --check
check "CONCVIZ_CLOCK=monotonic is used" test "$(jqv .runtime.clock)" = monotonic
check "monotonic clock: lane I/O time matches the sleeps" fcmp "$(jqv '[.lanes[].io_s] | add') >= 0.39"

# runtime failures exit 3 with one line: no memory for the shared mapping; no thread for a
# worker (which must not be reported as an interruption)
# (not under a sanitizer: its shadow memory needs more address space than these limits leave)
if [ -n "$SANITIZER" ]; then
    skip "address-space limits: not under the $SANITIZER sanitizer"
else
    (ulimit -v 60000; "$CONCVIZ" run gather-sleep >"$TMP/out" 2>"$TMP/err") && RC=0 || RC=$?
    check "mmap failure exits 3" test "$RC" = 3
    check "mmap failure: one line" test "$(wc -l <"$TMP/err")" = 1
    check "mmap failure is named" grep -q "out of memory: cannot map .* MB for the rings and shared objects" "$TMP/err"
    (ulimit -v 200000; "$CONCVIZ" run gather-sleep --ring-size 64 --workers 200 >"$TMP/out" 2>"$TMP/err") && RC=0 || RC=$?
    check "thread failure exits 3" test "$RC" = 3
    check "thread failure is named" grep -q "run failed: cannot start worker thread" "$TMP/err"
fi
finish

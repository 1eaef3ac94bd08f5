#!/usr/bin/env bash
# semaphore and c10k: a limit holds exactly; 10,000 requests in flight on one thread.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "10,000 requests in flight within the test's time"

for m in threads epoll; do
    run_cv 0 run semaphore --model $m --json --check
    check "$m: semaphore(10) over 100 requests: exactly 10 in flight at most" test "$(jqv .results.in_flight_max)" = 10
    check "$m: all 100 answered" test "$(jqv .results.ok)" = 100
done

run_cv 0 run c10k --model epoll --json --check
check "epoll: 10,000 requests in flight at once" test "$(jqv .results.in_flight_max)" = 10000
check "epoll: all complete, no errors" test "$(jqv '.results.ok, .tasks.failed' | tr '\n' ' ')" = "10000 0 "
check "epoll: one engine thread" test "$(jqv .runtime.os_threads)" = 1
check "epoll: memory per in-flight task reported" fcmp "$(jqv .runtime.memory_per_inflight_kb) > 0"
echo "# epoll: $(jqv .wall_s) s, $(jqv .runtime.memory_per_inflight_kb) KB per in-flight task"

# asking for more sockets than the hard limit allows: a clear error naming what they are for and
# how many requests would fit, exit 3 (test_resources follows such advice). The limits are
# lowered in this shell, whose run_cv then counts its failure: nothing runs after it.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 1024 ]; then
    ulimit -Sn 1024
    ulimit -Hn 1024
    run_cv 3 run c10k --model epoll --set requests=5000 || true
    check "fd limit too low: says so" grep -Eq "c10k under epoll needs about [0-9]+ open files at once \(5000 for connections, [0-9]+ for concviz itself\) but the limit is 1024 .*; use --set requests=[0-9]+ or fewer$" "$TMP/err"
    # the figures add up: connections plus concviz's own, and the advice leaves room for its own
    # (how many concviz holds depends on what the shell passed on, so no fixed number)
    own=$(sed -nE 's/.*, ([0-9]+) for concviz itself.*/\1/p' "$TMP/err")
    need=$(sed -nE 's/.*needs about ([0-9]+) open files.*/\1/p' "$TMP/err")
    fit=$(sed -nE 's/.*use --set requests=([0-9]+) or fewer$/\1/p' "$TMP/err")
    check "fd limit too low: the figures add up ($need = 5000 + $own; advice $fit)" \
        test "${need:-x}" = "$((5000 + ${own:-0}))" -a "${fit:-9999}" -le "$((1024 - ${own:-0}))" -a "${fit:-0}" -gt 0
else
    skip "fd limit too low: the hard open-file limit ($hard) is below the 1024 this case sets"
fi
finish

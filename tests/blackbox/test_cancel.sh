#!/usr/bin/env bash
# Timeouts, cancellation and task groups, with Python's semantics per model.
. "$(dirname "$0")/lib.sh"

run_cv 0 run timeout-cancel --model threads --json --check
check "threads: the two running tasks timed out" test "$(jqv .tasks.timed_out)" = 2
check "threads: the two queued ones were cancelled before starting" test "$(jqv .tasks.cancelled)" = 2
check "threads: the running ones ran on to the end" test "$(jqv .tasks.completed)" = 2
check "threads: so the run lasts the long tasks" fcmp "$(jqv .wall_s) >= 1.45"

run_cv 0 run timeout-cancel --model epoll --json --check
check "epoll: two timed out" test "$(jqv .tasks.timed_out)" = 2
check "epoll: and were cancelled at their await" test "$(jqv .tasks.cancelled)" = 2
check "epoll: over at the timeout" fcmp "$(jqv .wall_s) < 1.4"
check "epoll: the cancelled lanes stopped waiting early" fcmp "$(jqv '[.lanes[1:][] | .io_s] | max') < 1.4"

run_cv 0 run taskgroup-fail --model epoll --json --check
check "taskgroup on epoll: siblings cancelled" test "$(jqv '.tasks.cancelled, .tasks.failed, .tasks.completed' | tr '\n' ' ')" = "5 1 0 "
run_cv 0 run taskgroup-fail --model threads --json --check
check "taskgroup on threads: queued cancelled, running run on" test "$(jqv '.tasks.cancelled, .tasks.completed' | tr '\n' ' ')" = "3 2 "
for m in threads epoll; do
    run_cv 0 run taskgroup-fail --model $m --set mode=gather --json --check
    check "gather on $m: all others complete, one error" test "$(jqv '.tasks.completed, .tasks.failed' | tr '\n' ' ')" = "5 1 "
done
finish

#!/usr/bin/env bash
# gather-sleep: threads finish in about the longest sleep and the fast task completes first;
# serial takes the sum.
. "$(dirname "$0")/lib.sh"

run_cv 0 run gather-sleep --json --check
check "threads: wall about the longest sleep (< 2.4 s)" fcmp "$(jqv .wall_s) < 2.4"
check "threads: wall at least the longest sleep" fcmp "$(jqv .wall_s) >= 1.99"
check "threads: the fast task (1) completes first" test "$(jqv .completion_order[0])" = 1
check "threads: both lanes waited in I/O" fcmp "$(jqv '[.lanes[].io_s] | add') >= 2.4"
run_cv 0 run gather-sleep --model serial --json --check
check "serial: wall is the sum (>= 2.5 s)" fcmp "$(jqv .wall_s) >= 2.49"
check "serial: completion order follows submission" test "$(jqc .completion_order)" = "[0,1]"
finish

#!/usr/bin/env bash
# I/O through the embedded server: 20 x /delay/200 sequential vs threads vs epoll; completion
# order vs input order; the server process never outlives the run.
. "$(dirname "$0")/lib.sh"

args=(--set delays_ms=200 --set requests=20 --json --check)
run_cv 0 run io-vs-sequential --model serial "${args[@]}"
check "serial: at least 3.8 s" fcmp "$(jqv .wall_s) >= 3.8"
run_cv 0 run io-vs-sequential --model threads --workers 20 "${args[@]}"
check "threads x20: under 0.8 s" fcmp "$(jqv .wall_s) < 0.8"
check "threads: all 200" test "$(jqv .results.ok)" = 20
run_cv 0 run io-vs-sequential --model epoll "${args[@]}"
check "epoll: under 0.8 s" fcmp "$(jqv .wall_s) < 0.8"
check "epoll: one engine thread (the server's are not counted)" test "$(jqv .runtime.os_threads)" = 1
check "epoll: lanes show the HTTP waits as I/O" fcmp "$(jqv '[.lanes[1:][].io_s] | min') >= 0.19"

for m in threads epoll; do
    run_cv 0 run io-fetch --model $m --json --check
    check "$m: the 100 ms request completes first" test "$(jqv .completion_order[0])" = 3
    check "$m: answers kept in input order" test "$(jqc .results.answers_ms)" = "[800,200,600,100,400,300,700,500]"
done

# errors from the server are answers, not failures of the run: /status/503
run_cv 0 run io-fetch --model epoll --set url=http://local/status/503 --set requests=3 --json
check "503 answers are counted as not ok" test "$(jqv .results.ok)" = 0
check "and the run still completes" test "$(jqv .state)" = done

# a URL nobody listens on fails the tasks with curl's reason, and the run goes on to the end
run_cv 0 run io-fetch --model threads --set url=http://127.0.0.1:9/ --set requests=2 --json
check "connection refused: tasks failed" test "$(jqv .tasks.failed)" = 2

# the server is a fork of the run, so it has the run's command line; only this binary's count
# (other builds may be running the same scenarios meanwhile)
check "no server process left behind" test -z "$(pgrep -f -- "^$CONCVIZ run io-" || true)"
finish

#!/usr/bin/env bash
# queue-join and daemon-join (issue 20, items 5 and 6) under each model they list: queue.Queue's
# timeouts (Full, Empty), task_done and join, counted in the summary's queues; join(timeout)
# that gives up, and daemon threads whose work is abandoned when the main thread ends.
. "$(dirname "$0")/lib.sh"

# a run that fails its expectations is tried twice more (timeouts meet a loaded machine)
run_checked() {
    for attempt in 1 2 3; do
        set +e
        "$CONCVIZ" run "$@" --check --json >"$TMP/out" 2>"$TMP/err"
        RC=$?
        set -e
        [ "$RC" != 0 ] || break
        echo "# concviz run $* --check exited $RC (try $attempt): $(jq -c '[.expectations[]? | select(.ok != true) | .name]' "$TMP/out" 2>/dev/null)"
    done
    OUT=$(cat "$TMP/out")
    # exit 0 and a summary whose expectations are there and all met
    check "$* passes --check" test "$RC" = 0 -a "$(jq -r \
        '(.expectations | length) > 0 and ([.expectations[].ok] | all)' "$TMP/out" 2>/dev/null)" = true
}

for m in threads procs epoll; do
    run_checked queue-join --model $m
    check "queue-join [$m]: puts raised Full and were retried (put_timeouts == full_retries > 0)" \
        test "$(jqv '[.queues[0].put_timeouts > 0, .queues[0].put_timeouts == .results.full_retries] | map(tostring) | join(" ")')" = "true true"
    check "queue-join [$m]: the consumer's last get raised Empty" test "$(jqv .queues[0].get_timeouts)" = 1
    check "queue-join [$m]: every item put was consumed and marked done, none unfinished" \
        test "$(jqv '[.results.items_put, .results.consumed, .results.tasks_done, .queues[0].pushed, .queues[0].popped, .queues[0].unfinished] | map(tostring) | join(" ")')" = "30 30 30 30 30 0"
    check "queue-join [$m]: the main thread waited in join once and it returned after the last task_done" \
        test "$(jqv '[.queues[0].join_waits, .queues[0].join_timeouts, .results.join_after_last_task_done, .results.unfinished_at_join] | map(tostring) | join(" ")')" = "1 0 1 0"
    check "queue-join [$m]: the main thread's join shows as a queue wait" \
        test "$(jqv '[.lanes[] | select(.name == "main-thread") | .queue_wait_s > 0.05] | map(tostring) | join(" ")')" = true

    run_checked daemon-join --model $m
    check "daemon-join [$m]: the short worker joined, the two long ones' joins timed out" \
        test "$(jqv '[.results.joined, .results.join_timeouts, (.queues[] | select(.name == "thread-2") | .join_timeouts), (.queues[] | select(.name == "thread-1") | .join_timeouts)] | map(tostring) | join(" ")')" = "1 2 1 0"
    check "daemon-join [$m]: two daemons abandoned: cancelled, not completed, and the summary says so" \
        test "$(jqv '[.results.abandoned, .results.work_completed, .tasks.completed, .tasks.cancelled, .tasks.failed, (.results.at_exit | test("abandoned, not completed"))] | map(tostring) | join(" ")')" = "2 1 2 2 0 true"
    check "daemon-join [$m]: the run ended with the main thread, not the work (wall $(jqv .wall_s) s < 1.5 s)" \
        test "$(jqv '.wall_s < 1.5 and .results.abandoned_work_s > 1')" = true
    check "daemon-join [$m]: the threads' queues hold their unfinished work" \
        test "$(jqv '[.queues[].unfinished] | map(tostring) | join(" ")')" = "0 1 1"
done

# not daemons: the program waits for them at exit, nothing is abandoned
run_checked daemon-join --set kind=normal --set work_ms=800
check "daemon-join kind=normal: every worker completed, none abandoned, the run waited for them" \
    test "$(jqv '[.results.abandoned, .results.work_completed, .tasks.completed, .tasks.cancelled, .wall_s >= 0.79] | map(tostring) | join(" ")')" = "0 3 4 0 true"

# recorded and exported: the joins that gave up are waits that say so
run_cv 0 run daemon-join --set short_ms=30 --set work_ms=300 --set join_timeout_ms=60 --headless \
    --record "$TMP/dj.cvr" &&
    run_cv 0 export "$TMP/dj.cvr" --format chrome -o "$TMP/dj.json" &&
    check "daemon-join exported: thread-1's join returned, thread-2's and thread-3's timed out" \
        test "$(jq -r '[.traceEvents[] | select(.cat == "wait" and (.name | startswith("queue join"))) | .name] | sort | join(",")' "$TMP/dj.json")" = \
        "queue join thread-1,queue join thread-2 (timed out),queue join thread-3 (timed out)"

# task_done once too many is Python's ValueError: the consumer's task fails, the count stays 0
for m in threads procs epoll; do
    run_checked queue-join --model $m --set extra_task_done=1
    check "queue-join extra_task_done=1 [$m]: one ValueError, the consumer's task failed, nothing unfinished" \
        test "$(jqv '[.results.task_done_errors, .tasks.failed, .results.tasks_done, .queues[0].unfinished, (.results.value_error | test("too many times"))] | map(tostring) | join(" ")')" = "1 1 30 0 true"
done

# a second parameter set
run_checked queue-join --set producers=1 --set consumers=2 --set items=10 --set capacity=2 --set consume_ms=30 --set put_timeout_ms=10
check "queue-join with two consumers: each ends on Empty" test "$(jqv .queues[0].get_timeouts)" = 2
finish

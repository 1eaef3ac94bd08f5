#!/usr/bin/env bash
# Event and Condition (threading.Event, threading.Condition; asyncio's under epoll): both
# scenarios pass --check under each of their models, and the summary holds the objects (kind,
# waits, sets or notifies, wakes) and each lane's wait on them; a recording replays to the same
# summary, and its Chrome trace (valid), CSV and SVG carry the waits, sets and notifies.
. "$(dirname "$0")/lib.sh"
RUN_TIMEOUT=120

for m in threads procs epoll; do
    run_cv 0 run event-stop --model "$m" --check --json || continue
    check "event-stop under $m: --check passes" \
        test "$(jqv '[.expectations[].ok] | (length > 0) and all')" = true
    check "event-stop under $m: the Event is listed, set once, its 2 waiters woken" \
        test "$(jqv '.locks[] | select(.name == "stop") | [.kind, .sets, .wakes, .waits, .timeouts] | map(tostring) | join(" ")')" = "event 1 2 2 0"
    check "event-stop under $m: each waiter's lane waited on the Event, no checker's did" \
        test "$(jqv '[.lanes[] | select(.name | startswith("waiter")) | .event_wait_s > 0] + [.lanes[] | select(.name | startswith("checker")) | .event_wait_s == 0] | all')" = true
    check "event-stop under $m: every checker stopped within a bound of the set" \
        fcmp "$(jqv .results.checkers_stopped) == 3 && $(jqv .results.stop_latency_max_ms) < 100"
    check "event-stop under $m: no checker began a unit after the set had returned" \
        test "$(jqv .results.units_after_set)" = 0

    # while not stop.wait(timeout): the timed waits run out (False) until the set (True)
    run_cv 0 run event-stop --model "$m" --set wait_timeout_ms=20 --set stop_after_ms=150 --json &&
        check "event-stop under $m: timed waits return false at their timeout, then true once set" \
            test "$(jqv '. as $s | [$s.results.waiter_timeouts >= 4, $s.results.waiters_woken == 2, ([$s.locks[] | select(.name == "stop") | .timeouts] == [$s.results.waiter_timeouts])] | all')" = true

    run_cv 0 run condition --model "$m" --check --json || continue
    check "condition under $m: --check passes" \
        test "$(jqv '[.expectations[].ok] | (length > 0) and all')" = true
    check "condition under $m: the Condition is listed with waits, notifies and wakes" \
        test "$(jqv '.locks[] | select(.name == "ready") | .kind == "condition" and .waits > 0 and .notifies >= 100 and .wakes == .waits and .timeouts == 0')" = true
    check "condition under $m: the consumers waited on it (cond_wait_s), the producer did not" \
        test "$(jqv '([.lanes[] | select(.name | startswith("consumer")) | .cond_wait_s] | add > 0) and ([.lanes[] | select(.name == "producer-1") | .cond_wait_s] == [0])')" = true
    check "condition under $m: notify() woke one waiter each time one waited, notify_all() every one" \
        test "$(jqv '[.results.notify_one_wrong, .results.notify_all_wrong] | map(tostring) | join(" ")')" = "0 0"
    check "condition under $m: every item consumed exactly once" \
        test "$(jqv '[.results.consumed, .results.missing, .results.duplicates] | map(tostring) | join(" ")')" = "100 0 0"
done

# the GIL is released while waiting: under --gil the waiters do not hold up the checkers
run_cv 0 run event-stop --gil --check --json &&
    check "event-stop under --gil: --check passes" \
        test "$(jqv '[.expectations[].ok] | (length > 0) and all')" = true

# the Python semantics that show in a scenario's figures: a wait with a timeout that passes
# before the set returns false (counted as a timeout); a set before a wait makes it return at once
run_cv 0 run event-stop --set stop_after_ms=0 --set unit_wait_ms=1 --json &&
    check "a set before the waits: every waiter still woken (the flag stays set)" \
        test "$(jqv .results.waiters_woken)" = 2

# Ctrl-C ends waits that nothing would end (an Event set only after a minute, a producer that
# takes 5 s an item): exit 130 within seconds, under each model
for m in threads procs epoll; do
    for args in "event-stop --set stop_after_ms=60000" "condition --set produce_ms=5000"; do
        start=$(date +%s.%N)
        rc=0
        # shellcheck disable=SC2086 # the arguments are words
        timeout --preserve-status -k 20 -s INT 1 "$CONCVIZ" run $args --model "$m" --headless -q \
            >/dev/null 2>&1 || rc=$?
        took=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
        check "${args%% *} under $m: SIGINT ends the waits (exit $rc, ${took} s)" \
            fcmp "$rc == 130 && $took < 8"
    done
done

# record, replay, export
for s in event-stop condition; do
    f="$TMP/$s.cvr"
    run_cv 0 run "$s" --model threads --record "$f" --json -q || continue
    printf '%s' "$OUT" >"$TMP/$s.orig.json"
    run_cv 0 replay "$f" --json && printf '%s' "$OUT" >"$TMP/$s.replay.json" &&
        check "$s: the replay gives the same summary" same_files "$TMP/$s.orig.json" "$TMP/$s.replay.json"
    run_cv 0 export "$f" --format chrome -o "$TMP/$s.trace.json" &&
        check "$s: the Chrome trace is valid" valid_trace "$TMP/$s.trace.json"
    run_cv 0 export "$f" --format csv -o "$TMP/$s.csv" || true
    run_cv 0 export "$f" --format svg -o "$TMP/$s.svg" || true
done
check "Chrome trace: the waiters' waits on the Event and the set are there" \
    test "$(jq -r '[.traceEvents[] | select(.name == "event stop" and .ph == "X")] | length' "$TMP/event-stop.trace.json"),$(jq -r '[.traceEvents[] | select(.name == "set stop" and .ph == "i")] | length' "$TMP/event-stop.trace.json")" = "2,1"
check "Chrome trace: the consumers' waits on the Condition and the notifies are there" \
    test "$(jq -r '.traceEvents as $t | ([$t[] | select(.name == "condition ready" and .ph == "X")] | length > 0) and ([$t[] | select(.name == "notify ready")] | length >= 100)' "$TMP/condition.trace.json")" = true
check "CSV: event.wait, event.set and event.wake rows" \
    eval 'grep -q ",event.wait,.*,stop," "$TMP/event-stop.csv" && test "$(grep -c ",event.set," "$TMP/event-stop.csv")" = 1 && test "$(grep -c ",event.wake," "$TMP/event-stop.csv")" = 2'
check "CSV: cond.wait, cond.notify and cond.wake rows" \
    eval 'grep -q ",cond.wait," "$TMP/condition.csv" && grep -q ",cond.notify," "$TMP/condition.csv" && grep -q ",cond.wake," "$TMP/condition.csv"'
check "SVG: the event wait and condition wait states in the legend" \
    eval 'grep -q "event wait" "$TMP/event-stop.svg" && grep -q "condition wait" "$TMP/condition.svg"'
finish

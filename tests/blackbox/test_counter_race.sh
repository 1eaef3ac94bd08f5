#!/usr/bin/env bash
# counter-race, 4 threads x 1,000,000: no protection loses updates (and counts them exactly);
# a mutex and an atomic give exactly 4,000,000; the mutex shows contention.
. "$(dirname "$0")/lib.sh"
not_under_sanitizer "full-size runs (millions of increments) whose races and contention depend on speed"

run_cv 0 run counter-race --json --check
check "none: 4 workers x 1,000,000 expected" test "$(jqv .results.counter_expected)" = 4000000
check "none: final below 4,000,000" fcmp "$(jqv .results.counter_final) < 4000000"
check "none: lost_updates is the difference" \
    test "$(jqv '.results.counter_expected - .results.counter_final')" = "$(jqv .results.lost_updates)"
check "none: 4 tasks completed" test "$(jqv .tasks.completed)" = 4

for v in mutex atomic; do
    run_cv 0 run counter-race --set variant=$v --json --check
    check "$v: exactly 4,000,000" test "$(jqv .results.counter_final)" = 4000000
    check "$v: no lost updates" test "$(jqv .results.lost_updates)" = 0
    check "$v: no events dropped" test "$(jqv .events.dropped)" = 0
done
run_cv 0 run counter-race --set variant=mutex --json
check "mutex: contended acquisitions reported" fcmp "$(jqv '.locks[] | select(.name=="counter") | .contended') > 0"
check "mutex: 4,000,000 acquisitions" test "$(jqv '.locks[] | select(.name=="counter") | .acquisitions')" = 4000000
check "mutex: lock wait time shown on lanes" fcmp "$(jqv '[.lanes[].lock_wait_s] | add') > 0"

# Even under the GIL, a switch between the read and the write loses updates.
run_cv 0 run counter-race --gil --set iterations=300000 --json --check
check "gil: still loses updates" fcmp "$(jqv .results.lost_updates) > 0"
check "gil: switches counted" fcmp "$(jqv .results.gil_switches) > 0"
# Stopped early (Ctrl-C a second in): the results count the increments made, none lost under the
# mutex; the lesson's expectations are listed, not judged (ok null, a reason), no FAIL; exit 130
# and "interrupted" once
for out in json text; do
    flag=$([ $out = json ] && echo --json || echo --headless)
    "$CONCVIZ" run counter-race --set variant=mutex $flag --check >"$TMP/stop.$out" 2>"$TMP/stop.err" &
    pid=$!
    sleep 1
    kill -INT "$pid"
    reap "$pid"
    check "stopped early ($out): exit 130, 'interrupted' said once" \
        eval 'test "$rc" = 130 && test "$(grep -c interrupted "$TMP/stop.err")" = 1'
done
jq_file() { jq -r "$1" "$TMP/stop.json"; }
check "stopped early: state stopped, every increment made is in the counter ($(jq_file '[.results.increments_made, .results.counter_final, .results.lost_updates] | map(tostring) | join(" ")'))" \
    test "$(jq_file '[.state, (.results.increments_made == .results.counter_final), .results.lost_updates, (.results.increments_made < 4000000)] | map(tostring) | join(" ")')" = "stopped true 0 true"
check "stopped early: every expectation listed, none judged (ok null, with the reason)" \
    test "$(jq_file '[(.expectations | length > 0), all(.expectations[]; .ok == null and (.reason | test("stopped before its end")))] | map(tostring) | join(" ")')" = "true true"
check "stopped early: the text summary marks them n/j, no FAIL" \
    eval 'grep -q "n/j  exact" "$TMP/stop.text" && ! grep -q FAIL "$TMP/stop.text"'
finish

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

# Where the interpreter may switch decides (real CPython 3.11 here: 4,000,000 every run for a
# bare counter += 1, about 2.1-2.3 M with counter = bump(counter)). Under the GIL of 3.10 on
# (--gil is 3.11) a bare increment is never cut in two; 3.9 could switch between its read and
# write; a call inside is a switch point in every version; 3.13t has no GIL at all.
run_cv 0 run counter-race --gil --set iterations=300000 --json --check
check "gil (3.11): a bare increment loses nothing (python $(jqv .python), final $(jqv .results.counter_final))" \
    test "$(jqv '[.python, .gil, .results.lost_updates, .results.counter_final] | map(tostring) | join(" ")')" = "3.11 true 0 1200000"
check "gil (3.11): the GIL changed hands all the same ($(jqv .results.gil_switches) switches)" \
    fcmp "$(jqv .results.gil_switches) > 10"
for py in 3.9 3.13t; do
    run_cv 0 run counter-race --python $py --set iterations=300000 --json --check
    check "python $py: loses updates ($(jqv .results.lost_updates) of 1,200,000), gil $(jqv .gil)" \
        test "$(jqv '[.python, (.results.lost_updates > 0), .results.increments_made] | map(tostring) | join(" ")')" = "$py true 1200000"
done
run_cv 0 run counter-race --python 3.12 --set increment=call --set iterations=300000 --json --check
check "python 3.12, a call inside the increment: loses updates ($(jqv .results.lost_updates))" \
    test "$(jqv '[.python, (.results.lost_updates > 0)] | map(tostring) | join(" ")')" = "3.12 true"
run_cv 0 run counter-race --python 3.10 --set iterations=300000 --record "$TMP/py.cvr" --json
check "python 3.10: nothing lost" test "$(jqv .results.lost_updates)" = 0
run_cv 0 replay "$TMP/py.cvr" --json
check "the replay names the CPython modelled" test "$(jqv '[.python, .gil] | map(tostring) | join(" ")')" = "3.10 true"
run_cv 0 replay "$TMP/py.cvr" --headless
check "the replay's text summary too" grep -q "gil on (CPython 3.10)" <<<"$OUT"
printf '%s\n' "wait done" "snapshot $TMP/py.txt" "key q" >"$TMP/py.script"
run_cv 0 run counter-race --python 3.9 --set iterations=100000 --no-color --script "$TMP/py.script" --size 160x40
check "the view's header names the CPython modelled" grep -q "GIL on (CPython 3.9)" "$TMP/py.txt"
# Events lost (a ring far too small): the collector invents nothing. The lost stretches are
# shown as lost, a mutex never has two holders, and the tasks the run finished are done (their
# end events may be lost: the run says how each ended), also in a replay of the recording
run_cv 0 run counter-race --set variant=mutex --set iterations=300000 --ring-size 1024 --json \
    --record "$TMP/drops.cvr"
check "drops: events were lost ($(jqv .events.dropped)), the run done, 4 of 4 tasks done" \
    test "$(jqv '[.events.dropped > 0, .state, .tasks.completed] | map(tostring) | join(" ")')" = "true done 4"
check "drops: every task done is in the completion order or counted as ended unseen ($(jqc '[.completion_order, .completion_unseen]'))" \
    test "$(jqv '(.completion_order | length) + (.completion_unseen // 0)')" = 4
check "drops: each worker that lost events shows a lost stretch ($(jqc '[.lanes[] | select(.dropped > 0) | .lost_s]'))" \
    test "$(jqv '[.lanes[] | select(.dropped > 0) | (.lost_s // 0) > 0] | all')" = true
live=$(jqc '[.tasks, .completion_order, .completion_unseen, [.lanes[] | .lost_s]]')
run_cv 0 replay "$TMP/drops.cvr" --json
check "drops: the replay says the same (tasks, order, lost stretches)" \
    eval 'test "$(jqv .tasks.completed)" = 4 &&
        test "$(jqc "[.tasks, .completion_order, .completion_unseen, [.lanes[] | .lost_s]]")" = "$live"'
printf '%s\n' "wait done" "snapshot $TMP/drops.txt" "key q" >"$TMP/drops.script"
run_cv 0 run counter-race --set variant=mutex --set iterations=300000 --ring-size 1024 --no-color \
    --script "$TMP/drops.script" --size 120x40
check "drops, view: the lock has at most one holder, the lost stretches are drawn (?) and in the legend" \
    eval 'grep -Eq "^counter (free|held by worker-[1-4])," "$TMP/drops.txt" &&
        grep -Eq "^worker-[1-4] .*\?" "$TMP/drops.txt" && grep -q "? lost" "$TMP/drops.txt" &&
        grep -q "tasks 4/4 done" "$TMP/drops.txt"'

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

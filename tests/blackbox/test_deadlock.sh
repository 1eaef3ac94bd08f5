#!/usr/bin/env bash
# deadlock: detected, the cycle named, the process exits within 5 s with nothing left behind;
# exit 1 when the scenario does not expect it; the ordered variant completes.
. "$(dirname "$0")/lib.sh"

for m in threads procs; do
    start=$(date +%s.%N)
    run_cv 0 run deadlock --model $m --json --check --export-chrome "$TMP/$m.trace.json"
    took=$(awk "BEGIN { print $(date +%s.%N) - $start }")
    check "$m: detected" test "$(jqv .results.deadlock.detected)" = true
    check "$m: state deadlocked, and the process out within 5 s (${took}s)" \
        eval '[ "$(jqv .state)" = deadlocked ] && fcmp "$took < 5"'
    check "$m: cycle names both lanes and locks" \
        test "$(jqc '[.results.deadlock.cycle[] | .lane, .waits_for] | sort')" = '["lock_a","lock_b","worker-1","worker-2"]'
    check "$m: the timeline marks it (one deadlock instant in the trace)" \
        test "$(jqv '[.traceEvents[] | select(.ph == "i" and .name == "deadlock detected")] | length' "$TMP/$m.trace.json")" = 1
    # the evidence is kept: each lock of the cycle was waited for (a contended wait, its time
    # counted) and held to the end, not "free, 0 contended" after the clean-up
    check "$m: each lock of the cycle shows its open wait as contention, and its hold ($(jqc '[.locks[] | [.name, .contended, .wait_s_total, .hold_s_total]]'))" \
        test "$(jqc '[.locks[] | select(.contended == 1 and .wait_s_total > 0.01 and .hold_s_total > 0.01) | .name] | sort')" = '["lock_a","lock_b"]'
done

# one length: the replay ends where the summary's wall time does
run_cv 0 run deadlock --json --record "$TMP/dl.cvr"
wall_ms=$(jqv '.wall_s * 1000')
printf '%s\n' "key ]" "snapshot $TMP/dl-replay-end.txt" "key q" >"$TMP/dl-end.script"
run_cv 0 replay "$TMP/dl.cvr" --paused --no-color --script "$TMP/dl-end.script" --size 120x40
ends=$(grep -o '[0-9.]*ms / [0-9.]*ms' "$TMP/dl-replay-end.txt" | head -1)
check "a deadlock's replay is as long as its summary's wall time (${wall_ms}ms): $ends" \
    awk -v e="$ends" -v w="$wall_ms" 'BEGIN { split(e, t, "ms / "); sub(/ms$/, "", t[2])
        exit !(e != "" && t[1] == t[2] && t[1] - w < 0.051 && w - t[1] < 0.051) }'

# the live view at the end, and lane details, show the deadlock as found
printf '%s\n' "wait done" "snapshot $TMP/dl-end.txt" "key j" "key Enter" "snapshot $TMP/dl-details.txt" \
    "key q" "key q" >"$TMP/dl.script"
run_cv 0 run deadlock --no-color --script "$TMP/dl.script" --size 160x40
check "view: each lock of the cycle held by one worker, the other waiting for it" \
    eval 'grep -Eq "^lock_a held by worker-[12], 1 waiting" "$TMP/dl-end.txt" &&
        grep -Eq "^lock_b held by worker-[12], 1 waiting" "$TMP/dl-end.txt"'
check "view: a worker's details name the lock it waits on and its holder, and its task" \
    eval 'grep -Eq "waits on lock_[ab], held by worker-[12]" "$TMP/dl-details.txt" &&
        grep -Eq "task [01]; 1 task started here" "$TMP/dl-details.txt"'

# not expected: a failure (exit 1) naming the cycle
grep -v '^deadlock_found\|^cycle_named' "$CONCVIZ_SCENARIO_DIR/deadlock.ini" >"$TMP/unexpected.ini"
run_cv 1 run "$TMP/unexpected.ini" --model procs && ok "an unexpected deadlock exits 1"
check "the error names the cycle" grep -Eq "^concviz: deadlock: worker-[12] waits for lock_[ab] held by worker-[12]; worker-[12] waits for lock_[ab] held by worker-[12]$" "$TMP/err"

# the fix: a consistent order completes
for m in threads procs; do
    run_cv 0 run deadlock --model $m --set order=ordered --set rounds=5 --json --check
    check "$m ordered: completes" test "$(jqv .results.rounds_done)" = 10
    check "$m ordered: no deadlock" test "$(jqv .results.deadlock.detected)" = false
done
finish

#!/usr/bin/env bash
# Timeouts, cancellation and task groups, with Python's semantics per model.
. "$(dirname "$0")/lib.sh"

# jqt FILTER: FILTER is true of $OUT (no output is not). In it, `n` passes a number on and fails
# on anything else, so that a missing value fails a comparison instead of taking part as null
# (null < 1 and null == null are true)
JQ_N='def n: if type == "number" then . else error("missing or not a number") end;'
jqt() { printf '%s' "$OUT" | jq -n -e "$JQ_N input | ($1)" >/dev/null 2>&1; }

# try_until N FILTER ARGS...: runs `concviz ARGS` up to N times, until it exits 0 and the jq
# FILTER (as for jqt) is true of its output. For bounds on time: a loaded machine only makes a run
# slower, so a bound one of N runs meets is met by the code. The last run is left in $OUT, $ERR
# and $RC; $TRIES says how many ran.
try_until() {
    local n=$1 cond=$2
    shift 2
    for TRIES in $(seq "$n"); do
        set +e
        "$CONCVIZ" "$@" >"$TMP/out" 2>"$TMP/err"
        RC=$?
        set -e
        OUT=$(cat "$TMP/out")
        ERR=$(cat "$TMP/err")
        if [ "$RC" = 0 ] && jqt "$cond"; then return 0; fi
        echo "# run $TRIES of at most $n: exit $RC; $cond: $(jq -c "$JQ_N $cond" <<<"$OUT" 2>&1 | head -1)"
    done
    return 0 # the checks that follow judge the last run
}

# expectations_met: the last run exited 0, and its expectations (--check) are there, all met
expectations_met() { [ "$RC" = 0 ] && jqt '(.expectations | length) > 0 and all(.expectations[]; .ok == true)'; }

run_cv 0 run timeout-cancel --model threads --json --check
check "threads: the two running tasks timed out" test "$(jqv .tasks.timed_out)" = 2
check "threads: the two queued ones were cancelled before starting" test "$(jqv .tasks.cancelled)" = 2
check "threads: the running ones ran on to the end" test "$(jqv .tasks.completed)" = 2
check "threads: so the run lasts the long tasks" fcmp "$(jqv .wall_s) >= 1.45"
check "threads: the long tasks completed" test "$(jqc '.completion_order | sort')" = "[0,1]"

# epoll: the tasks are cancelled at the timeout (1 s), so the run is over before the long tasks'
# 1.5 s, and no lane waits that long (the scenario's loop_cancels). On a loaded machine a run may
# take longer: up to 3 are tried. Load or not, what ended which task shows it: the long tasks (0
# and 1) never completed, only the short ones (2 and 3) did; threads complete the long ones.
try_until 3 '(.wall_s | n) < 1.4 and ([.lanes[1:][] | .io_s | n] | max | n) < 1.4' \
    run timeout-cancel --model epoll --json --check
check "epoll: exit 0, the scenario's expectations met" expectations_met
check "epoll: two timed out" test "$(jqv .tasks.timed_out)" = 2
check "epoll: and were cancelled at their await" test "$(jqv .tasks.cancelled)" = 2
check "epoll: the long tasks were cancelled, the short ones completed" test "$(jqc '.completion_order | sort')" = "[2,3]"
check "epoll: over at the timeout ($(jqv .wall_s) s < 1.4 s, run $TRIES)" jqt '(.wall_s | n) < 1.4'
check "epoll: the cancelled lanes stopped waiting early" jqt '([.lanes[1:][] | .io_s | n] | max | n) < 1.4'

run_cv 0 run taskgroup-fail --model epoll --json --check
check "taskgroup on epoll: two raise in the same turn, the siblings cancelled" \
    test "$(jqv '.tasks.cancelled, .tasks.failed, .tasks.completed' | tr '\n' ' ')" = "4 2 0 "
check "... the ExceptionGroup named in errors, both tasks in it" \
    grep -q "ExceptionGroup of 2 ConnectionErrors: task 2 (.*), task 4 (" <<<"$(jqv '.errors[0]')"
run_cv 0 run taskgroup-fail --model threads --json --check
check "taskgroup on threads: queued cancelled (task 4 among them), running run on" \
    test "$(jqv '.tasks.cancelled, .tasks.completed, .tasks.failed' | tr '\n' ' ')" = "3 2 1 "
for m in threads epoll; do
    run_cv 0 run taskgroup-fail --model $m --set mode=gather --json --check
    check "gather on $m: all others complete, both errors among the results" \
        test "$(jqv '.tasks.completed, .tasks.failed' | tr '\n' ' ')" = "4 2 "
    check "... named in errors" grep -q "returned 2 ConnectionErrors among the results" <<<"$(jqv '.errors[0]')"
    run_cv 0 run taskgroup-fail --model $m --set mode=gather_raise --json --check
    check "gather() on $m: the first error raised, the others ran on" \
        test "$(jqv '.tasks.completed, .tasks.failed, .tasks.cancelled' | tr '\n' ' ')" = "4 2 0 "
    check "... named in errors, with the one never retrieved" \
        grep -q "gather raised task 2's ConnectionError .*; 1 later error never retrieved: task 4" <<<"$(jqv '.errors[0]')"
done

# side by side with real asyncio (python3, the shipped program): the same tasks, failures and
# counts; the ExceptionGroup holds what raised in the same turn of the loop (300 ms for both:
# both; 300 and 310 ms: the first only, the second cancelled before it raises)
PY="$CONCVIZ_SCENARIO_DIR/python/taskgroup_fail.py"
for c in "taskgroup 300" "taskgroup 300,310" "gather 300" "gather_raise 300"; do
    read -r mode ms <<<"$c"
    real=$(python3 "$PY" --mode "$mode" --fail-ms "$ms" --task-ms 500)
    run_cv 0 run taskgroup-fail --model epoll --set mode="$mode" --set fail_ms="$ms" \
        --set task_ms=500 --json --check
    want=$(jq -c '[.completed, .failed, .cancelled]' <<<"$real")
    # what the caller got: the group's errors; gather's list of them; gather()'s first
    case $mode in
    taskgroup) emu_raised=$(jqv .results.exception_group) ;;
    gather) emu_raised=$(jqv .results.raised) ;;
    gather_raise) emu_raised=1 ;;
    esac
    check "$mode, fail_ms=$ms: as real asyncio, $want completed/failed/cancelled, $(jq '.raised | length' <<<"$real") error(s) to the caller" \
        test "$(jqc '[.tasks.completed, .tasks.failed, .tasks.cancelled]')" = "$want" -a \
        "$emu_raised" = "$(jq '.raised | length' <<<"$real")"
done
finish

#!/usr/bin/env bash
# The tests of the tests. Every other black-box test, run against a concviz that does nothing
# (it exits 0 and prints nothing), must fail, and the only checks allowed to pass there are the
# few listed in ALLOWED, each one that such a binary meets by its nature: a check that passes
# against it otherwise compares values that were never there, or nothing at all. The tests run a
# few at a time, each bounded (LIMIT): one still running then waits out its time for a binary
# that is long gone. And trace_check.jq, the checker of Chrome traces, finds each of a list of
# damages made to a well-formed trace.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
LIMIT=${SELFTEST_LIMIT:-40} # seconds for each test

if [ -n "$SANITIZER" ]; then
    # the tests of the tests run no concviz of this build
    skip "the tests of the tests: nothing of the $SANITIZER build to check"
    finish
fi

# ---- trace_check.jq, the checker of Chrome traces the export tests use ----
# A small well-formed trace passes; each damage made to it is found, by the message expected.
cat >"$TMP/good.json" <<'JSON'
{"traceEvents": [
  {"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "run"}},
  {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "worker-1"}},
  {"name": "task 1", "cat": "task", "ph": "X", "ts": 0, "dur": 10, "pid": 1, "tid": 1},
  {"name": "lock a", "cat": "wait", "ph": "X", "ts": 2, "dur": 3, "pid": 1, "tid": 1},
  {"name": "phase", "ph": "B", "ts": 20, "pid": 1, "tid": 1},
  {"ph": "E", "ts": 25, "pid": 1, "tid": 1},
  {"name": "in flight", "ph": "C", "ts": 1, "pid": 1, "args": {"tasks": 3}},
  {"name": "hand-over", "cat": "handoff", "ph": "s", "id": 7, "ts": 1, "pid": 1, "tid": 1},
  {"name": "hand-over", "cat": "handoff", "ph": "f", "bp": "e", "id": 7, "ts": 4, "pid": 1,
   "tid": 1},
  {"name": "deadlock detected", "ph": "i", "s": "g", "ts": 5, "pid": 1}
], "displayTimeUnit": "ns"}
JSON
check "trace_check.jq: a well-formed trace passes" valid_trace "$TMP/good.json"
# DAMAGE (a jq filter on the good trace) => WHAT THE CHECKER SAYS (an extended regex)
DAMAGES=(
    '.traceEvents[2] |= del(.ts) => event 2: ts null is not a number'
    '.traceEvents[2].ts = "0" => event 2: ts "0" is not a number'
    '.traceEvents[2].dur = -1 => event 2: a complete event \(X\) without a dur >= 0'
    '.traceEvents[2] |= del(.dur) => event 2: a complete event \(X\) without a dur'
    '.traceEvents[3].ph = "Q" => event 3: unknown phase "Q"'
    '.traceEvents[3] |= del(.ph) => event 3: no phase'
    '.traceEvents[3] |= del(.pid) => event 3: pid null is not a number'
    '.traceEvents[3] |= del(.tid) => event 3: tid null is not a number'
    '.traceEvents[3] |= del(.name) => event 3: no name'
    '.traceEvents[3].dur = 20 => slice "lock a" at ts 2 starts inside "task 1" and ends after it'
    'del(.traceEvents[5]) => pid 1 tid 1: 1 B without an E'
    'del(.traceEvents[4]) => an E at ts 25 closes no B'
    '.traceEvents[6].args.tasks = "3" => event 6: a counter \(C\) whose args are not numbers'
    '.traceEvents[1].args = {} => event 1: thread_name without a string args.name'
    '.traceEvents[1].name = "thread_nom" => event 1: unknown metadata event'
    '.traceEvents[7] |= del(.id) => event 7: a s event without an id'
    'del(.traceEvents[8]) => a start \(s\) without a finish \(f\)'
    'del(.traceEvents[7]) => a finish \(f\) without a start \(s\)'
    '.traceEvents[8].ts = 0 => finished before it started'
    '.traceEvents[9].s = "x" => event 9: instant scope "x" is not g, p or t'
    '.traceEvents[9].args = [1] => event 9: args is not an object'
    '.displayTimeUnit = "s" => displayTimeUnit "s" is neither ms nor ns'
    '{events: .traceEvents} => not a trace'
)
for d in "${DAMAGES[@]}"; do
    jq "${d%% => *}" "$TMP/good.json" >"$TMP/damaged.json"
    said=$(jq -r -f "$HERE/trace_check.jq" "$TMP/damaged.json" 2>&1 || true)
    check "trace_check.jq finds the damage ${d%% => *}: ${said%%$'\n'*}" \
        grep -Eq -- "${d#* => }" <<<"$said"
done

# ---- compare_baseline.sh, make bench's regression guard ----
# On two small result files: the baseline keeps ratios and counts and leaves times and rates
# out; the comparison names what moved by more than 20% with its direction and kind, and never
# fails.
GUARD="$HERE/../bench/compare_baseline.sh"

cat >"$TMP/guard-old.json" <<'J'
[{"bench": "b1", "record_ns": 10.0, "pair_ratio": 1.00, "events": 1000, "stable_ratio": 2.0,
  "dispatch_us_per_task": {"epoll": {"engine": 5.0, "dropped": 0, "ratio": 1.5}},
  "cpu_share": [0.50, 0.40]}]
J
cat >"$TMP/guard-new.json" <<'J'
[{"bench": "b1", "record_ns": 30.0, "pair_ratio": 1.30, "events": 700, "stable_ratio": 2.1,
  "dispatch_us_per_task": {"epoll": {"engine": 9.0, "dropped": 4, "ratio": 1.5}},
  "cpu_share": [0.50, 0.90]}]
J
bash "$GUARD" --write "$TMP/guard-old.json" "$TMP/guard-base.json" >"$TMP/guard-w.out"
check "the baseline keeps ratios and counts, not times" \
    test "$(jq -c '.[0] | [has("record_ns"), has("pair_ratio"), has("events"), .dispatch_us_per_task.epoll]' "$TMP/guard-base.json")" \
    = '[false,true,true,{"dropped":0,"ratio":1.5}]'
check "writing says what it kept and left out" grep -q "7 ratios and counts kept, 2 times and rates left out" "$TMP/guard-w.out"

set +e
bash "$GUARD" "$TMP/guard-new.json" "$TMP/guard-base.json" 20 >"$TMP/guard-c.out" 2>&1
rc=$?
set -e
check "a moved figure is no failure (exit $rc)" test "$rc" = 0
check "a ratio up 30%: named, up, [ratio]" grep -Eq 'b1\.pair_ratio .*\+30\.0% up +\[ratio\]' "$TMP/guard-c.out"
check "a count down 30%: named, down, [count]" grep -Eq 'b1\.events .*-30\.0% down +\[count\]' "$TMP/guard-c.out"
check "a list's share: named by its index" grep -Eq 'b1\.cpu_share\.1 .*\+125\.0% up +\[ratio\]' "$TMP/guard-c.out"
check "a count from zero: new" grep -Eq 'b1\.dispatch_us_per_task\.epoll\.dropped .*new \(was 0\)' "$TMP/guard-c.out"
check "within 20%: not listed" eval '! grep -q stable_ratio "$TMP/guard-c.out"'
check "times are not compared" eval '! grep -Eq "record_ns|epoll\.engine" "$TMP/guard-c.out"'
check "counts: 7 compared, 4 moved; 2 times not compared" \
    eval 'grep -q "7 figure(s) compared (ratios and counts), 4 moved by more than 20%" "$TMP/guard-c.out" &&
          grep -q "2 time and rate figure(s) of this run not compared" "$TMP/guard-c.out"'
echo '{"not": "an array"}' >"$TMP/guard-bad.json"
set +e
bash "$GUARD" "$TMP/guard-bad.json" "$TMP/guard-base.json" >/dev/null 2>"$TMP/guard-bad.err"
rc=$?
set -e
check "a file not of make bench: one line, exit 1" eval '[ "$rc" = 1 ] && grep -q "bad.json: not the array make bench writes" "$TMP/guard-bad.err"'

# TEST|CHECK: the checks that may pass against a binary that does nothing (a glob on the text
# after "ok - ")
ALLOWED=(
    # the runs before it check their answers; this one checks that no server outlives them
    "test_io|no server process left behind"
    # reads the README, not the binary: the example the next checks run is there
    "test_promises|README example: found, with a comment after a step"
    "test_readme_example|README.md found"
    # the files and the runs attempted, counted by the test itself; every run then fails
    "test_all_scenarios|scenario files found in *"
    "test_all_scenarios|every scenario/model pair ran, *"
    "test_readme_example|the example is in the README (*)"
    # exit codes alone (a run that goes on after its worker was killed or stopped and continued
    # ends with 0); the checks that follow them read what it did
    "test_procs|continue: exit 0"
    "test_procs|stalled, continue: exit 0"
)

mkdir "$TMP/bin" "$TMP/logs"
NOTHING=$TMP/bin/concviz
printf '#!/bin/sh\nexit 0\n' >"$NOTHING"
chmod +x "$NOTHING"

# at most JOBS at once (their time goes mostly to starting processes, not to waiting)
JOBS=${SELFTEST_JOBS:-4}
declare -A name_of start took rcs
running=0
# reap_one: waits for one of the tests to end, keeps its exit code and time
reap_one() {
    local pid rc name
    wait -n -p pid && rc=0 || rc=$?
    name=${name_of[$pid]}
    rcs[$name]=$rc
    took[$name]=$(awk -v a="${start[$name]}" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    running=$((running - 1))
}
for t in "$HERE"/test_*.sh; do
    name=$(basename "$t" .sh)
    [ "$name" = test_selftest ] && continue
    [ "$running" -lt "$JOBS" ] || reap_one
    start[$name]=$(date +%s.%N)
    env -u CONCVIZ_SANITIZER CONCVIZ="$NOTHING" \
        timeout -k 5 "$LIMIT" bash "$t" </dev/null >"$TMP/logs/$name.log" 2>&1 &
    name_of[$!]=$name
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do reap_one; done

for name in $(printf '%s\n' "${!rcs[@]}" | sort); do
    rc=${rcs[$name]}
    log=$TMP/logs/$name.log
    passed=()
    while IFS= read -r line; do
        passed+=("$line")
    done < <(sed -n 's/^ok - //p' "$log")
    unexpected=()
    for line in "${passed[@]}"; do
        allowed=0
        for a in "${ALLOWED[@]}"; do
            # shellcheck disable=SC2053 # the allowed text is a glob
            [ "${a%%|*}" = "$name" ] && [[ $line == ${a#*|} ]] && allowed=1
        done
        [ "$allowed" = 1 ] || unexpected+=("$line")
    done
    what="$name against a binary that does nothing: exit $rc in ${took[$name]} s,"
    what="$what ${#passed[@]} check(s) passed"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        bad "$what: still running after ${LIMIT} s (a wait that does not give up when it could)"
    elif [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
        bad "$what: it did not fail"
    elif [ ${#unexpected[@]} != 0 ]; then
        bad "$what, not allowed: $(printf '[%s] ' "${unexpected[@]}")"
    else
        ok "$what"
        continue
    fi
    tail -5 "$log" | sed 's/^/#   /'
done
finish

#!/usr/bin/env bash
# Every scenario passes --check under every model it supports at its defaults, and under its
# default model with a second, small parameter set. The scenario/model pairs are read from the
# scenario files themselves (`model =` and `models =` in [scenario]), not from `concviz show`, and
# the number of runs made is checked against them: a change in show's output cannot leave the
# test passing with nothing run. A run that fails is tried twice more, a few seconds apart, before
# it counts (expectations on speedups and wall times meet a loaded machine, whose host may take a
# core away for seconds); an expectation that is wrong fails all three.
. "$(dirname "$0")/lib.sh"
# expectations about wall times and speedups: under a sanitizer, tests/sanitize/scenario_runs.sh
# runs every scenario instead, small and unchecked
not_under_sanitizer "every scenario with its expectations of time"

# The second parameter set of each scenario: other sizes and times than the defaults, small so
# that they run fast, and valid for the scenario's lesson.
declare -A SECOND=(
    [block-the-loop]="--set tickers=2 --set tick_ms=20 --set ticks=15 --set block_ms=250"
    [c10k]="--set requests=1000 --set delays_ms=300"
    [compress]="--set buffers=8 --set size_kb=64 --set level=6"
    [counter-race]="--set variant=mutex --set iterations=100000 --set work_ns=400"
    [cpu-chunks]="--set tasks=32 --set mean_ms=10 --set schedule=dynamic"
    [cpu-factorize]="--set numbers=9409,1000000007,600851475143,999999999989,9007196099250001 --set repeat=1"
    [cpu-many-small]="--set repeat=200"
    [cpu-primes]="--set numbers=9007199254740881,9007196099250001,4294967291,999999999989,9409,49 --set repeat=1"
    [condition]="--set producers=2 --set consumers=4 --set items=30 --set produce_ms=2 --set consume_ms=0.5"
    [daemon-join]="--set workers=4 --set short_ms=50 --set work_ms=1000 --set join_timeout_ms=150"
    [deadlock]="--set hold_ms=20 --set work_ms=1 --set rounds=3"
    [event-stop]="--set checkers=2 --set waiters=4 --set stop_after_ms=100 --set unit_wait_ms=1 --set unit_cpu_ms=1 --set wait_timeout_ms=20"
    [file-io]="--set files=100 --set size_kb=64"
    [gather-sleep]="--set sleeps_ms=400,100"
    [gil-contention]="--set increments=2500000 --set ns_per_increment=150"
    [hybrid-offload]="--set rounds=1 --set work_ms=60 --set tick_ms=10 --set ticks=30"
    [io-fetch]="--set delays_ms=100,200,100,300 --set requests=4"
    [io-vs-sequential]="--set delays_ms=100 --set requests=8"
    [pipeline]="--set items=40 --set capacity=4 --set consume_ms=10"
    [pool-size]="--set kind=cpu --set tasks=8 --set cpu_ms=40"
    [queue-join]="--set producers=3 --set items=8 --set capacity=2 --set consume_ms=15 --set put_timeout_ms=10"
    [retry-backoff]="--set requests=3 --set fail=2 --set fault=reset --set backoff_ms=50 --set jitter=0.1"
    [semaphore]="--set requests=20 --set concurrency=4 --set delays_ms=60"
    [sync-primitives]="--set phases=3 --set work_ms=20"
    [taskgroup-fail]="--set mode=gather_raise --set tasks=4 --set task_ms=500 --set fail_ms=100,200 --set failing=1,3"
    [timeout-cancel]="--set sleeps_ms=700,700,100,100 --set timeout_ms=400"
)

# Scenarios whose defaults are an article's own times (20 requests of 1 s, sequential: 20 s;
# urllib3's backoff of 0, 1 and 2 s): at the defaults under their default model only; under the
# other models the same run with shorter times.
declare -A SHORTER=(
    [io-vs-sequential]="--set delays_ms=300"
    [retry-backoff]="--set backoff_ms=100"
)

# ini_value FILE KEY: the value of KEY in the [scenario] section of FILE (continuation lines
# joined), empty if absent
ini_value() {
    awk -v key="$2" '
        /^\[/ { sec = $0; gsub(/[][ \t\r]/, "", sec); found = 0; next }
        sec != "scenario" { next }
        found && /^[ \t]/ { v = v " " $0; next }
        { found = 0 }
        /^[;#]/ { next }
        {
            k = $0; sub(/=.*/, "", k); gsub(/[ \t]/, "", k)
            if (k == key) { v = $0; sub(/^[^=]*=/, "", v); found = 1 }
        }
        END { sub(/[ \t]+[;#].*$/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v); print v }
    ' "$1"
}

# try SCENARIO MODEL ARGS...: one run with --check, up to 5 times (2, 4, 8 and 16 s apart: the host
# takes a core away for seconds at times, and speedups are among the expectations); counts the
# pair in RUNS
RUNS=0
try() {
    local name=$1 m=$2 start took
    shift 2
    RUNS=$((RUNS + 1))
    for attempt in 1 2 3 4 5; do
        start=$(date +%s.%N)
        # exit 0 and a summary whose expectations are there and all met (jq 1.6's -e takes no
        # input at all as success, so the answer is compared)
        if "$CONCVIZ" run "$name" --model "$m" "$@" --check --json >"$TMP/out" 2>"$TMP/err" &&
            test "$(jq -r '(.expectations | length) > 0 and ([.expectations[].ok] | all)' \
                "$TMP/out" 2>/dev/null)" = true; then
            took=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")
            note=""
            [ "$attempt" = 1 ] || note=", try $attempt"
            ok "$name under $m ${*:+($*) }passes --check (${took} s$note)"
            return 0
        fi
        echo "# $name under $m ${*:+($*) }failed (try $attempt):"
        { jq -r '.expectations[]? | select(.ok != true) | "FAIL \(.name)"' "$TMP/out" 2>/dev/null ||
            echo "no summary"; cat "$TMP/err"; } | sed 's/^/#   /'
        # no summary at all is not the machine's noise: no second try
        jq -e .schema "$TMP/out" >/dev/null 2>&1 && [ -s "$TMP/out" ] || break
        [ "$attempt" = 5 ] || sleep $((1 << attempt))
    done
    bad "$name under $m ${*:+($*) }fails --check"
}

files=("$CONCVIZ_SCENARIO_DIR"/*.ini)
check "scenario files found in $CONCVIZ_SCENARIO_DIR" test -e "${files[0]}"
# the runs to make, counted apart from the loop below: the words of every `models =` line, and
# one more per file (the second parameter set)
pairs=$(grep -h '^models *=' "${files[@]}" | sed 's/^models *= *//; s/[;#].*//' | wc -w)
want=0
declare -A seen=()
for file in "${files[@]}"; do
    [ -e "$file" ] || continue
    name=$(ini_value "$file" name)
    default=$(ini_value "$file" model)
    models=$(ini_value "$file" models)
    [ -n "$models" ] || models=$default
    if [ -z "$name" ] || [ -z "$default" ]; then
        bad "$(basename "$file"): no name or no default model in [scenario]"
        continue
    fi
    if [ -z "${SECOND[$name]+set}" ]; then
        bad "$name: no second parameter set in this test (add one to SECOND)"
        continue
    fi
    seen[$name]=1
    read -r -a second <<<"${SECOND[$name]}"
    read -r -a shorter <<<"${SHORTER[$name]:-}"
    for m in $models; do
        want=$((want + 1))
        if [ "$m" = "$default" ]; then
            try "$name" "$m"
        else
            try "$name" "$m" "${shorter[@]}"
        fi
    done
    want=$((want + 1))
    try "$name" "$default" "${second[@]}"
done
check "every scenario/model pair ran, and each scenario's second set: $RUNS runs for $pairs pairs in ${#files[@]} files" \
    test "$RUNS" = "$want" -a "$want" = $((pairs + ${#files[@]})) -a "$pairs" -ge "${#files[@]}"
for name in "${!SECOND[@]}"; do
    [ -n "${seen[$name]+set}" ] || bad "second parameter set for $name, which no scenario file names"
done
finish

# Helpers for black-box tests: run the real concviz binary, check exit codes and JSON.
set -euo pipefail
: "${CONCVIZ:?CONCVIZ must point at the concviz binary}"
export CONCVIZ_SCENARIOS="${CONCVIZ_SCENARIO_DIR:-}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0

SKIPPED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "skip - $*"; }

# The sanitizer the binary under test was built with (address, thread), or empty; set by
# tests/sanitize/run.sh for the sanitized runs of the suite.
SANITIZER=${CONCVIZ_SANITIZER:-}

# not_under_sanitizer WHY: ends a test whose checks are speedups or wall times, which a
# sanitizer's slowdown makes meaningless, as skipped (exit 77, which ctest shows as "Skipped") in a
# sanitized build; tests/sanitize/scenario_runs.sh runs such tests' scenarios briefly instead.
not_under_sanitizer() {
    if [ -n "$SANITIZER" ]; then
        skip "$1: not at the $SANITIZER sanitizer's speed"
        echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
        exit 77
    fi
}

# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# run_cv EXPECTED_RC ARGS...: runs concviz, keeps stdout in $OUT and stderr in $ERR; with
# RUN_TIMEOUT=S set, at most S seconds (a hang then shows as exit 124)
run_cv() {
    local want=$1; shift
    local bound=()
    [ -z "${RUN_TIMEOUT:-}" ] || bound=(timeout "$RUN_TIMEOUT")
    set +e
    "${bound[@]}" "$CONCVIZ" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    set -e
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
    if [ "$RC" != "$want" ]; then
        bad "concviz $* exited $RC, expected $want; stderr: $ERR"
        return 1
    fi
    return 0
}

# jqv FILTER: evaluates FILTER on $OUT (JSON); jqc prints compact JSON
jqv() { printf '%s' "$OUT" | jq -r "$1"; }
jqc() { printf '%s' "$OUT" | jq -c "$1"; }

# float comparison: fcmp "A < B"
fcmp() { awk "BEGIN { exit !($1) }"; }
# reap PID: waits for a run started in the background; sets rc (its exit code) and took (the
# seconds the wait lasted)
reap() {
    local start
    start=$(date +%s.%N)
    wait "$1" && rc=0 || rc=$?
    took=$(awk "BEGIN { print $(date +%s.%N) - $start }")
}

finish() {
    if [ "$SKIPPED" != 0 ]; then
        echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    else
        echo "$PASSED passed, $FAILED failed"
    fi
    [ "$FAILED" = 0 ]
}

# best_wall N ARGS...: runs `concviz run ARGS --json` N times, sets $BEST to the shortest
# wall time, leaves the last run's JSON in $OUT. Timing comparisons use the best of a few runs
# so one disturbed run on a noisy machine does not decide them.
best_wall() {
    local n=$1; shift
    BEST=""
    for _ in $(seq "$n"); do
        run_cv 0 run "$@" --json || return 1
        local w
        w=$(jqv .wall_s)
        if [ -z "$BEST" ] || fcmp "$w < $BEST"; then BEST=$w; fi
    done
}

# speedup_at_least RATIO BASE_S ARGS...: runs `concviz run ARGS --json` up to 8 times, stopping
# as soon as BASE_S / (best wall so far) >= RATIO; sets $BEST and $SPEEDUP. The host here takes
# its second vCPU away for seconds at a time, and noise only ever slows a run down, so the best
# of several tries measures the code; a model without real parallelism never reaches RATIO.
speedup_at_least() {
    local ratio=$1 base=$2; shift 2
    BEST=""
    for _ in $(seq 8); do
        run_cv 0 run "$@" --json || return 1
        local w
        w=$(jqv .wall_s)
        if [ -z "$BEST" ] || fcmp "$w < $BEST"; then BEST=$w; fi
        fcmp "$base / $BEST >= $ratio" && break
    done
    SPEEDUP=$(awk "BEGIN { printf \"%.2f\", $base / $BEST }")
}

# For tests that drive the real binary in a tmux pane named cv: the test defines T (tmux on a
# server of its own); screen prints the pane, wait_for REGEX [TENTHS] waits (10 s) for a line.
screen() { T capture-pane -p -t cv; }
wait_for() {
    local n=${2:-100}
    while [ "$n" -gt 0 ]; do
        screen | grep -Eq "$1" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    echo "# timed out waiting for /$1/; the screen was:"
    screen | sed 's/^/# /'
    return 1
}

# child_named PID NAME: waits (up to 10 s) until PID has a live child process named NAME
# (cv:worker-1, cv:offload-2, cv:httpd: each worker names itself after its lane once set up) and
# sets $victim to its pid; returns 1 if none appears. A child picked by name and seen running is
# one the run still holds, not one that has just exited (a zombie keeps its name).
child_named() {
    local p st
    victim=""
    for _ in $(seq 200); do
        p=$(pgrep -P "$1" -x "$2" | head -1 || true)
        st=""
        [ -n "$p" ] && st=$(ps -o stat= -p "$p" 2>/dev/null || true)
        if [ -n "$st" ] && [ "${st:0:1}" != Z ]; then
            victim=$p
            return 0
        fi
        sleep 0.05
    done
    echo "# no child named $2 of $1 appeared"
    return 1
}

# signal_victim SIGNAL: sends SIGNAL to $victim (from child_named); a failure is a failed check,
# not the end of the test
signal_victim() {
    kill -"$1" "$victim" 2>/dev/null || bad "could not send SIG$1 to ${victim:-(no process)}"
}

# Helpers for black-box tests: run the real concviz binary, check exit codes and JSON.
set -euo pipefail
: "${CONCVIZ:?CONCVIZ must point at the concviz binary}"
export CONCVIZ_SCENARIOS="${CONCVIZ_SCENARIO_DIR:-}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0
SKIPPED=0
# Each result is also noted in $TMP/tally, which finish counts: a check made in a subshell (a
# command substitution, a `( ulimit ...; run_cv ... )`) counts like any other.
ok() { PASSED=$((PASSED + 1)); echo ok >>"$TMP/tally"; echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo fail >>"$TMP/tally"; echo "not ok - $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo skip >>"$TMP/tally"; echo "skip - $*"; }

# The sanitizer the binary under test was built with (address, thread), or empty; set by
# tests/sanitize/run.sh for the sanitized runs of the suite.
SANITIZER=${CONCVIZ_SANITIZER:-}

# not_under_sanitizer WHY: ends a test whose checks are speedups or wall times, which a
# sanitizer's slowdown makes meaningless, as skipped (exit 77, which ctest shows as "Skipped") in a
# sanitized build; tests/sanitize/scenario_runs.sh runs such tests' scenarios briefly instead.
not_under_sanitizer() {
    if [ -n "$SANITIZER" ]; then
        skip "$1: not at the $SANITIZER sanitizer's speed"
        finish
    fi
}

# stop_if_all_failed WHAT: ends the test, failed, when checks have failed and none has passed so
# far: a binary that does not work at all, against which the rest (minutes of retries, waits and
# tables) would only take time. A test calls it after its first runs.
stop_if_all_failed() {
    if [ "$FAILED" != 0 ] && [ "$PASSED" = 0 ]; then
        bad "$1: nothing has passed so far; the rest of this test is not run"
        finish
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

# jqv FILTER [FILE]: FILTER's result as raw text, on $OUT (JSON) or on FILE; jqc the same as
# compact JSON. A value that is not there (no output, null, or input that is not JSON) is a
# failure, not a value: jqv prints a marker that no comparison matches (MISSING(FILTER)), says so
# on stderr, and notes it in $TMP/missing, which finish counts as failed checks (a command
# substitution cannot count them itself). (No check expects null; one that does would read the
# value with jq itself.)
jq_read() {
    local opt=$1 filter=$2 file=${3:-} v err="" errf="$TMP/jq.$BASHPID.err" src why
    # (nothing to read is told without starting jq: a binary that prints nothing costs no time)
    if [ -n "$file" ] && [ ! -s "$file" ]; then
        src=$file
        err="missing or empty"
    elif [ -n "$file" ]; then
        src=$file
        v=$(jq "$opt" "$filter" "$file" 2>"$errf") || err=$(head -c 200 "$errf" | tr '\n' ' ')
        rm -f "$errf"
    elif [ -z "$OUT" ]; then
        src="the output"
        err="nothing was printed"
    else
        src="the output"
        v=$(printf '%s' "$OUT" | jq "$opt" "$filter" 2>"$errf") ||
            err=$(head -c 200 "$errf" | tr '\n' ' ')
        rm -f "$errf"
    fi
    if [ -n "$err" ]; then
        why=$err
    elif [ -z "$v" ]; then
        why="no value"
    elif [[ $'\n'$v$'\n' == *$'\n'null$'\n'* ]]; then
        why="null"
    else
        printf '%s\n' "$v"
        return 0
    fi
    printf '%s\n' "$filter on $src: $why" >>"$TMP/missing"
    echo "# missing value: $filter on $src: $why" >&2
    printf 'MISSING(%s)\n' "$filter"
}
jqv() { jq_read -r "$@"; }
jqc() { jq_read -c "$@"; }

# same_files A B: both files exist, hold something, and are the same (two outputs that are both
# missing or empty are not "the same output")
same_files() {
    [ -s "$1" ] || { echo "# $1 is missing or empty"; return 1; }
    [ -s "$2" ] || { echo "# $2 is missing or empty"; return 1; }
    diff -u "$1" "$2"
}

# valid_trace FILE: FILE is a Chrome trace with events in which trace_check.jq (the rules of the
# Trace Event Format) finds nothing wrong; the problems, if any, are printed
BLACKBOX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
valid_trace() {
    local n problems
    if ! n=$(jq '.traceEvents | length' "$1" 2>&1); then
        echo "# $1 is not a Chrome trace: $n"
        return 1
    fi
    if ! problems=$(jq -r -f "$BLACKBOX_DIR/trace_check.jq" "$1" 2>&1) || [ -n "$problems" ]; then
        echo "# $1: $(printf '%s\n' "$problems" | wc -l) problem(s), the first:"
        printf '%s\n' "$problems" | head -10 | sed 's/^/#   /'
        return 1
    fi
    [ "$n" -gt 0 ] || { echo "# $1 holds no event"; return 1; }
}

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

# finish: the summary line, and the test's exit: 1 when a check failed, a value was missing
# (jqv) or no check passed at all (a test that passed nothing showed nothing); 77, which ctest
# shows as "Skipped", when checks were skipped; else 0.
finish() {
    local missing=0
    touch "$TMP/tally"
    PASSED=$(grep -cx ok "$TMP/tally" || true)
    FAILED=$(grep -cx fail "$TMP/tally" || true)
    SKIPPED=$(grep -cx skip "$TMP/tally" || true)
    [ -f "$TMP/missing" ] && missing=$(wc -l <"$TMP/missing")
    if [ "$missing" != 0 ]; then
        FAILED=$((FAILED + missing))
        echo "not ok - $missing value(s) missing from concviz's output, each a failed check:"
        head -20 "$TMP/missing" | sed 's/^/#   /'
    fi
    if [ "$PASSED" = 0 ] && [ "$SKIPPED" = 0 ]; then
        FAILED=$((FAILED + 1))
        echo "not ok - no check passed: a test that passes nothing has shown nothing"
    fi
    if [ "$SKIPPED" != 0 ]; then
        echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    else
        echo "$PASSED passed, $FAILED failed"
    fi
    [ "$FAILED" = 0 ] || exit 1
    [ "$SKIPPED" = 0 ] || exit 77
    exit 0
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

# speedup_at_least RATIO BASE_S ARGS...: runs `concviz run ARGS --json` until BASE_S / (best wall
# so far) >= RATIO: at least 8 times and for at least 30 s before giving up (a pause of half a
# second between the later tries); sets $BEST and $SPEEDUP. The host here takes its second vCPU
# away for seconds at a time (in CI, 8 tries in a row over 5 s once all ran on one core), and
# noise only ever slows a run down, so the best of several tries measures the code; a model
# without real parallelism never reaches RATIO.
speedup_at_least() {
    local ratio=$1 base=$2 tries=0 start=$SECONDS; shift 2
    BEST=""
    while :; do
        run_cv 0 run "$@" --json || return 1
        local w
        w=$(jqv .wall_s)
        [[ $w =~ ^[0-9.e+-]+$ ]] || return 1 # no wall time: nothing a retry would change
        tries=$((tries + 1))
        if [ -z "$BEST" ] || fcmp "$w < $BEST"; then BEST=$w; fi
        fcmp "$base / $BEST >= $ratio" && break
        [ "$tries" -ge 8 ] && [ $((SECONDS - start)) -ge 30 ] && break
        [ "$tries" -ge 60 ] && break
        [ "$tries" -ge 8 ] && sleep 0.5
    done
    [ "$tries" -gt 8 ] && echo "# $*: best of $tries tries"
    SPEEDUP=$(awk "BEGIN { printf \"%.2f\", $base / $BEST }")
}

# For tests that drive the real binary in a tmux pane named cv: the test defines T (tmux on a
# server of its own); screen prints the pane, wait_for REGEX [TENTHS] waits (10 s) for a line.
screen() { T capture-pane -p -t cv; }
# The pane's command prints EXIT=N when concviz ends: once it shows, the screen changes no more
# (but for the terminal modes printed right after), so wait_for gives up a second later instead
# of waiting out its time.
wait_for() {
    local n=${2:-100}
    while [ "$n" -gt 0 ]; do
        screen | grep -Eq "$1" && return 0
        if [ "$n" -gt 10 ] && screen | grep -Eq '^EXIT=[0-9]+'; then n=10; fi
        sleep 0.1
        n=$((n - 1))
    done
    echo "# timed out waiting for /$1/; the screen was:"
    screen | sed 's/^/# /'
    return 1
}

# alive PID: PID is a process that has not ended (a child that ended and was not yet waited for
# is a zombie, which kill -0 still finds)
alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# url_of FILE PID: waits (up to 10 s, while PID runs) for `concviz serve` started as PID to print
# its URL into FILE, and prints it (nothing when it never came)
url_of() {
    for _ in $(seq 100); do
        [ -s "$1" ] && break
        alive "$2" || break
        sleep 0.1
    done
    head -1 "$1" 2>/dev/null || true
}

# child_named PID NAME: waits (up to 10 s) until PID has a live child process named NAME
# (cv:worker-1, cv:offload-2, cv:httpd: each worker names itself after its lane once set up) and
# sets $victim to its pid; returns 1 if none appears (at once when PID has ended). A child
# picked by name and seen running is one the run still holds, not one that has just exited (a
# zombie keeps its name).
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
        alive "$1" || break
        sleep 0.05
    done
    echo "# no child named $2 of $1 appeared"
    return 1
}

# catches_int PID: waits (up to 5 s) until PID has a handler for SIGINT (the SigCgt mask of
# /proc/PID/status); 1 if it never does or is gone
catches_int() {
    local line
    for _ in $(seq 100); do
        line=$(grep '^SigCgt:' "/proc/$1/status" 2>/dev/null) || return 1
        (((0x${line##*[[:space:]]} & 2) != 0)) && return 0
        sleep 0.05
    done
    return 1
}

# signal_victim SIGNAL: sends SIGNAL to $victim (from child_named); a failure is a failed check,
# not the end of the test
signal_victim() {
    kill -"$1" "$victim" 2>/dev/null || bad "could not send SIG$1 to ${victim:-(no process)}"
}

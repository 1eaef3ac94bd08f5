#!/usr/bin/env bash
# bench_trace: what `concviz trace` adds to a program, against the same program untraced and
# under LTTng-UST's pthread wrapper (liblttng-ust-pthread-wrapper, Debian's liblttng-ust1) with a
# session recording its events, in one run:
#   pair     one thread locks and unlocks an uncontended mutex PAIRS times, 9 times; the median
#            ns per pair (the program times itself); added cost = traced - untraced
#   race     the 4-thread program of the trace tests (each thread takes one global mutex 200,000
#            times): wall time, median of 5, traced against untraced
#   python   scenarios/python/counter_race.py --lock (4 threads, a threading.Lock per increment):
#            wall time, median of 5, traced against untraced (needs python3)
# The three ways alternate run by run. Printed: a table and one "json: {...}" line (fields
# trace_pair_ns and lttng_pair_ns: the added ns per pair). Without lttng tools, or when its
# session daemon will not start, one line says why and LTTng's column is empty. Exit 0 either way.
# Usage: bench_trace.sh [CONCVIZ]   (default build/tui/concviz)
set -u
CV=${1:-build/tui/concviz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
PAIRS=${PAIRS:-1000000}
cleanup() {
    [ -n "${LTTNG_HOME:-}" ] && { lttng destroy -a >/dev/null 2>&1; [ -n "${SESSIOND:-}" ] && kill "$SESSIOND" 2>/dev/null; }
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), load $(cut -d' ' -f1-3 /proc/loadavg)"

cat >"$TMP/pairs.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    double ns[9];
    for (int r = 0; r < 9; r++) {
        double s = now();
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&m);
            pthread_mutex_unlock(&m);
        }
        ns[r] = (now() - s) / n * 1e9;
    }
    for (int i = 0; i < 9; i++)
        for (int j = i + 1; j < 9; j++)
            if (ns[j] < ns[i]) {
                double t = ns[i];
                ns[i] = ns[j];
                ns[j] = t;
            }
    printf("%.2f\n", ns[4]);
    return 0;
}
EOF
cc -O2 -pthread -o "$TMP/pairs" "$TMP/pairs.c" || { echo "bench_trace: cannot build the test program"; exit 0; }
cc -O2 -pthread -o "$TMP/race" "$SRC/tests/blackbox/progs/trace_prog.c" || exit 0

# LTTng: a session of our own (its own LTTNG_HOME), the wrapper's events enabled
LTTNG_WHY=""
WRAPPER=$(ldconfig -p 2>/dev/null | awk '/liblttng-ust-pthread-wrapper.so /{print $NF; exit}')
if ! command -v lttng >/dev/null || ! command -v lttng-sessiond >/dev/null; then
    LTTNG_WHY="lttng-tools is not installed (Debian package lttng-tools)"
elif [ -z "$WRAPPER" ]; then
    LTTNG_WHY="liblttng-ust-pthread-wrapper is not installed (Debian package liblttng-ust-dev)"
else
    export LTTNG_HOME="$TMP/lttng"
    mkdir -p "$LTTNG_HOME"
    if ! lttng --no-sessiond list >/dev/null 2>&1; then
        lttng-sessiond --no-kernel >"$TMP/sessiond.log" 2>&1 &
        SESSIOND=$!
        for _ in $(seq 50); do lttng --no-sessiond list >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    if ! lttng --no-sessiond create bench --output="$TMP/lttng-trace" >/dev/null 2>&1 ||
        ! lttng --no-sessiond enable-event -u 'lttng_ust_pthread:*' >/dev/null 2>&1 ||
        ! lttng --no-sessiond start >/dev/null 2>&1; then
        LTTNG_WHY="the LTTng session did not start ($(tail -1 "$TMP/sessiond.log" 2>/dev/null))"
    fi
fi
[ -n "$LTTNG_WHY" ] && echo "# LTTng not measured: $LTTNG_WHY"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk "BEGIN {print $e - $s}"; }

plain=() traced=() lttng=()
for _ in 1 2 3; do
    plain+=("$("$TMP/pairs" "$PAIRS")")
    traced+=("$("$CV" trace --json -q -- "$TMP/pairs" "$PAIRS" 2>&1 >/dev/null | tail -1)")
    [ -z "$LTTNG_WHY" ] && lttng+=("$(LD_PRELOAD=$WRAPPER "$TMP/pairs" "$PAIRS")")
done
p=$(printf '%s\n' "${plain[@]}" | median)
t=$(printf '%s\n' "${traced[@]}" | median)
l=$([ ${#lttng[@]} -gt 0 ] && printf '%s\n' "${lttng[@]}" | median)
tp=$(awk "BEGIN {printf \"%.1f\", $t - $p}")
lp=$([ -n "$l" ] && awk "BEGIN {printf \"%.1f\", $l - $p}")
lost=""
[ -z "$LTTNG_WHY" ] && lost=$(lttng --no-sessiond list bench 2>/dev/null | sed -n 's/.*Discarded events: *//p' | head -1)

rplain=() rtraced=() pyplain=() pytraced=()
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
for _ in 1 2 3 4 5; do
    rplain+=("$(wall "$TMP/race" race 4 200000)")
    rtraced+=("$(wall "$CV" trace --headless -q -- "$TMP/race" race 4 200000)")
    if [ -n "$PY" ]; then
        pyplain+=("$(wall "$PY" "$SRC/scenarios/python/counter_race.py" --lock --iterations 100000)")
        pytraced+=("$(wall "$CV" trace --headless -q -- "$PY" "$SRC/scenarios/python/counter_race.py" --lock --iterations 100000)")
    fi
done
rp=$(printf '%s\n' "${rplain[@]}" | median)
rt=$(printf '%s\n' "${rtraced[@]}" | median)
pp=$([ -n "$PY" ] && printf '%s\n' "${pyplain[@]}" | median)
pt=$([ -n "$PY" ] && printf '%s\n' "${pytraced[@]}" | median)
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk "BEGIN {printf \"%.2f\", $2 / $1}"; }

echo
echo "| figure | untraced | concviz trace | LTTng-UST pthread wrapper |"
echo "|---|---|---|---|"
echo "| uncontended lock/unlock pair, ns (median of 3 x 9 x $PAIRS) | $p | $t (+$tp) | ${l:-n/a}${lp:+ (+$lp)}${lost:+, $lost events discarded} |"
echo "| 4 threads x 200,000 on one mutex, wall s (median of 5) | $rp | $rt (x$(ratio "$rp" "$rt")) | |"
[ -n "$PY" ] && echo "| counter_race.py --lock, 4 x 100,000, wall s (median of 5) | $pp | $pt (x$(ratio "$pp" "$pt")) | |"
echo
echo "json: {\"bench\":\"bench_trace\",\"plain_pair_ns\":$p,\"trace_pair_ns\":$tp,\"lttng_pair_ns\":${lp:-null},\"race_plain_s\":$rp,\"race_trace_s\":$rt,\"python_plain_s\":${pp:-null},\"python_trace_s\":${pt:-null}}"
exit 0

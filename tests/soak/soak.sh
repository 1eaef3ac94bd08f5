#!/usr/bin/env bash
# Soak test (by hand: `make soak`, not part of `make test`): several concviz processes, each
# rerunning one scenario under one model for SOAK_SECONDS (`run --for`), plus `concviz serve`
# under bursts of ApacheBench, all at once. Every SOAK_INTERVAL seconds the resident memory of
# each process (VmRSS in /proc/PID/status) is sampled. Memory must stay flat: for each process,
# the highest sample of the last fifth of the soak may exceed the highest sample of the second
# fifth (after a fifth of warm-up) by at most SOAK_MARGIN_PCT percent or SOAK_MARGIN_KB,
# whichever is larger. Every process must also exit 0: every run ended without an error. (The
# scenarios' expectations are not checked here: some compare timings, which a loaded machine
# bends; the test suite checks them.)
#
# usage: tests/soak/soak.sh CONCVIZ_BINARY OUTDIR
# env:   SOAK_SECONDS (600), SOAK_INTERVAL (2), SOAK_MARGIN_PCT (10), SOAK_MARGIN_KB (4096)
# out:   OUTDIR/rss.tsv (seconds, process, pid, VmRSS in KB), OUTDIR/summary.txt, OUTDIR/*.err
set -euo pipefail
CONCVIZ=${1:?usage: soak.sh CONCVIZ_BINARY OUTDIR}
OUT=${2:?usage: soak.sh CONCVIZ_BINARY OUTDIR}
SECONDS_=${SOAK_SECONDS:-600}
INTERVAL=${SOAK_INTERVAL:-2}
MARGIN_PCT=${SOAK_MARGIN_PCT:-10}
MARGIN_KB=${SOAK_MARGIN_KB:-4096}
for v in "$SECONDS_" "$INTERVAL" "$MARGIN_PCT" "$MARGIN_KB"; do
    if ! [[ $v =~ ^[0-9]+$ ]] || [ "$v" = 0 ]; then
        echo "soak: settings must be positive whole numbers"
        exit 2
    fi
done
[ "$SECONDS_" -ge $((5 * INTERVAL)) ] || { echo "soak: SOAK_SECONDS must be at least 5 x SOAK_INTERVAL"; exit 2; }
command -v ab >/dev/null || { echo "soak: ab (apache2-utils) is not installed"; exit 2; }
mkdir -p "$OUT"
rm -f "$OUT"/*.err "$OUT"/*.out "$OUT"/rss.tsv "$OUT"/summary.txt

# The mix: each line is NAME|ARGS of `concviz run`. Small parameters, so that each process goes
# through hundreds of whole runs (a run's set-up and teardown is where a leak would pile up),
# and mostly waiting, so the five share two cores.
mix() {
    cat <<'MIX'
hybrid|hybrid-offload --model hybrid --set work_ms=20 --set rounds=2
pipeline-procs|pipeline --model procs --set items=60 --set consume_ms=5
fetch-threads|io-fetch --model threads --set delays_ms=80,20,60,10,40,30,70,50
phases-openmp|sync-primitives --model openmp --set phases=4 --set work_ms=5
race-epoll|counter-race --model epoll --set variant=mutex --set iterations=20000
MIX
}

PIDS=()
NAMES=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

while IFS='|' read -r name args; do
    # shellcheck disable=SC2086 # args is a list of words
    "$CONCVIZ" run $args --for "$SECONDS_" --quiet >"$OUT/$name.out" 2>"$OUT/$name.err" &
    PIDS+=($!)
    NAMES+=("$name")
done < <(mix)

# The embedded server alone, with a burst of requests every interval (bounded: it stops by
# itself after the soak, and each burst is a fixed number of requests).
"$CONCVIZ" serve --for $((SECONDS_ + 10)) >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVE=$!
PIDS+=("$SERVE")
NAMES+=("serve")
for _ in $(seq 100); do [ -s "$OUT/serve.out" ] && break; sleep 0.1; done
URL=$(head -1 "$OUT/serve.out")
PATHS=(/get /bytes/4096 /delay/5 /status/404 /flaky/soak?fail=1)

echo "soak: ${#NAMES[@]} processes for ${SECONDS_}s, RSS sampled every ${INTERVAL}s into $OUT/rss.tsv"
printf 'seconds\tprocess\tpid\trss_kb\n' >"$OUT/rss.tsv"
start=$(date +%s.%N)
burst=0
ab_failed=0
ab_requests=0
while :; do
    now=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
    alive=0
    for i in "${!PIDS[@]}"; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[$i]}/status" 2>/dev/null || true)
        [ -n "$rss" ] || continue
        # a process that ended is a zombie without VmRSS until reaped: not sampled
        alive=$((alive + 1))
        printf '%s\t%s\t%s\t%s\n' "$t" "${NAMES[$i]}" "${PIDS[$i]}" "$rss" >>"$OUT/rss.tsv"
    done
    [ "$alive" -gt 0 ] || break
    # each process ends its last run soon after SOAK_SECONDS; one that does not is stuck
    if awk -v t="$t" -v s="$SECONDS_" 'BEGIN { exit !(t > s + 120) }'; then
        echo "soak: processes still running 120 s after the end; stopping them"
        cleanup
        break
    fi
    if awk -v t="$t" -v s="$SECONDS_" 'BEGIN { exit !(t < s - 1) }'; then
        p=${PATHS[$((burst % ${#PATHS[@]}))]}
        burst=$((burst + 1))
        if ab -q -n 2000 -c 50 "$URL$p" >"$OUT/ab.out" 2>&1; then
            ab_requests=$((ab_requests + $(awk '/^Complete requests:/ { print $3 }' "$OUT/ab.out")))
            # failures other than a body length that changes (/flaky's attempt count does)
            ab_failed=$((ab_failed + $(awk '/^Failed requests:/ { f = $3 }
                /^ *\(Connect:/ { gsub(/[(),]/, " "); f = $2 + $4 + $8 }
                END { print f + 0 }' "$OUT/ab.out")))
        else
            ab_failed=$((ab_failed + 1))
            echo "soak: ab $p failed: $(tail -1 "$OUT/ab.out")"
        fi
    elif [ "${SERVE_STOPPED:-}" = "" ]; then
        kill -INT "$SERVE" 2>/dev/null || true # the soak is over: stop the server now
        SERVE_STOPPED=1
    fi
    sleep "$INTERVAL"
done

fail=0
for i in "${!PIDS[@]}"; do
    set +e
    wait "${PIDS[$i]}"
    rc=$?
    set -e
    if [ "$rc" != 0 ]; then
        echo "soak: ${NAMES[$i]} exited $rc: $(tail -2 "$OUT/${NAMES[$i]}.err" | tr '\n' ' ')"
        fail=1
    fi
done
PIDS=()
[ "$ab_failed" = 0 ] || { echo "soak: $ab_failed failed requests to the server"; fail=1; }

# Per process: runs done, first/peak/last sample, the highest sample after warm-up (second
# fifth) and at the end (last fifth), the least-squares slope after warm-up, the verdict.
{
    printf '%-16s %6s %9s %9s %9s %9s %9s %11s  %s\n' process runs start_kb peak_kb end_kb \
        warm_kb late_kb slope_kb/min verdict
    for name in "${NAMES[@]}"; do
        runs=$(sed -n 's/^concviz: \([0-9]*\) runs\{0,1\} of .*/\1/p' "$OUT/$name.err" | tail -1)
        [ "$name" = serve ] && runs="${ab_requests}req"
        awk -F'\t' -v name="$name" -v T="$SECONDS_" -v pct="$MARGIN_PCT" -v mkb="$MARGIN_KB" \
            -v runs="${runs:-?}" '
            NR > 1 && $2 == name {
                n++; t[n] = $1; r[n] = $4
                if (n == 1) first = $4
                last = $4
                if ($4 > peak) peak = $4
                if ($1 >= T / 5 && $1 < 2 * T / 5 && $4 > warm) warm = $4
                if ($1 >= 4 * T / 5 && $4 > late) late = $4
            }
            END {
                if (n < 5 || !warm || !late) { printf "%-16s too few samples (%d)\n", name, n; exit 1 }
                sx = sy = sxx = sxy = m = 0
                for (i = 1; i <= n; i++) if (t[i] >= T / 5) {
                    m++; sx += t[i]; sy += r[i]; sxx += t[i] * t[i]; sxy += t[i] * r[i]
                }
                d = m * sxx - sx * sx
                slope = d > 0 ? (m * sxy - sx * sy) / d * 60 : 0
                allow = warm * pct / 100; if (allow < mkb) allow = mkb
                ok = late - warm <= allow
                printf "%-16s %6s %9d %9d %9d %9d %9d %11.1f  %s\n", name, runs, first, peak, last, \
                    warm, late, slope, ok ? "flat" : sprintf("GROWS by %d KB (allowed %d)", late - warm, allow)
                exit !ok
            }' "$OUT/rss.tsv" || fail=1
    done
} | tee "$OUT/summary.txt"
grep -q "GROWS\|too few" "$OUT/summary.txt" && fail=1
echo "soak: samples in $OUT/rss.tsv; $([ "$fail" = 0 ] && echo "memory flat, every process exited 0" || echo FAILED)"
exit "$fail"

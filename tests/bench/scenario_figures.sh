#!/usr/bin/env bash
# The README's figures that come from running scenarios (not from a benchmark program): event
# rates, what a recording costs on disk and in time, the I/O scenarios' wall times and memory.
# Each run is `concviz run ... --json`, one after another; the tables are printed in the README's
# Markdown, then one "json: {...}" line (make bench gathers it with the others).
# Usage: scenario_figures.sh [CONCVIZ]   (default build/tui/concviz)
set -u
CV=${1:-build/tui/concviz}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), load $(cut -d' ' -f1-3 /proc/loadavg)"
json='{"bench":"scenario_figures"'

# run NAME ARGS...: one run; its summary in $TMP/NAME.json (exit status kept in $TMP/NAME.rc)
run() {
    local name=$1; shift
    "$CV" run "$@" --json >"$TMP/$name.json" 2>"$TMP/$name.err"
    echo $? >"$TMP/$name.rc"
}
field() { jq -r "$2" "$TMP/$1.json" 2>/dev/null || echo "?"; }

echo
echo "| run | wall | events | rate | dropped |"
echo "|---|---|---|---|---|"
rows=(
    "cpu-primes|cpu-primes"
    "cpu-primes --gil|cpu-primes --gil"
    "counter-race|counter-race"
    "counter-race --set variant=mutex|counter-race --set variant=mutex"
    "counter-race --set variant=mutex --gil|counter-race --set variant=mutex --gil"
    "gil-contention|gil-contention"
    "pipeline|pipeline"
    "gather-sleep|gather-sleep"
)
i=0
for row in "${rows[@]}"; do
    label=${row%%|*}
    read -ra args <<<"${row#*|}"
    run "rate$i" "${args[@]}"
    wall=$(field "rate$i" .wall_s)
    events=$(field "rate$i" .events.recorded)
    dropped=$(field "rate$i" .events.dropped)
    printf '| `%s` | %.2f s | %s | %s | %s |\n' "$label" "$wall" \
        "$(printf '%d' "$events" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')" \
        "$(awk -v e="$events" -v w="$wall" 'BEGIN { r = e / w; if (r < 1000) print "<1 k/s"; else if (r < 1e6) printf "%.0f k/s", r / 1e3; else printf "%.1f M/s", r / 1e6 }')" \
        "$dropped"
    json+=",\"rate_$i\":{\"run\":\"$label\",\"wall_s\":$wall,\"events\":$events,\"dropped\":$dropped}"
    i=$((i + 1))
done

# Recording: the event-heavy run, twice with and twice without, then reading it back.
echo
for k in 1 2; do
    run plain$k counter-race --set variant=mutex
    rm -f "$TMP/m$k.cvr"
    run rec$k counter-race --set variant=mutex --record "$TMP/m$k.cvr"
done
for k in 1 2; do
    bytes=$(stat -c %s "$TMP/m$k.cvr")
    events=$(field rec$k .events.recorded)
    echo "recording $k: $events events in $bytes bytes, $(awk -v b="$bytes" -v e="$events" 'BEGIN { printf "%.2f", b / e }') bytes per event; wall $(field rec$k .wall_s) s recorded, $(field plain$k .wall_s) s without"
    json+=",\"record_$k\":{\"events\":$events,\"bytes\":$bytes,\"wall_s\":$(field rec$k .wall_s),\"plain_wall_s\":$(field plain$k .wall_s)}"
done
t0=$(date +%s.%N)
"$CV" replay "$TMP/m1.cvr" --json >/dev/null
t1=$(date +%s.%N)
"$CV" export "$TMP/m1.cvr" --format chrome -o "$TMP/m1.json" 2>/dev/null
t2=$(date +%s.%N)
replay_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
export_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
echo "replay --json: $replay_s s; export --format chrome: $export_s s"
json+=",\"replay_s\":$replay_s,\"export_chrome_s\":$export_s"

# I/O scenarios
echo
echo "| run | figure |"
echo "|---|---|"
run c10k_epoll c10k --model epoll
echo "| \`c10k --model epoll\` (10,000 x \`/delay/500\`, one engine thread) | $(field c10k_epoll '"\(.wall_s * 100 | round / 100) s, \(.inflight_max) in flight, \(.runtime.memory_per_inflight_kb | round) KB per in-flight task, \(.runtime.peak_rss_kb / 1024 | round) MB peak RSS"') |"
run c10k_threads c10k --model threads
echo "| \`c10k --model threads\` (1,000 threads) | $(field c10k_threads '"\(.wall_s * 100 | round / 100) s, \(.inflight_max) in flight, \(.runtime.memory_per_inflight_kb | round) KB per in-flight task"') |"
ivs=""
for m in serial threads epoll; do
    run ivs_$m io-vs-sequential --model $m
    ivs+="${ivs:+, }$m $(field ivs_$m '.wall_s * 100 | round / 100') s"
done
echo "| \`io-vs-sequential\` (20 x \`/delay/1000\`) | $ivs |"
json+=",\"c10k_epoll_wall_s\":$(field c10k_epoll .wall_s),\"c10k_epoll_peak_rss_kb\":$(field c10k_epoll .runtime.peak_rss_kb)"
json+=",\"c10k_threads_wall_s\":$(field c10k_threads .wall_s)"

failed=0
for f in "$TMP"/*.rc; do
    [ "$(cat "$f")" = 0 ] || { echo "# $(basename "$f" .rc) exited $(cat "$f"): $(head -c 300 "${f%.rc}.err")"; failed=1; }
done
echo "json: $json,\"all_runs_ok\":$([ $failed = 0 ] && echo true || echo false)}"
exit $failed

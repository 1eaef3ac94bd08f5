#!/usr/bin/env bash
# SVG export: recordings of pipeline and counter-race (mutex) become well-formed SVG with every
# lane, a legend of exactly the states drawn, lock waits marked, a queue curve only where there
# is a queue, and a time axis that --from/--to narrow; bad windows and --from with another format
# exit 2 with one line, a missing file 3; a recording cut short, the kept recordings and names
# that need escaping still give valid files.
. "$(dirname "$0")/lib.sh"
GOLDEN="$(dirname "$0")/../golden"

# well_formed FILE: parses as XML (xmllint when installed, else Python's parser)
if command -v xmllint >/dev/null 2>&1; then
    well_formed() { xmllint --noout "$1" 2>"$TMP/xml.err"; }
else
    well_formed() {
        python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" \
            2>"$TMP/xml.err"
    }
fi
# the states drawn in lanes, and the legend's keys, one per line, sorted
drawn_states() { grep -o '<g class="state [a-z_]*"' "$1" | sed 's/.* //; s/"//' | sort -u; }
legend_keys() { grep -o 'class="legend" data-key="[a-z_]*"' "$1" | sed 's/.*data-key="//; s/"//' | sort -u; }
# the time axis labels, in seconds, one per line
tick_seconds() {
    grep -o '<text class="tick"[^>]*>[^<]*' "$1" | sed 's/.*>//' |
        awk '{ u = $2 == "s" ? 1 : $2 == "ms" ? 1e-3 : $2 == "us" ? 1e-6 : 1e-9; printf "%.9f\n", $1 * u }'
}
one_line() { test "$(printf '%s\n' "$ERR" | wc -l)" = 1 -a -n "$ERR"; }

# --- pipeline: lanes, legend, queue curve ---
run_cv 0 run pipeline --headless -q --record "$TMP/pipe.cvr"
run_cv 0 replay "$TMP/pipe.cvr" --json
printf '%s' "$OUT" >"$TMP/pipe.json"
run_cv 0 export "$TMP/pipe.cvr" --format svg -o "$TMP/pipe.svg"
S="$TMP/pipe.svg"
check "pipeline: the SVG is well-formed XML" well_formed "$S"
check "pipeline: an <svg> root, about 1200 px wide" grep -q '<svg xmlns="http://www.w3.org/2000/svg" width="1200"' "$S"
missing=""
for lane in $(jqv '.lanes[].name' "$TMP/pipe.json"); do
    grep -q "data-lane=\"$lane\"" "$S" && grep -q ">$lane</text>" "$S" || missing="$missing $lane"
done
check "pipeline: every lane is a named row ($(jq '.lanes | length' "$TMP/pipe.json") lanes)${missing:+, missing:$missing}" test -z "$missing"
check "pipeline: running and queue waits are drawn" \
    test "$(drawn_states "$S" | grep -cx -e running -e queue_wait)" = 2
# same_states SVG: states are drawn, and the legend lists exactly those
same_states() {
    [ -n "$(drawn_states "$1")" ] &&
        [ "$(drawn_states "$1")" = "$(legend_keys "$1" | grep -vx -e lockmark -e queue -e deadlock)" ]
}
check "pipeline: the legend lists exactly the states drawn ($(drawn_states "$S" | tr '\n' ' '))" \
    same_states "$S"
check "pipeline: the legend names the queue curve" grep -q 'data-key="queue"' "$S"
check "pipeline: one depth polyline per queue" \
    test "$(grep -c '<polyline' "$S")" = "$(jqv '.queues | length' "$TMP/pipe.json")"
max_depth=$(jqv '.queues[0].max_depth' "$TMP/pipe.json")
check "pipeline: the queue's axis goes up to its max depth ($max_depth)" \
    grep -q "text-anchor=\"end\" font-size=\"10\">$max_depth</text>" "$S"
wall=$(jqv .wall_s "$TMP/pipe.json")
check "pipeline: the title names scenario, model, workers and GIL" \
    grep -Eq '<text class="title"[^>]*>pipeline · threads · [0-9]+ workers · no GIL · ' "$S"
last=$(tick_seconds "$S" | tail -1)
check "pipeline: ticks span the run (last $last s of $wall s)" fcmp "$last >= 0.7 * $wall && $last <= $wall"
check "pipeline: ticks start at 0" test "$(tick_seconds "$S" | head -1)" = 0.000000000
check "pipeline: rectangles bounded (at most one per pixel column per lane)" \
    test "$(grep -o '<rect' "$S" | wc -l)" -lt $((1200 * ($(jqv '.lanes | length' "$TMP/pipe.json") + 1)))

# --- the window: --from/--to narrow the axis ---
run_cv 0 export "$TMP/pipe.cvr" --format svg --from 0.5 --to 1 -o "$TMP/win.svg"
W="$TMP/win.svg"
check "window: well-formed" well_formed "$W"
first=$(tick_seconds "$W" | head -1)
last=$(tick_seconds "$W" | tail -1)
check "window 0.5-1 s: ticks from $first to $last s, within it" \
    fcmp "$first >= 0.5 && $last <= 1 && $last - $first >= 0.4"
check "window: the title says which" grep -q 'window 500 ms – 1 s</text>' "$W"
run_cv 0 export "$TMP/pipe.cvr" --format svg --from 0.25 --to 0.2505 -o "$TMP/narrow.svg"
first=$(tick_seconds "$TMP/narrow.svg" | head -1)
last=$(tick_seconds "$TMP/narrow.svg" | tail -1)
check "window of 0.5 ms: ticks $first..$last s, in round steps" \
    fcmp "$first >= 0.25 && $last <= 0.2505 && $(tick_seconds "$TMP/narrow.svg" | wc -l) >= 4"
run_cv 0 export "$TMP/pipe.cvr" --format svg --from 0.5 --to 1000000 -o "$TMP/clamp.svg"
last=$(tick_seconds "$TMP/clamp.svg" | tail -1)
check "window past the end: clamped to the run (last tick $last s)" fcmp "$last <= $wall"

# --- bad windows and options: one line, exit 2; a missing file: exit 3 ---
for bad in "--from -1" "--from abc" "--to 0" "--to x1" "--from 0.6 --to 0.5" "--from 0.5 --to 0.5" \
    "--from 1000" "--from nan" "--from"; do
    # shellcheck disable=SC2086
    run_cv 2 export "$TMP/pipe.cvr" --format svg -o "$TMP/bad.svg" $bad &&
        check "bad window '$bad': exit 2 with one line ($ERR)" one_line
done
check "bad windows: no file written" test ! -e "$TMP/bad.svg"
run_cv 2 export "$TMP/pipe.cvr" --format csv --from 0.5 &&
    check "--from with --format csv: exit 2, one line" one_line
check "--from with --format csv: the line says it is for svg" grep -q "for --format svg" <<<"$ERR"
run_cv 2 export "$TMP/pipe.cvr" --format chrome --to 1 &&
    check "--to with --format chrome: exit 2, one line" one_line
run_cv 3 export "$TMP/missing.cvr" --format svg &&
    check "missing file: exit 3, one line" one_line
check "missing file: the line says so" grep -q "No such file" <<<"$ERR"
run_cv 0 export --help
check "help: the formats include svg" grep -q "chrome|csv|json|svg" <<<"$OUT"
check "help: --from" grep -q -e "--from T  " <<<"$OUT"
check "help: --to" grep -q -e "--to T  " <<<"$OUT"

# --- counter-race with a mutex: lock waits marked, no queue curve ---
run_cv 0 run counter-race --set variant=mutex --set iterations=100000 --headless -q \
    --record "$TMP/mutex.cvr"
run_cv 0 replay "$TMP/mutex.cvr" --json
printf '%s' "$OUT" >"$TMP/mutex.json"
run_cv 0 export "$TMP/mutex.cvr" --format svg -o "$TMP/mutex.svg"
M="$TMP/mutex.svg"
check "counter-race: well-formed" well_formed "$M"
missing=""
for lane in $(jqv '.lanes[].name' "$TMP/mutex.json"); do
    grep -q "data-lane=\"$lane\"" "$M" || missing="$missing $lane"
done
check "counter-race: every lane is a row${missing:+, missing:$missing}" test -z "$missing"
contended=$(jqv '.locks[0].contended' "$TMP/mutex.json")
if [ "$contended" = 0 ]; then
    skip "counter-race: lock waits marked: no acquisition was contended in this run"
else
    check "counter-race: $contended contended acquisitions, lock waits marked under the lanes" \
        grep -q '<g class="lockmark"' "$M"
    check "counter-race: the legend explains the lock mark" grep -q 'data-key="lockmark"' "$M"
fi
check "counter-race: the legend lists exactly the states drawn ($(drawn_states "$M" | tr '\n' ' '))" \
    same_states "$M"
check "counter-race: no queue, no polyline" test "$(grep -c '<polyline' "$M")" = 0
size=$(stat -c %s "$M")
events=$(jqv .events.recorded "$TMP/mutex.json")
echo "# counter-race mutex: $events events -> $size bytes of SVG; pipeline: $(stat -c %s "$S") bytes"
check "counter-race: the picture stays small ($size bytes for $events events)" \
    fcmp "$size < 400000 && $events > 0"

# --- a recording cut short still exports what it holds ---
bytes=$(stat -c %s "$TMP/mutex.cvr")
head -c $((bytes / 2)) "$TMP/mutex.cvr" >"$TMP/half.cvr"
run_cv 0 export "$TMP/half.cvr" --format svg -o "$TMP/half.svg"
check "cut short: exports, well-formed" well_formed "$TMP/half.svg"
check "cut short: the warning says so" grep -q "cut short" <<<"$ERR"
check "cut short: the title too" grep -q "(cut short)" "$TMP/half.svg"
check "cut short: every lane still a row" \
    test "$(grep -c '<g class="lane"' "$TMP/half.svg")" = "$(jqv '.lanes | length' "$TMP/mutex.json")"

# --- the kept recordings ---
run_cv 0 export "$GOLDEN/deadlock.cvr" --format svg -o "$TMP/dl.svg"
check "golden deadlock: well-formed" well_formed "$TMP/dl.svg"
check "golden deadlock: lock waits drawn" grep -q '<g class="state lock_wait"' "$TMP/dl.svg"
check "golden deadlock: the deadlock marked" grep -q '<g class="deadlock"' "$TMP/dl.svg"
run_cv 0 export "$GOLDEN/pipeline.cvr" --format svg -o "$TMP/gp.svg"
check "golden pipeline: well-formed" well_formed "$TMP/gp.svg"
check "golden pipeline: one queue curve" test "$(grep -c "<polyline" "$TMP/gp.svg")" = 1
run_cv 0 export "$GOLDEN/pipeline.cvr" --format svg
check "to stdout without -o: the same picture" eval '[ -s "$TMP/gp.svg" ] && [ "$OUT" = "$(cat "$TMP/gp.svg")" ]'

# --- names that need escaping: a lane renamed in the recording's header (CRC fixed) ---
python3 - "$GOLDEN/pipeline.cvr" "$TMP/esc.cvr" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
typ, ln = struct.unpack_from('<II', b, 12)  # after magic and version: the HEAD record
p = bytes(b[20:20 + ln])
old, new = b' producer-1\n', b' p&<"\'>er-1\n'  # same length: offsets stay valid
assert typ == 1 and p.count(old) == 1
p = p.replace(old, new)
b[20:20 + ln] = p
struct.pack_into('<I', b, 20 + ln, zlib.crc32(p))
open(sys.argv[2], 'wb').write(b)
EOF
run_cv 0 export "$TMP/esc.cvr" --format svg -o "$TMP/esc.svg"
check "escaping: & < > \" ' in a lane name give well-formed XML" well_formed "$TMP/esc.svg"
check "escaping: the name is there, escaped" \
    grep -q "data-lane=\"p&amp;&lt;&quot;&apos;&gt;er-1\"" "$TMP/esc.svg"

finish

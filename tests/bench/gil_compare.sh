#!/usr/bin/env bash
# gil_compare: the real GIL (CPython 3.11, traced: scenarios/python/cpu_threads.py 2) beside the
# emulated one (concviz run gil-contention, 2 workers, 2.5 M increments: about as long), three
# runs each, from their recordings' events: while both threads compute, the GIL's hand-overs
# between them per second, and the share of that time each waits for it. Prints a table and one
# "json: {...}" line. Needs python3 3.11 (Debian 12's); says so and exits 0 without it.
# Usage: gil_compare.sh [CONCVIZ]   (default build/tui/concviz)
set -u
CV=${1:-build/tui/concviz}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PY=$(command -v /usr/bin/python3 || command -v python3 || true)
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "gil_compare: no python3 3.11 (the GIL concviz knows); nothing measured"
    exit 0
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# overlap CSV LANE1 LANE2: "seconds handoffs_per_s share1 share2" while both lanes live
cat >"$TMP/overlap.py" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
lanes = sys.argv[2:]
life = {}
for l in lanes:
    ts = [int(r["ts_ns"]) for r in rows if r["lane_name"] == l]
    life[l] = (ts[0], ts[-1])
start = max(a for a, b in life.values())
end = min(b for a, b in life.values())
prev, hand = None, 0
for r in rows:
    if r["kind"] == "gil.acquire" and r["lane_name"] in lanes and start <= int(r["ts_ns"]) <= end:
        hand += prev is not None and r["lane_name"] != prev
        prev = r["lane_name"]
shares = []
for l in lanes:
    waited, since = 0, None
    for r in rows:
        if r["lane_name"] != l:
            continue
        t = int(r["ts_ns"])
        if r["kind"] == "gil.wait" and since is None:
            since = t
        elif r["kind"] == "gil.acquire" and since is not None:
            waited += max(0, min(t, end) - max(since, start))
            since = None
    shares.append(waited / (end - start))
secs = (end - start) / 1e9
print(f"{secs:.3f} {hand / secs:.0f} {shares[0]:.2f} {shares[1]:.2f}")
PYEOF

echo
echo "| run | both computing, s | hand-overs per s | wait share, thread 1 | thread 2 |"
echo "|---|---|---|---|---|"
real=() emu=()
for i in 1 2 3; do
    "$CV" trace --json -q --record "$TMP/real$i.cvr" -- "$PY" "$SRC/scenarios/python/cpu_threads.py" 2 >/dev/null 2>&1
    "$CV" export "$TMP/real$i.cvr" --format csv >"$TMP/real$i.csv"
    read -r s h a b < <("$PY" "$TMP/overlap.py" "$TMP/real$i.csv" spin-1 spin-2)
    echo "| real CPython $("$PY" -c 'import platform; print(platform.python_version())'), run $i | $s | $h | $a | $b |"
    real+=("$h")
    "$CV" run gil-contention --json -q --set increments=2500000 --record "$TMP/emu$i.cvr" >/dev/null
    "$CV" export "$TMP/emu$i.cvr" --format csv >"$TMP/emu$i.csv"
    read -r s h a b < <("$PY" "$TMP/overlap.py" "$TMP/emu$i.csv" worker-1 worker-2)
    echo "| emulated (gil-contention), run $i | $s | $h | $a | $b |"
    emu+=("$h")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo
echo "json: {\"bench\":\"gil_compare\",\"real_handoffs_per_s\":$(median "${real[@]}"),\"emulated_handoffs_per_s\":$(median "${emu[@]}")}"

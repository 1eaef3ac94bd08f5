#!/usr/bin/env bash
# compare_baseline.sh NEW.json BASELINE.json [PERCENT]: the regression guard of `make bench`.
# Both files are what `make bench` gathers (an array of the benchmarks' `json:` objects, each
# named by its "bench" key, which make bench sets to the benchmark's name where it has none). Every number in both is compared by its path (bench.key, or
# bench.key[i] inside lists); the figures that moved by more than PERCENT (20) are printed with
# their direction, and a count of those compared. A figure whose name says it is a ratio
# (ratio, x_, speedup, per_, share, overhead) is machine-independent and marked so; the others
# (times, rates) move with the machine as much as with the code. Not a test: the exit status is
# 0 whatever moved (1 only when a file cannot be read).
set -euo pipefail
new=${1:?usage: compare_baseline.sh NEW.json BASELINE.json [PERCENT]}
base=${2:?usage: compare_baseline.sh NEW.json BASELINE.json [PERCENT]}
pct=${3:-20}
for f in "$new" "$base"; do
    [ -s "$f" ] && jq -e 'type == "array"' "$f" >/dev/null 2>&1 || { echo "compare_baseline: $f: not the array make bench writes" >&2; exit 1; }
done

# every numeric leaf as "path<TAB>value", a benchmark's figures under its "bench" name
# (one without a "bench" key by its place in the run, which follows BENCHES)
flat='to_entries[] | (.value.bench? // ("bench" + (.key | tostring))) as $b | .value |
  paths(numbers) as $p | [$b + "." + ($p | map(tostring) | join(".")), getpath($p)] | @tsv'
jq -r "$flat" "$base" | sort >"${TMPDIR:-/tmp}/cb-base.$$"
jq -r "$flat" "$new" | sort >"${TMPDIR:-/tmp}/cb-new.$$"
trap 'rm -f "${TMPDIR:-/tmp}"/cb-base.$$ "${TMPDIR:-/tmp}"/cb-new.$$' EXIT

join -t $'\t' "${TMPDIR:-/tmp}/cb-base.$$" "${TMPDIR:-/tmp}/cb-new.$$" | awk -F'\t' -v pct="$pct" '
    function abs(x) { return x < 0 ? -x : x }
    {
        n++
        if ($2 == 0 && $3 == 0) next
        if ($2 == 0) { printf "  %-60s %12s -> %-12s new (was 0)\n", $1, $2, $3; moved++; next }
        change = ($3 - $2) / abs($2) * 100
        if (abs(change) <= pct) next
        kind = ($1 ~ /ratio|speedup|share|overhead|per_|_x|x_/) ? "ratio" : "machine"
        printf "  %-60s %12.6g -> %-12.6g %+7.1f%% %s  [%s]\n", $1, $2, $3, change,
            (change > 0 ? "up" : "down"), kind
        moved++
    }
    END {
        printf "baseline: %d figure(s) compared, %d moved by more than %s%%\n", n, moved, pct
    }'
only_base=$(join -t $'\t' -v 1 "${TMPDIR:-/tmp}/cb-base.$$" "${TMPDIR:-/tmp}/cb-new.$$" | wc -l)
only_new=$(join -t $'\t' -v 2 "${TMPDIR:-/tmp}/cb-base.$$" "${TMPDIR:-/tmp}/cb-new.$$" | wc -l)
[ "$only_base$only_new" = 00 ] ||
    echo "baseline: $only_base figure(s) only in the baseline, $only_new only in this run (benchmarks not run, or renamed)"

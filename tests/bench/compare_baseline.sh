#!/usr/bin/env bash
# compare_baseline.sh NEW.json BASELINE.json [PERCENT]: the regression guard of `make bench`.
# compare_baseline.sh --write NEW.json BASELINE.json: writes the baseline (`make bench-baseline`).
# Both files are what `make bench` gathers: an array of the benchmarks' `json:` objects, each named
# by its "bench" key (make bench sets it to the benchmark's name where it has none). Every number
# is a figure, named by its path (bench.key, bench.key.N inside lists), of one of three kinds:
#   ratio    its name says it is a ratio or share (ratio, share, distortion, speedup, overhead,
#            per_wall, per_unit, per_event, per_inflight, _x): the machine barely moves it
#   count    events, bytes, drops, tasks, memory, lanes: what the code does, not how fast
#   machine  a time or rate (a name with ns, s, ms, us, rps, fps, ghz, load, seconds): it moves
#            with the machine as much as with the code
# The baseline keeps ratios and counts only (--write drops the machine figures). The comparison
# prints every kept figure that moved by more than PERCENT (20), with its direction and kind, and
# how many were compared. Not a test: the exit status is 0 whatever moved (1 only when a file
# cannot be read).
set -euo pipefail
write=false
if [ "${1:-}" = --write ]; then
    write=true
    shift
fi
new=${1:?usage: compare_baseline.sh [--write] NEW.json BASELINE.json [PERCENT]}
base=${2:?usage: compare_baseline.sh [--write] NEW.json BASELINE.json [PERCENT]}
pct=${3:-20}

# kind(path): "ratio", "count" or "machine". The names along the path decide, the leaf's first
# (list indexes skipped): `dispatch_us_per_task.epoll.ratio` is a ratio, `...epoll.engine` a time
# (by `us` above it), `...epoll.dropped` a count; a path no name decides is taken as machine-bound.
classify='def word_kind:
  if test("ratio|share|distortion|speedup|overhead|per_wall|per_unit|per_event|per_inflight|_x$")
  then "ratio"
  else [splits("[._]")] as $t |
    if ($t | any(. as $w | ["ns", "s", "ms", "us", "rps", "fps", "ghz", "load", "loadavg",
          "seconds"] | index([$w]))) then "machine"
    elif ($t | any(. as $w | ["events", "event", "dropped", "drops", "lost", "bytes", "kb", "mb",
          "tasks", "completed", "submitted", "lanes", "inflight", "os",
          "emitted", "discarded", "left", "requests", "trips", "matches", "subbuf"] | index([$w])))
    then "count"
    else null end
  end;
def kind($p):
  [$p[] | strings | word_kind | values] | if length > 0 then last else "machine" end;'

if $write; then
    jq -e 'type == "array"' "$new" >/dev/null 2>&1 || { echo "compare_baseline: $new: not the array make bench writes" >&2; exit 1; }
    jq "$classify"' [paths(numbers) as $p | select(kind($p) == "machine") | $p] as $drop | delpaths($drop)' \
        "$new" >"$base.tmp.$$"
    mv "$base.tmp.$$" "$base"
    echo "baseline: $base written: $(jq "$classify"' [paths(numbers) as $p | kind($p)] | length' "$base") ratios and counts kept, $(jq "$classify"' [paths(numbers) as $p | select(kind($p) == "machine")] | length' "$new") times and rates left out"
    exit 0
fi

for f in "$new" "$base"; do
    [ -s "$f" ] && jq -e 'type == "array"' "$f" >/dev/null 2>&1 || { echo "compare_baseline: $f: not the array make bench writes" >&2; exit 1; }
done

# every numeric leaf as "path<TAB>value<TAB>kind", a benchmark's figures under its "bench" name
# (one without a "bench" key by its place in the run, which follows BENCHES)
flat="$classify"' to_entries[] | (.value.bench? // ("bench" + (.key | tostring))) as $b | .value |
  paths(numbers) as $p | [$b + "." + ($p | map(tostring) | join(".")), getpath($p), kind($p)] | @tsv'
tmp=${TMPDIR:-/tmp}
jq -r "$flat" "$base" | grep -v $'\tmachine$' | cut -f1,2 | sort >"$tmp/cb-base.$$" || true
jq -r "$flat" "$new" | sort >"$tmp/cb-new.$$"
trap 'rm -f "$tmp"/cb-base.$$ "$tmp"/cb-new.$$' EXIT

join -t $'\t' "$tmp/cb-base.$$" "$tmp/cb-new.$$" | awk -F'\t' -v pct="$pct" '
    function abs(x) { return x < 0 ? -x : x }
    {
        n++
        if ($2 == 0 && $3 == 0) next
        if ($2 == 0) { printf "  %-60s %12s -> %-12s new (was 0)  [%s]\n", $1, $2, $3, $4; moved++; next }
        change = ($3 - $2) / abs($2) * 100
        if (abs(change) <= pct) next
        printf "  %-60s %12.6g -> %-12.6g %+7.1f%% %s  [%s]\n", $1, $2, $3, change,
            (change > 0 ? "up" : "down"), $4
        moved++
    }
    END {
        printf "baseline: %d figure(s) compared (ratios and counts), %d moved by more than %s%%\n",
            n, moved, pct
    }'
only_base=$(join -t $'\t' -v 1 "$tmp/cb-base.$$" "$tmp/cb-new.$$" | wc -l)
only_new=$(join -t $'\t' -v 2 "$tmp/cb-base.$$" "$tmp/cb-new.$$" | grep -vc $'\tmachine$' || true)
machine=$(grep -c $'\tmachine$' "$tmp/cb-new.$$" || true)
echo "baseline: $machine time and rate figure(s) of this run not compared (they move with the machine)"
[ "$only_base$only_new" = 00 ] ||
    echo "baseline: $only_base figure(s) only in the baseline, $only_new only in this run (benchmarks not run, or renamed)"

#!/usr/bin/env bash
# Regenerates the seed corpus of fuzz_recording (tests/fuzz/corpus/) with a concviz binary, e.g.
# after the recording format changes:
#   tests/fuzz/make-corpus.sh build/tui/concviz
# Short recordings of several scenarios and models (a few KB each), one with checkpoints, cuts
# of them at several points, flipped bytes (header, chunk, footer, trailer), a wrong magic,
# another format version, an empty file and a bare file header. The corpus is replaced whole.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/concviz" >&2
    exit 2
fi
CONCVIZ=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DIR=$(cd "$(dirname "$0")" && pwd)/corpus
SCEN=$(cd "$(dirname "$0")/../../scenarios" && pwd)
export CONCVIZ_SCENARIO_DIR="$SCEN"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# record NAME SCENARIO ARGS...: a headless run recorded to corpus/NAME.cvr. Exit 1 (an
# expectation failed) still leaves a whole recording; anything else is an error.
record() {
    local name=$1
    shift
    local rc=0
    "$CONCVIZ" run "$@" --headless -q --record "$TMP/$name.cvr" >/dev/null 2>"$TMP/err" || rc=$?
    if [ "$rc" -gt 1 ] || [ ! -s "$TMP/$name.cvr" ]; then
        echo "make-corpus: concviz run $* --record failed (exit $rc):" >&2
        cat "$TMP/err" >&2
        exit 1
    fi
    echo "  $name.cvr  $(stat -c %s "$TMP/$name.cvr") bytes  ($*)"
}

# put_u32 FILE OFFSET VALUE: a little-endian u32 written over the file's bytes at OFFSET.
put_u32() {
    printf '%b' "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($3 & 255)) $(($3 >> 8 & 255)) \
        $(($3 >> 16 & 255)) $(($3 >> 24 & 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# flip FILE OFFSET: the byte at OFFSET with its lowest bit flipped.
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf '%b' "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# record_at FILE TYPE: "OFFSET LENGTH" of the first record of TYPE (1 HEAD, 2 SCEN, 3 TEXT,
# 4 EVTS, 5 INDX, 6 FOOT, 7 CKPT, 8 CKIX), walking the records from the file header on.
record_at() {
    local off=12 size type len
    size=$(stat -c %s "$1")
    while [ $((off + 8)) -le "$size" ]; do
        type=$(od -An -tu4 -j "$off" -N4 "$1" | tr -d ' ')
        len=$(od -An -tu4 -j $((off + 4)) -N4 "$1" | tr -d ' ')
        if [ "$type" = "$2" ]; then
            echo "$off $len"
            return
        fi
        off=$((off + 12 + len))
    done
    echo "make-corpus: no record of type $2 in $1" >&2
    exit 1
}

echo "make-corpus: recording into $DIR"
record deadlock deadlock
record pipeline pipeline
record pipeline-procs pipeline --model procs --set items=40
record counter-race counter-race --set iterations=2000
record counter-mutex counter-race --set variant=mutex --set iterations=400
record io-fetch-epoll io-fetch --model epoll
record barrier sync-primitives
record gil cpu-primes --gil --set repeat=2
record timeout-cancel timeout-cancel --set sleeps_ms=300,300,60,60 --set timeout_ms=200
record taskgroup-fail taskgroup-fail --set task_ms=200 --set fail_ms=50
record queue-join queue-join --set items=5 --set consume_ms=10 --set put_timeout_ms=5
record daemon-join daemon-join --set short_ms=30 --set work_ms=300 --set join_timeout_ms=60
# checkpoints of the collector's state (every 2 M events by default): here every 1000
CONCVIZ_CHECKPOINT_EVENTS=1000 record checkpoints pipeline --set items=300 --set consume_ms=4

# the pipeline (several chunks, an index, a footer) cut short at several points: in the file
# header, in the run's header, inside chunks, before the index, inside the footer, without
# the trailer
p="$TMP/pipeline.cvr"
size=$(stat -c %s "$p")
for cut in 12 100 $((size / 2)) $((size - 40)) $((size - 16)) $((size - 1)); do
    head -c "$cut" "$p" >"$TMP/cut-pipeline-$cut.cvr"
done
echo "  cut-pipeline-*.cvr  6 cuts of pipeline.cvr ($size bytes)"
# cut short inside the first checkpoint, and just after it (the scan finds it)
read -r off len <<<"$(record_at "$TMP/checkpoints.cvr" 7)"
head -c $((off + len / 2)) "$TMP/checkpoints.cvr" >"$TMP/cut-checkpoints-inside.cvr"
head -c $((off + 12 + len)) "$TMP/checkpoints.cvr" >"$TMP/cut-checkpoints-after.cvr"
echo "  cut-checkpoints-*.cvr  2 cuts of checkpoints.cvr at its first checkpoint (byte $off)"

d="$TMP/deadlock.cvr"
size=$(stat -c %s "$d")
cp "$d" "$TMP/flipped-header.cvr"
flip "$TMP/flipped-header.cvr" 30
cp "$d" "$TMP/flipped-chunk.cvr"
read -r off len <<<"$(record_at "$d" 4)"
flip "$TMP/flipped-chunk.cvr" $((off + 60))
cp "$d" "$TMP/flipped-footer.cvr"
read -r off len <<<"$(record_at "$d" 6)"
flip "$TMP/flipped-footer.cvr" $((off + 40))
cp "$d" "$TMP/flipped-trailer.cvr"
flip "$TMP/flipped-trailer.cvr" $((size - 4))
cp "$d" "$TMP/wrong-magic.cvr"
printf 'X' | dd of="$TMP/wrong-magic.cvr" bs=1 seek=0 conv=notrunc status=none
version=$(od -An -tu4 -j 8 -N4 "$d" | tr -d ' ')
cp "$d" "$TMP/wrong-version.cvr"
put_u32 "$TMP/wrong-version.cvr" 8 $((version + 1))
: >"$TMP/empty.cvr"
head -c 12 "$d" >"$TMP/file-header-only.cvr"
echo "  flipped-*, wrong-magic, wrong-version (format version $version + 1), empty, file-header-only"

rm -rf "$DIR"
mkdir -p "$DIR"
cp "$TMP"/*.cvr "$DIR"/
echo "make-corpus: $(ls "$DIR" | wc -l) files, $(du -cb "$DIR"/* | tail -1 | cut -f1) bytes"

#!/usr/bin/env bash
# Recording, replay and export: record headless, replay headless and get the same summary;
# recordings cut short (truncated, SIGTERM, SIGKILL, a file-size limit) still replay; bad files
# get one line and exit 3; Chrome traces pass trace_check.jq (the Trace Event Format's rules) and
# hold every lane, task, wait and queue counter of the run; CSV has one row per event.
. "$(dirname "$0")/lib.sh"
jqe() { jq -e "$@" >/dev/null; }

# record then replay: the same summary, byte for byte, over several scenarios and models
same=0
for args in "counter-race --set variant=mutex --set iterations=100000" "pipeline" \
    "io-fetch --model epoll" "deadlock" "cpu-primes --model procs" "counter-race --model openmp" \
    "gil-contention" "semaphore --model epoll" "hybrid-offload --model hybrid"; do
    f="$TMP/rec.cvr"
    rm -f "$f"
    # shellcheck disable=SC2086
    run_cv 0 run $args --record "$f" --json -q || continue
    printf '%s' "$OUT" >"$TMP/orig.json"
    run_cv 0 replay "$f" --json || continue
    if [ "$(jqv .schema "$TMP/orig.json")" != concviz.summary/1 ]; then
        bad "run of '$args' printed no summary"
    elif cmp -s "$TMP/orig.json" <(printf '%s' "$OUT"); then
        same=$((same + 1))
    else
        bad "replay of '$args' differs: $(diff "$TMP/orig.json" <(printf '%s' "$OUT") | head -5)"
    fi
done
check "record/replay: 9 scenario-model pairs give the same summary" test "$same" = 9

# the recording's cost: bytes on disk per lock hold (800,000 holds), 1.44 to 1.58 measured when
# each hold was two events (0.72 to 0.79 bytes per event, on two busy cores) and 1.40 to 1.95 since an
# uncontended hold is one event (lock.pair, whose hold time packs less well: 1.4 to 1.8 bytes per
# event), so twice that is a regression; the run's interleaving decides how well it packs, so a
# recording over the bound is made again, and the best of 3 decides
# (rings of 1 Mi events: about half a second of slack for the drain when the host takes a core
# away; with the default 128 Ki, tens of thousands were dropped on a host at load 5)
BYTES_PER_HOLD=3.0
for try in 1 2 3; do
    run_cv 0 run counter-race --set variant=mutex --set iterations=200000 --record "$TMP/big.cvr" \
        --ring-size 1048576 --json -q
    events=$(jqv .events.recorded)
    holds=$(jqv '[.locks[].acquisitions] | add')
    bytes=$(stat -c %s "$TMP/big.cvr")
    per=$(awk "BEGIN { printf \"%.3f\", $bytes / $holds }")
    echo "# $events events, $holds holds in $bytes bytes: $per B/hold"
    fcmp "$per < $BYTES_PER_HOLD" && break
done
check "recording: under $BYTES_PER_HOLD bytes per lock hold for counter-race (mutex): $per" \
    fcmp "$holds == 800000 && $per < $BYTES_PER_HOLD"
# (a sanitized build's collector may fall behind: the file must then still hold what was kept)
if [ -z "$SANITIZER" ]; then
    check "recording: no events dropped" test "$(jqv .events.dropped)" = 0
else
    skip "recording: no events dropped: not at the $SANITIZER sanitizer's speed"
fi
printf '%s' "$OUT" >"$TMP/big.json"

# cut at arbitrary points: what is whole replays, with a warning; nothing crashes or hangs
size=$bytes
cuts_ok=0
for cut in 100 2000 $((size / 7)) $((size / 3)) $((size / 2)) $((size - 40)) $((size - 1)); do
    head -c "$cut" "$TMP/big.cvr" >"$TMP/cut.cvr"
    set +e
    timeout 20 "$CONCVIZ" replay "$TMP/cut.cvr" --json >"$TMP/cut.json" 2>"$TMP/cut.err"
    rc=$?
    set -e
    if [ "$cut" -lt 300 ]; then
        # the header itself is cut: one line, exit 3
        [ "$rc" = 3 ] && [ "$(wc -l <"$TMP/cut.err")" = 1 ] && cuts_ok=$((cuts_ok + 1))
        continue
    fi
    if [ "$rc" = 3 ] && [ "$(wc -l <"$TMP/cut.err")" = 1 ] &&
        grep -q "the scenario text is missing or corrupt" "$TMP/cut.err"; then
        # cut inside the scenario's text, before any event: one line, exit 3
        cuts_ok=$((cuts_ok + 1))
        continue
    fi
    n=$(jq -r .events.recorded "$TMP/cut.json" 2>/dev/null || echo x)
    if [ "$rc" = 0 ] && grep -q "cut short" "$TMP/cut.err" && [ "$(jq -r .state "$TMP/cut.json")" = "cut short" ] &&
        [ "$n" -le "$events" ]; then
        cuts_ok=$((cuts_ok + 1))
    else
        bad "cut at $cut: rc=$rc, $(head -c 200 "$TMP/cut.err")"
    fi
done
check "truncated recordings: 7 cuts replay what they hold or fail cleanly" test "$cuts_ok" = 7
head -c $((size / 2)) "$TMP/big.cvr" >"$TMP/half.cvr"
run_cv 0 replay "$TMP/half.cvr" --json
check "truncated: the warning says how much was replayed" \
    grep -Eq "replaying [0-9]+ events up to [0-9.]+ s" <<<"$ERR"

# SIGTERM during a recorded run: the file is closed properly (footer and all)
"$CONCVIZ" run counter-race --set variant=mutex --record "$TMP/term.cvr" --headless -q \
    >/dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
reap "$pid"
check "SIGTERM: the run exits 130" test "$rc" = 130
run_cv 0 replay "$TMP/term.cvr" --json
check "SIGTERM: the recording is complete (no warning) and says stopped" \
    test -z "$ERR" -a "$(jqv .state)" = stopped

# SIGKILL: the chunks written so far replay
"$CONCVIZ" run counter-race --set variant=mutex --record "$TMP/kill.cvr" --headless -q \
    >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -KILL "$pid"
wait "$pid" || true
run_cv 0 replay "$TMP/kill.cvr" --json
check "SIGKILL: events up to the last chunk replay" fcmp "$(jqv .events.recorded) > 0"
check "SIGKILL: a warning says the recording was cut short" grep -q "cut short" <<<"$ERR"

# a full disk (a file-size limit here): a clear error, exit 3, and a file readable up to it
# (concviz ignores SIGXFSZ itself: the write fails with EFBIG and is reported)
set +e
(
    ulimit -f 300
    exec "$CONCVIZ" run counter-race --set variant=mutex --record "$TMP/full.cvr" --headless -q
) >/dev/null 2>"$TMP/full.err"
rc=$?
set -e
check "full disk: exit 3" test "$rc" = 3
check "full disk: the error names the file and what it holds" \
    grep -Eq "recording .*full.cvr: File too large; the file holds the run up to [0-9.]+ s" \
    "$TMP/full.err"
run_cv 0 replay "$TMP/full.cvr" --json
check "full disk: the file replays up to the failure" fcmp "$(jqv .events.recorded) > 0"
run_cv 3 run gather-sleep --record /dev/full -q
check "/dev/full: one line naming it" grep -q "^concviz: recording /dev/full: No space left" <<<"$ERR"
check "/dev/full: still the device afterwards (a failed recording removes nothing)" test -c /dev/full

# bad files: one line, exit 3
echo "not a recording" >"$TMP/text.cvr"
run_cv 3 replay "$TMP/text.cvr"
check "not a recording: one line" test "$ERR" = "concviz: $TMP/text.cvr: not a concviz recording"
run_cv 3 replay "$TMP/missing.cvr"
check "missing file: one line" grep -q "No such file or directory" <<<"$ERR"
printf 'CVZREC\r\n\x09\x00\x00\x00' >"$TMP/v9.cvr"
run_cv 3 replay "$TMP/v9.cvr"
check "unknown version: says which" grep -q "format version 9; this concviz reads version 2" <<<"$ERR"
# a flipped byte inside a chunk: the checksum catches it when the chunk is read (a replay
# feeding every event reads them all; one that restores a later checkpoint need not read it)
cp "$TMP/big.cvr" "$TMP/flip.cvr"
# the byte's complement (writing a fixed 0xff left it unchanged when it already was 0xff)
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$TMP/big.cvr" | tr -d ' ')
printf "\\$(printf '%03o' $((255 - byte)))" |
    dd of="$TMP/flip.cvr" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
differ() { ! cmp -s "$1" "$2"; }
check "the flipped file differs from the recording" differ "$TMP/big.cvr" "$TMP/flip.cvr"
set +e
CONCVIZ_REPLAY_CHECKPOINTS=0 timeout 20 "$CONCVIZ" replay "$TMP/flip.cvr" --json >/dev/null \
    2>"$TMP/flip.err"
rc=$?
set -e
check "corrupt chunk: exit 3 and a line naming the chunk" \
    test "$rc" = 3 -a "$(wc -l <"$TMP/flip.err")" = 1
# exporting it too: a corrupt file is exit 3, not a usage error
set +e
timeout 20 "$CONCVIZ" export "$TMP/flip.cvr" --format csv >/dev/null 2>"$TMP/flip.err"
rc=$?
set -e
check "corrupt chunk, export: exit 3 and a line naming the chunk" \
    test "$rc" = 3 -a "$(wc -l <"$TMP/flip.err")" = 1
run_cv 2 replay
run_cv 2 export "$TMP/big.cvr" --format xml
check "export: unknown format named" grep -q "unknown format 'xml'" <<<"$ERR"

# Chrome trace: passes the checker; every lane, task, wait and queue counter is there
run_cv 0 run pipeline --record "$TMP/pipe.cvr" --json -q
printf '%s' "$OUT" >"$TMP/pipe.json"
run_cv 0 export "$TMP/pipe.cvr" --format chrome -o "$TMP/pipe.trace.json"
T="$TMP/pipe.trace.json"
# (the fields each phase needs, B/E balanced and X slices nested per thread, flows paired)
check "chrome: a well-formed trace (trace_check.jq finds nothing)" valid_trace "$T"
check "chrome: one named thread per lane" \
    test "$(jqv '[.traceEvents[] | select(.name == "thread_name")] | length' "$T")" = "$(jqv '.lanes | length' "$TMP/pipe.json")"
check "chrome: queue depth counters for every push and pop" \
    test "$(jqv '[.traceEvents[] | select(.ph == "C" and (.name | startswith("queue depth")))] | length' "$T")" \
    = "$(jqv '[.queues[] | .pushed + .popped] | add' "$TMP/pipe.json")"
check "chrome: queue waits as slices" \
    jqe '[.traceEvents[] | select(.ph == "X" and (.name | startswith("queue")))] | length > 0' "$T"

run_cv 0 run counter-race --set variant=mutex --set iterations=20000 --workers 3 \
    --export-chrome "$TMP/mutex.trace.json" --json -q
M="$TMP/mutex.trace.json"
tasks=$(jqv .tasks.completed)
check "chrome: every task is a slice" \
    test "$(jqv '[.traceEvents[] | select(.cat == "task")] | length' "$M")" = "$tasks"
contended=$(jqv '.locks[0].contended')
waits=$(jqv '[.traceEvents[] | select(.ph == "X" and (.name | startswith("lock ")))] | length' "$M")
check "chrome: every contended acquisition is a lock wait slice ($waits of $contended)" \
    test "$waits" = "$contended"
flows=$(jqv '[.traceEvents[] | select(.ph == "s")] | length' "$M")
check "chrome: hand-overs as flow pairs ($flows)" \
    test "$flows" -gt 0 -a "$flows" = "$(jqv '[.traceEvents[] | select(.ph == "f")] | length' "$M")"
check "chrome: tasks in flight as a counter" \
    jqe '[.traceEvents[] | select(.name == "tasks in flight")] | length > 0' "$M"
check "chrome (--export-chrome): a well-formed trace" valid_trace "$M"

# deadlock: an instant; procs: a process per worker
run_cv 0 run deadlock --export-chrome "$TMP/dl.trace.json" -q
check "chrome: the deadlock is an instant" \
    jqe '[.traceEvents[] | select(.name == "deadlock detected")] | length == 1' "$TMP/dl.trace.json"
check "chrome (deadlock): a well-formed trace" valid_trace "$TMP/dl.trace.json"
run_cv 0 run cpu-primes --model procs --workers 2 --export-chrome "$TMP/procs.trace.json" -q
check "chrome: procs gives one process per worker (3 process names)" \
    test "$(jqv '[.traceEvents[] | select(.name == "process_name")] | length' "$TMP/procs.trace.json")" = 3
check "chrome (procs): a well-formed trace" valid_trace "$TMP/procs.trace.json"

# CSV: a header and one row per event, readable kind names; JSON: the summary
run_cv 0 export "$TMP/pipe.cvr" --format csv
check "csv: header" test "$(head -1 <<<"$OUT")" = "ts_ns,lane,lane_name,kind,task,obj,obj_name,arg,detail"
check "csv: one row per event" test "$(($(wc -l <<<"$OUT") - 1))" = "$(jqv .events.recorded "$TMP/pipe.json")"
check "csv: readable kinds" grep -q ",queue.push," <<<"$OUT"
run_cv 0 run io-fetch --record "$TMP/io.cvr" -q
run_cv 0 export "$TMP/io.cvr" --format csv
check "csv: io.begin rows name the URL" grep -Eq ',io.begin,.*"http http://127.0.0.1:[0-9]+/delay/' <<<"$OUT"
run_cv 0 export "$TMP/pipe.cvr" --format json
check "json: the summary" test "$(jqc .completion_order)" = "$(jqc .completion_order "$TMP/pipe.json")"

# a header naming an object id far beyond any run's: one line, exit 3
python3 - "$(dirname "$0")/../golden/deadlock.cvr" "$TMP/bigobj.cvr" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
typ, ln = struct.unpack_from('<II', b, 12)  # after magic and version: the HEAD record
p = bytes(b[20:20 + ln])
assert typ == 1 and p.count(b'\nobject 0 ') == 1
p = p.replace(b'\nobject 0 ', b'\nobject 4000000000 ')
out = b[:12] + struct.pack('<II', 1, len(p)) + p + struct.pack('<I', zlib.crc32(p)) + b[24 + ln:]
open(sys.argv[2], 'wb').write(out)
EOF
run_cv 3 replay "$TMP/bigobj.cvr" --json
check "an object id out of range: one line naming the header line" \
    grep -q "bigobj.cvr: header line [0-9]*: a malformed object" <<<"$ERR"

finish

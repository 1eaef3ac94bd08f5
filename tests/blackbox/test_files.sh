#!/usr/bin/env bash
# Files read and written: a FIFO (or a device) given as an input is refused at once, never
# waited on; an output that is an input (or the other output) is a usage error; exports are
# written whole or not at all (a temporary file renamed into place), also when a file-size
# limit or a signal stops them; two runs cannot record to one file at once; a file-size limit
# is an error like a full disk; a summary that cannot be written is exit 3 with one line, for
# every command that prints; temporary files go to $TMPDIR and none is left behind; a signal
# ends a process blocked writing to a pipe nobody reads.
. "$(dirname "$0")/lib.sh"

# run_to RC ARGS...: run_cv with a 20 s bound; a hang shows as exit 124
run_to() { RUN_TIMEOUT=20 run_cv "$@"; }
one_line() { [ -n "$ERR" ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ]; }
# empty DIR: nothing in it, hidden files included
empty() { [ -z "$(ls -A "$1")" ]; }
# wait_file GLOB [TENTHS]: until a path matches (default 10 s)
wait_file() {
    local n=${2:-100}
    while [ "$n" -gt 0 ]; do
        compgen -G "$1" >/dev/null && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
# execd PID: until the background job PID is concviz itself (a signal sent to the shell forked
# for it, before its exec, would run this script's exit trap there)
execd() {
    local n=100 want
    want=$(readlink -f "$CONCVIZ")
    while [ "$n" -gt 0 ]; do
        [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$want" ] && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}
# gone PID [TENTHS]: until the process has ended (default 10 s)
gone() {
    local n=${2:-100}
    while [ "$n" -gt 0 ]; do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

SMALL=(counter-race --set variant=mutex --set iterations=2000 -q)
run_cv 0 run "${SMALL[@]}" --record "$TMP/small.cvr" || true
REC="$TMP/small.cvr"
cp "$REC" "$TMP/pristine.cvr" # (a build without the checks below destroys the recording)

# ---------------------------------------------------------------- inputs: a FIFO is refused
mkfifo "$TMP/fifo"
run_to 3 replay "$TMP/fifo" --json &&
    check "replay of a FIFO: exit 3 at once, one line" \
        grep -q "fifo: not a regular file" <<<"$ERR"
run_to 3 export "$TMP/fifo" --format csv &&
    check "export of a FIFO: exit 3, one line" one_line
run_to 3 replay /dev/zero --json &&
    check "replay of a device: exit 3, one line" grep -q "not a regular file" <<<"$ERR"
run_to 2 run "${SMALL[@]}" --script "$TMP/fifo" --size 80x24 &&
    check "run --script FIFO: exit 2, one line" grep -q "fifo: not a regular file" <<<"$ERR"
run_to 2 replay "$REC" --script "$TMP/fifo" --size 80x24 &&
    check "replay --script FIFO: exit 2, one line" one_line
run_to 2 --script "$TMP/fifo" --size 80x24 &&
    check "picker --script FIFO: exit 2, one line" one_line
mkdir "$TMP/scen"
mkfifo "$TMP/scen/piped.ini"
CONCVIZ_SCENARIOS="$TMP/scen" run_to 2 run piped &&
    check "run NAME whose NAME.ini in \$CONCVIZ_SCENARIOS is a FIFO: exit 2, naming it" \
        grep -q "scen/piped.ini: not a regular file" <<<"$ERR"
CONCVIZ_SCENARIOS="$TMP/scen" run_to 2 show piped &&
    check "show NAME (a FIFO): exit 2, one line" one_line
# an output that is a FIFO nobody reads: an error, not a wait for a reader
run_to 3 run "${SMALL[@]}" --record "$TMP/fifo" &&
    check "--record to a FIFO nobody reads: exit 3, one line" one_line
run_to 3 export "$REC" --format csv -o "$TMP/fifo" &&
    check "export -o a FIFO nobody reads: exit 3, one line" one_line

# ---------------------------------------------------------------- an output that is an input
cp "$REC" "$TMP/keep.cvr"
run_cv 2 export "$REC" --format chrome -o "$REC" &&
    check "export -o the recording itself: exit 2, one line" one_line
check "... and the recording is unchanged" cmp -s "$REC" "$TMP/keep.cvr"
(cd "$TMP" && run_cv 2 export small.cvr --format csv -o ./small.cvr) &&
    check "export -o the recording under another spelling: exit 2" true
ln "$REC" "$TMP/hard.cvr"
run_cv 2 export "$REC" --format csv -o "$TMP/hard.cvr" &&
    check "export -o a hard link to the recording: exit 2" cmp -s "$REC" "$TMP/keep.cvr"
set +e
"$CONCVIZ" export "$REC" --format csv >>"$REC" 2>"$TMP/err"
rc=$?
set -e
check "export to a stdout appending to the recording: exit 2 ($rc), one line" \
    test "$rc" = 2 -a "$(wc -l <"$TMP/err")" = 1
check "... and the recording is unchanged" cmp -s "$REC" "$TMP/keep.cvr"
set +e
"$CONCVIZ" run "${SMALL[@]}" --record "$TMP/so.cvr" >"$TMP/so.cvr" 2>"$TMP/err"
rc=$?
set -e
check "--record onto the file stdout goes to: exit 2 ($rc), one line" \
    test "$rc" = 2 -a "$(wc -l <"$TMP/err")" = 1
cp "$CONCVIZ_SCENARIO_DIR/counter-race.ini" "$TMP/my.ini"
cp "$TMP/my.ini" "$TMP/my.keep"
(cd "$TMP" && run_cv 2 run ./my.ini --set iterations=2000 -q --record ./my.ini) &&
    check "run ./my.ini --record ./my.ini: exit 2, one line" one_line
check "... and the scenario file is unchanged" cmp -s "$TMP/my.ini" "$TMP/my.keep"
run_cv 2 run "$TMP/my.ini" --set iterations=2000 -q --export-chrome "$TMP/my.ini" &&
    check "--export-chrome onto the scenario file: exit 2" cmp -s "$TMP/my.ini" "$TMP/my.keep"
run_cv 2 run "${SMALL[@]}" --record "$TMP/both" --export-chrome "$TMP/./both" &&
    check "--record and --export-chrome naming one file: exit 2, nothing written" \
        test ! -e "$TMP/both"
printf 'key q\n' >"$TMP/s.script"
run_cv 2 run "${SMALL[@]}" --script "$TMP/s.script" --size 80x24 --record "$TMP/s.script" &&
    check "--record onto the --script file: exit 2" grep -qx "key q" "$TMP/s.script"
echo "my notes" >"$TMP/notes.txt"
run_cv 2 run "${SMALL[@]}" --record "$TMP/notes.txt" &&
    check "--record onto a file that is not a recording: exit 2, the file left as it is" \
        grep -qx "my notes" "$TMP/notes.txt"
run_cv 0 run "${SMALL[@]}" --record "$TMP/keep.cvr" --json &&
    check "--record onto an older recording replaces it" \
        test "$(jq -r .events.recorded <<<"$OUT")" = "$("$CONCVIZ" replay "$TMP/keep.cvr" --json | jq -r .events.recorded)"

cp "$TMP/pristine.cvr" "$REC"

# an export replaces the file whole, keeping its mode; through a symbolic link, the file
echo old >"$TMP/t.json"
chmod 640 "$TMP/t.json"
run_cv 0 export "$REC" --format chrome -o "$TMP/t.json" || true
check "export over a file: the new trace, the old mode" \
    test "$(jq -r .otherData.scenario "$TMP/t.json")" = counter-race -a "$(stat -c %a "$TMP/t.json")" = 640
ln -s t.json "$TMP/link.json"
run_cv 0 export "$REC" --format csv -o "$TMP/link.json" || true
check "export through a symbolic link: the link stays, the file it names is replaced" \
    test -L "$TMP/link.json" -a "$(head -c 5 "$TMP/t.json")" = "ts_ns"

# ---------------------------------------------------------------- whole or not at all
run_cv 0 run counter-race --set variant=mutex --set iterations=100000 -q --record "$TMP/m.cvr" || true
mkdir "$TMP/exp"
echo old >"$TMP/exp/m.csv"
set +e
(ulimit -f 100; exec "$CONCVIZ" export "$TMP/m.cvr" --format csv -o "$TMP/exp/m.csv") 2>"$TMP/err"
rc=$?
set -e
ERR=$(cat "$TMP/err")
check "export past a file-size limit: exit 3 ($rc), one line naming the file" \
    test "$rc" = 3 -a "$(wc -l <"$TMP/err")" = 1
check "... the error says why" grep -q "writing .*m.csv: File too large" <<<"$ERR"
check "... the old file is still there, whole" test "$(cat "$TMP/exp/m.csv")" = old
check "... and no temporary file is left" test "$(ls -A "$TMP/exp")" = m.csv
# interrupted: stopped while its temporary file grows, the old file is still in place; then
# SIGTERM: exit 130, the old file kept, the temporary file removed
caught=0
for _ in 1 2 3; do
    echo old >"$TMP/exp/m.csv"
    "$CONCVIZ" export "$TMP/m.cvr" --format csv -o "$TMP/exp/m.csv" 2>/dev/null &
    pid=$!
    # until its temporary file appears, or the old file changes (written in place), or it ends
    n=0
    while [ $n -lt 4000 ] && kill -0 "$pid" 2>/dev/null &&
        ! compgen -G "$TMP/exp/.m.csv.*" >/dev/null && [ "$(cat "$TMP/exp/m.csv")" = old ]; do
        n=$((n + 1))
    done
    kill -STOP "$pid" 2>/dev/null || true
    if ! kill -0 "$pid" 2>/dev/null || ! execd "$pid"; then
        wait "$pid" || true
        continue # it ended before it was seen at work: again
    fi
    caught=1
    check "an export under way: the old file is still in place, whole" \
        test "$(cat "$TMP/exp/m.csv")" = old
    kill -TERM "$pid"
    kill -CONT "$pid"
    reap "$pid"
    check "SIGTERM during an export: exit 130 ($rc)" test "$rc" = 130
    check "... the old file kept and the temporary file removed" \
        test "$(cat "$TMP/exp/m.csv")" = old -a "$(ls -A "$TMP/exp")" = m.csv
    break
done
[ "$caught" = 1 ] || skip "the export ended each time before it was seen at work (3 tries)"

# ---------------------------------------------------------------- one recorder per file
"$CONCVIZ" run gather-sleep --set sleeps_ms=5000,500 -q --record "$TMP/lock.cvr" >/dev/null 2>"$TMP/first.err" &
first=$!
n=0
while [ $n -lt 100 ] && [ ! -s "$TMP/lock.cvr" ]; do sleep 0.1; n=$((n + 1)); done
run_cv 3 run "${SMALL[@]}" --record "$TMP/lock.cvr" &&
    check "a second run recording to the same file: exit 3, one line saying so" \
        grep -q "lock.cvr: another concviz run is writing to it" <<<"$ERR"
run_cv 3 run "${SMALL[@]}" --record "$TMP/lock.cvr" --export-chrome "$TMP/lock.json" &&
    check "... with --export-chrome too, and no trace is made of the other run's file" \
        test ! -e "$TMP/lock.json"
reap "$first"
check "... the first run exits 0 ($rc)" test "$rc" = 0
run_cv 0 replay "$TMP/lock.cvr" --json &&
    check "... and its recording is whole: the first run's, no warning" \
        test -z "$ERR" -a "$(jqv .scenario)" = gather-sleep

# ---------------------------------------------------------------- a file-size limit (EFBIG)
set +e
(ulimit -f 200
    exec "$CONCVIZ" run counter-race --set variant=mutex --set iterations=300000 --record "$TMP/r.cvr" --json -q
) >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
OUT=$(cat "$TMP/out")
ERR=$(cat "$TMP/err")
check "recording past a file-size limit: exit 3 ($rc), not killed by SIGXFSZ" test "$rc" = 3
check "... one line naming the file and what it holds" \
    grep -Eq "^concviz: recording .*r.cvr: File too large; the file holds the run up to [0-9.]+ s" <<<"$ERR"
check "... and only that line" one_line
check "... the summary still printed" test "$(jqv .scenario)" = counter-race
run_cv 0 replay "$TMP/r.cvr" --json -q &&
    check "... the file replays up to the failure" fcmp "$(jqv .events.recorded) > 0"
mkdir "$TMP/ec"
set +e
(ulimit -f 20; TMPDIR="$TMP/ec" exec "$CONCVIZ" run pipeline --export-chrome "$TMP/p.json" --json -q) \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
ERR=$(cat "$TMP/err")
check "--export-chrome past a file-size limit: exit 3 ($rc), one line" \
    test "$rc" = 3 -a "$(wc -l <"$TMP/err")" = 1
check "... naming the trace" grep -q "writing .*p.json: File too large" <<<"$ERR"
check "... after the summary" test "$(jq -r .scenario "$TMP/out")" = pipeline
check "... no half trace, no temporary file left" test ! -e "$TMP/p.json" -a -z "$(ls -A "$TMP/ec")"

# ---------------------------------------------------------------- stdout that cannot be written
full_ok=0
full_n=0
while IFS= read -r args; do
    full_n=$((full_n + 1))
    # shellcheck disable=SC2086
    set +e
    # shellcheck disable=SC2086
    timeout 20 "$CONCVIZ" $args >/dev/full 2>"$TMP/err"
    rc=$?
    set -e
    if [ "$rc" = 3 ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
        grep -q "stdout: No space left on device" "$TMP/err"; then
        full_ok=$((full_ok + 1))
    else
        bad "concviz $args >/dev/full: exit $rc, $(head -c 300 "$TMP/err")"
    fi
done <<EOF
run ${SMALL[*]} --json
run ${SMALL[*]}
run pool-size --set tasks=4 --set io_ms=5 -q
replay $REC --json
replay $REC --headless
export $REC --format csv
export $REC --format chrome -o -
export $REC --format json
list
show pipeline
--help
help run
--version
run --help
replay --help
export --help
serve --help
list --help
show --help
serve --for 20
EOF
check "stdout is /dev/full: exit 3 and one line for all $full_n commands ($full_ok)" \
    test "$full_ok" = "$full_n"
closed_ok=0
for args in "run ${SMALL[*]} --json" "replay $REC --json" "list" "--help"; do
    set +e
    # shellcheck disable=SC2086
    "$CONCVIZ" $args >&- 2>"$TMP/err"
    rc=$?
    set -e
    if [ "$rc" = 3 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "stdout: Bad file descriptor" "$TMP/err"; then
        closed_ok=$((closed_ok + 1))
    else
        bad "concviz $args >&-: exit $rc, $(head -c 300 "$TMP/err")"
    fi
done
check "stdout closed: exit 3 and one line for 4 commands ($closed_ok)" test "$closed_ok" = 4
set +e
"$CONCVIZ" run "${SMALL[@]}" --record "$TMP/closed.cvr" >&- 2>/dev/null
set -e
run_cv 0 replay "$TMP/closed.cvr" --json &&
    check "stdout closed: the summary does not land in the recording (it replays whole)" \
        test -z "$ERR" -a "$(jqv .scenario)" = counter-race

# ---------------------------------------------------------------- $TMPDIR, nothing left behind
# (a directory each, so that what one case leaves cannot pass for the next one's files)
mkdir "$TMP/tmpd"
TMPDIR="$TMP/tmpd" "$CONCVIZ" run gather-sleep -q --export-chrome "$TMP/g.json" >/dev/null 2>&1 &
pid=$!
check "--export-chrome: the temporary recording is made in \$TMPDIR" \
    wait_file "$TMP/tmpd/concviz-run-*"
reap "$pid"
check "... the run exits 0 ($rc) with its trace" test "$rc" = 0 -a -s "$TMP/g.json"
check "... and nothing is left in \$TMPDIR" empty "$TMP/tmpd"
for sig in INT TERM HUP; do
    mkdir "$TMP/tmpd-$sig"
    TMPDIR="$TMP/tmpd-$sig" "$CONCVIZ" run gather-sleep -q --export-chrome "$TMP/g2.json" \
        >/dev/null 2>&1 &
    pid=$!
    execd "$pid" && wait_file "$TMP/tmpd-$sig/concviz-run-*" || true
    kill -"$sig" "$pid" 2>/dev/null || true
    reap "$pid"
    check "SIG$sig during a run with --export-chrome: exit 130 ($rc), nothing left in \$TMPDIR" \
        test "$rc" = 130 -a -z "$(ls -A "$TMP/tmpd-$sig")"
done
mkdir "$TMP/tmpd-refused"
TMPDIR="$TMP/tmpd-refused" run_cv 3 run file-io --set files=3 --set size_kb=1 -q \
    --record "$TMP/no/such/dir.cvr" &&
    check "a file-io run refused at its start: no directory left in \$TMPDIR" \
        empty "$TMP/tmpd-refused"
FILEIO=(file-io --set files=100000 --set size_kb=4 -q)
mkdir "$TMP/tmpd-int"
TMPDIR="$TMP/tmpd-int" "$CONCVIZ" run "${FILEIO[@]}" >/dev/null 2>&1 &
pid=$!
check "file-io: its files are written under \$TMPDIR" \
    wait_file "$TMP/tmpd-int/concviz-files-*/file-*"
execd "$pid" || true
kill -INT "$pid" 2>/dev/null || true
reap "$pid"
check "file-io stopped by Ctrl-C: exit 130 ($rc), its files and directory removed" \
    test "$rc" = 130 -a -z "$(ls -A "$TMP/tmpd-int")"
mkdir "$TMP/tmpd-term"
TMPDIR="$TMP/tmpd-term" "$CONCVIZ" run "${FILEIO[@]}" >/dev/null 2>&1 &
pid=$!
execd "$pid" && wait_file "$TMP/tmpd-term/concviz-files-*/file-*" || true
kill -TERM "$pid" 2>/dev/null || true
sleep 0.01                            # (two at once would be delivered as one)
kill -TERM "$pid" 2>/dev/null || true # the second one ends it at once
reap "$pid"
check "file-io ended by two SIGTERMs: exit 130 ($rc), nothing left in \$TMPDIR" \
    test "$rc" = 130 -a -z "$(ls -A "$TMP/tmpd-term")"
TMPDIR="$TMP/no-such-tmpdir" run_cv 0 replay "$REC" --json &&
    check "replay needs no temporary file (\$TMPDIR missing)" test "$(jqv .scenario)" = counter-race
TMPDIR="$TMP/no-such-tmpdir" run_cv 3 run "${SMALL[@]}" --export-chrome "$TMP/x.json" &&
    check "--export-chrome with \$TMPDIR missing: exit 3, one line naming it" \
        grep -q "no-such-tmpdir" <<<"$ERR"

# ---------------------------------------------------------------- a pipe nobody reads
# The summary (about 200 KB) is more than the pipe holds: the run blocks writing it, to a reader
# that took a little and then stopped reading. A signal must still end it, with 130.
BIG=(cpu-many-small --model serial --set repeat=300 --json -q)
mkfifo "$TMP/pipe"
for sig in INT TERM HUP; do
    rm -f "$TMP/got"
    (head -c 100 >"$TMP/got"; exec sleep 120) <"$TMP/pipe" &
    reader=$!
    "$CONCVIZ" run "${BIG[@]}" >"$TMP/pipe" 2>"$TMP/err" &
    pid=$!
    n=0
    while [ $n -lt 300 ] && [ ! -s "$TMP/got" ]; do sleep 0.1; n=$((n + 1)); done
    sleep 0.5 # the pipe fills; the run blocks in write
    kill -"$sig" "$pid" 2>/dev/null || true
    if gone "$pid" 100; then
        reap "$pid"
        check "SIG$sig while blocked writing the summary to a pipe: exit 130 ($rc)" test "$rc" = 130
    else
        bad "SIG$sig while blocked writing the summary to a pipe: still running after 10 s"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" || true
    fi
    kill "$reader" 2>/dev/null || true
    wait "$reader" 2>/dev/null || true
done

finish

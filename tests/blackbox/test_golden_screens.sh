#!/usr/bin/env bash
# Golden screens with their attributes: a script's `dump` writes the screen's text, then one
# letter per cell for its colour pair and attributes (bold, reverse, ...), then a legend naming
# each letter's pair, its colours and its attributes (the format: tests/golden/README.md).
# Replays of the kept recordings at 60x16 (the smallest the view draws), 80x24 and 200x60, in
# colour and with --ascii, and the live view of a run on a fake clock (CONCVIZ_FAKE_CLOCK, for
# tests: the clock moves a fixed step per event, so a one-lane run has the same times on every
# machine). A failure prints the diff and the cells that changed; CONCVIZ_UPDATE_GOLDEN=1
# rewrites the kept screens after a deliberate change to the view.
. "$(dirname "$0")/lib.sh"
GOLDEN="$(cd "$(dirname "$0")/../golden" && pwd)"

# The same screen on every machine: a 256-colour terminal's colours, UTF-8, colour on.
export TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR

# script NAME STEPS...: writes a script file, one step per argument
script() {
    local f="$TMP/$1.script"; shift
    printf '%s\n' "$@" >"$f"
    echo "$f"
}

# cells_changed WANT GOT: the cells whose colour pair or attributes differ, compared by what the
# legends say (a new kind of cell renames the letters after it, which this looks through), as
# "row R, columns A-B: KEPT -> NOW" (rows and columns from 1), at most 12 lines
cells_changed() {
    awk '
        FNR == 1 { file++ }
        /^-- / { part = $0; row = 0; next }
        part ~ /^-- attributes/ { row++; rows[file, row] = $0; if (row > n) n = row; next }
        part ~ /^-- legend/ { what[file, substr($0, 1, 1)] = substr($0, 3) }
        function cell(f, r, c,    x) {
            x = substr(rows[f, r], c, 1)
            return x == "" || x == "." ? "plain" : what[f, x]
        }
        END {
            shown = 0
            for (r = 1; r <= n && shown < 12; r++) {
                w = length(rows[1, r]) > length(rows[2, r]) ? length(rows[1, r]) : length(rows[2, r])
                for (c = 1; c <= w && shown < 12; c = e + 1) {
                    a = cell(1, r, c); b = cell(2, r, c)
                    for (e = c; e < w && cell(1, r, e + 1) == a && cell(2, r, e + 1) == b; e++)
                        ;
                    if (a != b) {
                        printf "row %d, columns %d-%d: %s -> %s\n", r, c, e, a, b
                        shown++
                    }
                }
            }
        }' "$1" "$2"
}

# golden NAME: compares $TMP/NAME.screen with tests/golden/NAME.screen; on a difference prints
# the diff and the cells whose attributes changed
golden() {
    local want="$GOLDEN/$1.screen" got="$TMP/$1.screen"
    if [ ! -s "$got" ]; then
        bad "golden screen $1: concviz wrote no dump"
        return 0
    fi
    if [ "${CONCVIZ_UPDATE_GOLDEN:-}" = 1 ]; then cp "$got" "$want"; fi
    if diff -u "$want" "$got" >"$TMP/$1.diff"; then
        ok "golden screen: $1"
    else
        bad "golden screen: $1 differs from tests/golden/$1.screen (- kept, + now;" \
            "CONCVIZ_UPDATE_GOLDEN=1 rewrites it if the change is meant)"
        [ ! -f "$want" ] || cells_changed "$want" "$got" | sed 's/^/# cells changed: /'
        head -n 120 "$TMP/$1.diff" | sed 's/^/#   /'
        local n
        n=$(wc -l <"$TMP/$1.diff")
        [ "$n" -le 120 ] || echo "#   ... $((n - 120)) more lines of the diff"
    fi
}

# only_ascii FILE: nothing outside printable ASCII (and the file is there)
only_ascii() { test -s "$1" && ! LC_ALL=C grep -q '[^ -~]' "$1"; }

# ---- replays of the kept recordings (tests/golden/pipeline.cvr, deadlock.cvr)

# pipeline at 60 % (lanes in the queue-wait colour, the gauge full, the sparkline) at three
# sizes in colour, and at 80x24 with --ascii in colour and without
for size in 60x16 80x24 200x60; do
    s=$(script "pipe-$size" "key g" "type 60%" "key Enter" \
        "dump $TMP/replay-pipeline-60pct-$size.screen" "key q")
    run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --script "$s" --size "$size" || true
    golden "replay-pipeline-60pct-$size"
done
s=$(script pipe-ascii "key g" "type 60%" "key Enter" \
    "dump $TMP/replay-pipeline-60pct-ascii-80x24.screen" \
    "snapshot $TMP/replay-pipeline-60pct-ascii-80x24.txt" "key q")
run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --ascii --script "$s" --size 80x24 || true
golden "replay-pipeline-60pct-ascii-80x24"
check "--ascii: the dump is ASCII only" only_ascii "$TMP/replay-pipeline-60pct-ascii-80x24.screen"
# the dump's text is the plain snapshot's, taken at the same moment
f="$TMP/replay-pipeline-60pct-ascii-80x24.screen"
if [ -f "$f" ]; then sed -n '/^-- text$/,/^-- attributes/p' "$f" | sed '1d;$d'; fi >"$TMP/dump-text.txt"
check "a dump's text is the snapshot of the same screen" \
    diff "$TMP/replay-pipeline-60pct-ascii-80x24.txt" "$TMP/dump-text.txt"
s=$(script pipe-plain "key g" "type 60%" "key Enter" \
    "dump $TMP/replay-pipeline-60pct-ascii-nocolor-80x24.screen" "key q")
run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --ascii --no-color --script "$s" --size 80x24 ||
    true
golden "replay-pipeline-60pct-ascii-nocolor-80x24"

# deadlock: the end (DEADLOCK and the cycle in red, the expectations in green), a worker's
# details at 80x24, in colour and with --ascii; the help with its colour key at 200x60
s=$(script dl "key ]" "dump $TMP/replay-deadlock-end-80x24.screen" "key j" "key Enter" \
    "dump $TMP/replay-deadlock-details-80x24.screen" "key q" "key q")
run_cv 0 replay "$GOLDEN/deadlock.cvr" --paused --script "$s" --size 80x24 || true
golden "replay-deadlock-end-80x24"
golden "replay-deadlock-details-80x24"
s=$(script dl-ascii "key ]" "dump $TMP/replay-deadlock-end-ascii-80x24.screen" "key q")
run_cv 0 replay "$GOLDEN/deadlock.cvr" --paused --ascii --script "$s" --size 80x24 || true
golden "replay-deadlock-end-ascii-80x24"
check "--ascii: the deadlock's dump is ASCII only" \
    only_ascii "$TMP/replay-deadlock-end-ascii-80x24.screen"
s=$(script dl-help "key ]" "key ?" "dump $TMP/replay-deadlock-help-200x60.screen" "key q" "key q")
run_cv 0 replay "$GOLDEN/deadlock.cvr" --paused --script "$s" --size 200x60 || true
golden "replay-deadlock-help-200x60"

# a dump step without a file: the script is refused (exit 2, file:line); one that cannot be
# written fails the script (exit 1) after the screen
s=$(script no-file "key ]" "dump")
run_cv 2 replay "$GOLDEN/deadlock.cvr" --paused --script "$s" --size 80x24 &&
    check "dump without a file: refused naming the line" grep -q "no-file.script:2: dump needs a file name" <<<"$ERR"
s=$(script no-dir "dump $TMP/no/such/dir/x.screen" "key q")
run_cv 1 replay "$GOLDEN/deadlock.cvr" --paused --script "$s" --size 80x24 &&
    check "dump to a directory that is not there: the step fails" \
        grep -q "no-dir.script:1: cannot write the snapshot to" <<<"$ERR"

# ---- the live view on a fake clock
# Runs under serial (one lane, so their events come in one order), each event 10 ms after the
# one before: gather-sleep (running, I/O and idle, task ids in the lane) at 120x40 and
# counter-race with a mutex (the locks panel) at 100x30; the end of the run and the lane's
# details. The header's "ui N.N%" (the view's own CPU over wall time) is the one figure that is
# the machine's: it is replaced by "ui (masked)" in the first text row before the comparison.
# gather-sleep runs again at 240 frames a second instead of 5: the same screens.
FAKE=10000000
live() { # live NAME SIZE FPS ARGS...: dumps $TMP/NAME-end-SIZE.screen, $TMP/NAME-details-SIZE.screen
    local name=$1 size=$2 fps=$3 s f
    shift 3
    s=$(script "$name" "wait done" "dump $TMP/$name-end-$size.screen" "key Enter" \
        "dump $TMP/$name-details-$size.screen" "key q")
    CONCVIZ_FAKE_CLOCK=$FAKE run_cv 0 run "$@" --model serial --fps "$fps" --script "$s" \
        --size "$size" || true
    for f in "$TMP/$name-end-$size.screen" "$TMP/$name-details-$size.screen"; do
        [ ! -f "$f" ] || sed -i -E '3s/ ui( [0-9.%]*)?$/ ui (masked)/' "$f"
    done
}
live live-gather-sleep-serial 120x40 5 gather-sleep --set sleeps_ms=30,10,20
golden live-gather-sleep-serial-end-120x40
golden live-gather-sleep-serial-details-120x40
check "live details at the end: the serial lane ended with the run, its 3 tasks in the plural" \
    eval 'grep -q "now: ended (at 170.0ms)" "$TMP/live-gather-sleep-serial-details-120x40.screen" &&
        grep -q " 3 tasks started here" "$TMP/live-gather-sleep-serial-details-120x40.screen"'
live live-counter-race-serial 100x30 5 counter-race --set variant=mutex --set iterations=3
golden live-counter-race-serial-end-100x30
golden live-counter-race-serial-details-100x30
live again 120x40 240 gather-sleep --set sleeps_ms=30,10,20
for part in end details; do
    check "fake clock: the live view's $part is the same at 240 fps as at 5" \
        diff "$TMP/live-gather-sleep-serial-$part-120x40.screen" "$TMP/again-$part-120x40.screen"
done

# The fake clock, headless: the summary names it, and the run lasts one step per clock reading,
# to the nanosecond (its first event comes one step after the start, its last one at the end):
# one per event, and one more per uncontended hold (a lock.pair event reads the clock at the
# acquisition and at the release; under serial every hold is one)
CONCVIZ_FAKE_CLOCK=$FAKE run_cv 0 run counter-race --model serial --set variant=mutex \
    --set iterations=3 --json || true
check "fake clock: named in the summary" test "$(jqv .runtime.clock)" = fake
events=$(jqv .events.recorded)
pairs=$(jqv '[.locks[] | .acquisitions - .contended] | add')
wall=$(jqv .wall_s)
check "fake clock: the run's wall time, ${wall:-none} s, is one step per event (${events:-none}) and one more per uncontended hold (${pairs:-none})" \
    fcmp "${events:-0} > 0 && ${pairs:-0} == 3 && ${wall:--1} == (${events:-0} + ${pairs:-0}) * $FAKE / 1e9"
# a bad step: one line naming the variable, exit 2, no run
for step in 0 abc -5 1e6 2000000000 ""; do
    if CONCVIZ_FAKE_CLOCK=$step run_cv 2 run counter-race --model serial --json; then
        check "CONCVIZ_FAKE_CLOCK='$step': refused in one line naming it" \
            test "$(wc -l <<<"$ERR")" = 1 -a -z "$OUT" -a "${ERR#*CONCVIZ_FAKE_CLOCK}" != "$ERR"
    fi
done

finish

#!/usr/bin/env bash
# Replay in the terminal UI: golden screens from recordings kept in tests/golden at fixed times,
# playback keys (speed, step, seek, go to) on a fresh recording, and bad flags.
# The golden recordings were made with 'concviz run pipeline --headless --record
# tests/golden/pipeline.cvr' (and the same for deadlock); CONCVIZ_UPDATE_GOLDEN=1 rewrites the
# screens after a deliberate change to the view.
. "$(dirname "$0")/lib.sh"
GOLDEN="$(cd "$(dirname "$0")/../golden" && pwd)"

# script NAME STEPS...: writes a script file, one step per argument
script() {
    local f="$TMP/$1.script"; shift
    printf '%s\n' "$@" >"$f"
    echo "$f"
}

golden() { # golden NAME: compares $TMP/NAME.txt with the kept screen
    if [ "${CONCVIZ_UPDATE_GOLDEN:-}" = 1 ]; then cp "$TMP/$1.txt" "$GOLDEN/$1.txt"; fi
    check "golden screen: $1" diff -u "$GOLDEN/$1.txt" "$TMP/$1.txt"
}

# pipeline: paused at the start, then at 0.5 s, at 60 % and at the end; the go-to popup
s=$(script pipe "snapshot $TMP/replay-pipeline-start-120x40.txt" "key g" "type 0.5" \
    "snapshot $TMP/replay-pipeline-goto-120x40.txt" "key Enter" \
    "snapshot $TMP/replay-pipeline-0.5s-120x40.txt" "key g" "type 60%" "key Enter" \
    "snapshot $TMP/replay-pipeline-60pct-120x40.txt" "key ]" \
    "snapshot $TMP/replay-pipeline-end-120x40.txt" "key q")
run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --no-color --script "$s" --size 120x40
check "replay UI quits with nothing on stdout, its screens taken" \
    test -z "$OUT" -a -s "$TMP/replay-pipeline-end-120x40.txt"
for g in start goto 0.5s 60pct end; do golden "replay-pipeline-$g-120x40"; done

# deadlock: the end (DEADLOCK, the cycle, the expectations), a worker's details, the help
s=$(script dl "key ]" "snapshot $TMP/replay-deadlock-end-100x30.txt" "key j" "key Enter" \
    "snapshot $TMP/replay-deadlock-details-100x30.txt" "key Escape" "key ?" \
    "snapshot $TMP/replay-deadlock-help-100x30.txt" "key q" "key q")
run_cv 0 replay "$GOLDEN/deadlock.cvr" --paused --no-color --script "$s" --size 100x30
for g in end details help; do golden "replay-deadlock-$g-100x30"; done
check "details of a lane that has ended: when, in words, and its one task in the singular" \
    eval 'grep -Eq "now: ended (.* ago )?\(at 15[0-9.]+ms\)" "$TMP/replay-deadlock-details-100x30.txt" &&
        grep -q " 1 task started here" "$TMP/replay-deadlock-details-100x30.txt" &&
        ! grep -q "off for" "$TMP/replay-deadlock-details-100x30.txt"'
# at the start no lane has begun: its details say so (not "off"), and count its tasks
s=$(script nostart "key j" "key Enter" "snapshot $TMP/nostart.txt" "key q")
run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --no-color --script "$s" --size 120x40
check "details of a lane not started yet say so" eval 'grep -q "── lane producer-1 " "$TMP/nostart.txt" &&
    grep -q "now: not started yet" "$TMP/nostart.txt" && grep -q " 0 tasks started here" "$TMP/nostart.txt"'
# Esc clears a kept lane filter in a replay too
s=$(script refilter "key /" "type consumer" "key Enter" "snapshot $TMP/rf1.txt" "key Esc" \
    "snapshot $TMP/rf2.txt" "key q")
run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --no-color --script "$s" --size 120x40
check "replay, / consumer: the consumers only" test "$(sed -n '/^ lanes /,/^legend/p' "$TMP/rf1.txt" |
    grep -oE '^[a-z]+(-[0-9]+)?' | tr '\n' ' ')" = "consumer-1 consumer-2 consumer-3 legend "
check "replay, then Esc: the filter cleared, every lane again" eval 'test "$(sed -n "/^ lanes /,/^legend/p" "$TMP/rf2.txt" |
    grep -oE "^[a-z]+(-[0-9]+)?" | tr "\n" " ")" = "main producer-1 producer-2 consumer-1 consumer-2 consumer-3 legend " &&
    grep -q "lane filter cleared" "$TMP/rf2.txt"'
# half way, a lane at work: its state and for how long, the task it runs (the plural of
# "tasks started here": the live view's golden gather-sleep details)
s=$(script working "key g" "type 50%" "key Enter" "key j j j" "key Enter" "snapshot $TMP/working.txt" "key q")
run_cv 0 replay "$GOLDEN/pipeline.cvr" --paused --no-color --script "$s" --size 120x40
check "details of a lane at work: its state for a time, its task" \
    eval 'grep -q "── lane consumer-1 " "$TMP/working.txt" &&
        grep -q "now: I/O for 10.3ms" "$TMP/working.txt" &&
        grep -q "task 2; 1 task started here" "$TMP/working.txt"'

# a fresh recording: plays to the end at 100x, then the keys
run_cv 0 run counter-race --set iterations=200000 --set variant=mutex --headless -q \
    --record "$TMP/race.cvr"
s=$(script keys "wait done" "expect end (done)" "expect ok   exact" \
    "key - - - - - - - - -" "expect speed 0.1x" "key -" "expect speed 0.1x" \
    "key [" "expect playing 0.1x" "key space" "expect paused 0.1x" "key + +" "expect paused 0.5x" \
    "key . ." "expect paused" "key ]" "expect end (done)" "key <" "expect paused 0.5x" \
    "key >" "expect end (done)" "key g" "type 50%" "key Enter" "expect paused 0.5x" \
    "key g" "type soon" "key Enter" "expect go to needs seconds" "key Escape" \
    "key m" "expect a replay shows the run as recorded" "snapshot $TMP/keys.txt" "key q")
# (a failed expect ends the replay with exit 1; the last snapshot shows the script went through)
run_cv 0 replay "$TMP/race.cvr" --speed 100 --no-color --script "$s" --size 120x40
check "replay UI: playback keys, to the last one (m: a replay shows the run as recorded)" \
    grep -q "a replay shows the run as recorded" "$TMP/keys.txt"

# < then > at the end comes back to the end. skip-end.cvr (gather-sleep, sleeps_ms=30,10) was
# picked among fresh recordings for an end, 35,717,966 ns, where end - end/10 + end/10 is one ulp
# short of end in doubles, as it is for about one end in 25: the view used to stop there,
# "paused", instead of at "end (done)".
s=$(script skip "key ]" "expect end (done)" "key <" "expect paused 1x" "key >" "expect end (done)" \
    "key <" "key <" "key > >" "expect end (done)" "snapshot $TMP/skip.txt" "key q")
run_cv 0 replay "$GOLDEN/skip-end.cvr" --paused --no-color --script "$s" --size 120x40
check "replay UI: < then > at the end comes back to the end" grep -q "end (done)" "$TMP/skip.txt"

# checkpoints (here every 100 k events instead of 2 M): seeking restores the closest one and
# feeds from there; the summary and the screens at any time are those of feeding every event
CONCVIZ_CHECKPOINT_EVENTS=100000 run_cv 0 run counter-race --set iterations=300000 \
    --set variant=mutex --headless --json --record "$TMP/ck.cvr"
printf '%s' "$OUT" | jq -S 'del(.wall_s, .cpu_s, .peak_rss_kb, .expectations)' >"$TMP/ck-run.json"
run_cv 0 replay "$TMP/ck.cvr" --json
printf '%s' "$OUT" | jq -S 'del(.wall_s, .cpu_s, .peak_rss_kb, .expectations)' >"$TMP/ck-rep.json"
check "checkpoints: the replay's summary is the run's" same_files "$TMP/ck-run.json" "$TMP/ck-rep.json"
check "checkpoints: the run had many events" fcmp "$(jqv .events.recorded "$TMP/ck-rep.json") > 1000000"
steps=()
for at in 50% 20% 90% 0.1 35%; do
    steps+=("key g" "type $at" "key Enter" "snapshot $TMP/ck-SUFFIX-$at.txt")
done
printf '%s\n' "${steps[@]}" "key q" | sed 's/SUFFIX/with/' >"$TMP/ck-with.script"
printf '%s\n' "${steps[@]}" "key q" | sed 's/SUFFIX/without/' >"$TMP/ck-without.script"
run_cv 0 replay "$TMP/ck.cvr" --paused --no-color --script "$TMP/ck-with.script" --size 120x40
CONCVIZ_REPLAY_CHECKPOINTS=0 run_cv 0 replay "$TMP/ck.cvr" --paused --no-color \
    --script "$TMP/ck-without.script" --size 120x40
for at in 50% 20% 90% 0.1 35%; do
    check "checkpoints: the screen at $at is the one fed from the start" \
        diff "$TMP/ck-without-$at.txt" "$TMP/ck-with-$at.txt"
done
# cut short: the checkpoints before the cut still serve
size=$(stat -c %s "$TMP/ck.cvr")
head -c $((size * 6 / 10)) "$TMP/ck.cvr" >"$TMP/ck-cut.cvr"
run_cv 0 replay "$TMP/ck-cut.cvr" --json -q
printf '%s' "$OUT" | jq -S 'del(.state)' >"$TMP/ck-cut-with.json"
CONCVIZ_REPLAY_CHECKPOINTS=0 run_cv 0 replay "$TMP/ck-cut.cvr" --json -q
printf '%s' "$OUT" | jq -S 'del(.state)' >"$TMP/ck-cut-without.json"
check "checkpoints in a file cut short: the same summary either way" \
    same_files "$TMP/ck-cut-without.json" "$TMP/ck-cut-with.json"

# a recording cut short plays what it holds; the warning comes after the screen
size=$(stat -c %s "$TMP/race.cvr")
head -c $((size / 2)) "$TMP/race.cvr" >"$TMP/cut.cvr"
s=$(script cut "wait done" "expect end (cut short)" "key q")
run_cv 0 replay "$TMP/cut.cvr" --speed 100 --no-color --script "$s" --size 120x40
check "replay UI of a cut recording warns after the screen" grep -q "cut short" <<<"$ERR"

# bad flags and files: one line, exit 2 or 3, no screen
run_cv 2 replay "$TMP/race.cvr" --speed 500
check "--speed out of range" grep -q "speed must be a number from 0.1 to 100" <<<"$ERR"
run_cv 2 replay "$TMP/race.cvr" --size 80x24
check "--size without --script" grep -q "is for --script" <<<"$ERR"
run_cv 2 replay "$TMP/race.cvr" --headless --script "$s"
check "--script with --headless" grep -q "does not go with --headless" <<<"$ERR"
printf 'not a recording' >"$TMP/bad.cvr"
run_cv 3 replay "$TMP/bad.cvr" --no-color --script "$s" --size 80x24
check "a file that is not a recording: exit 3 before any screen" \
    grep -q "bad.cvr: not a concviz recording" <<<"$ERR"

# Layout (issue 19): the end of both recordings at 80x24, 120x40 and 200x60 (the pipeline's at
# 120x40 is above). The lanes take the rows they need, the panels under them the rest; a panel
# that cannot show all it has says how much more there is; text is cut by whole fields.
ends() { # ends NAME SIZE...: the end of NAME.cvr at each size, in $TMP/replay-NAME-end-SIZE.txt
    local name=$1 size; shift
    for size in "$@"; do
        s=$(script "end-$name-$size" "key ]" "snapshot $TMP/replay-$name-end-$size.txt" "key q")
        run_cv 0 replay "$GOLDEN/$name.cvr" --paused --no-color --script "$s" --size "$size"
    done
}
ends pipeline 80x24 160x48 200x60 220x60
ends deadlock 80x24 120x40 160x48 200x60
for g in pipeline-end-80x24 pipeline-end-200x60 deadlock-end-80x24 deadlock-end-120x40 \
    deadlock-end-200x60; do golden "replay-$g"; done
# and the other runs the issue names: a lock-heavy run (counter-race with a mutex), c10k (100
# requests on epoll) and a run with drops (the same race through a 256-event ring), made with
# 'concviz run counter-race --set variant=mutex --set iterations=5000 --record lock-heavy.cvr',
# 'concviz run c10k --set requests=100 --set delays_ms=100 --record c10k.cvr' and
# 'concviz run counter-race --set variant=mutex --set iterations=50000 --ring-size 256
# --record drops.cvr'
for name in lock-heavy c10k drops; do
    ends "$name" 80x24 120x40 200x60
    for size in 80x24 120x40 200x60; do golden "replay-$name-end-$size"; done
done
check "drops: the lanes show their lost stretches, the lock one holder at most, 4 of 4 tasks done" \
    eval 'grep -Eq "^worker-[1-4] .*\?" "$TMP/replay-drops-end-200x60.txt" &&
        ! grep -Eq "counter [0-9]+ holders" "$TMP/replay-drops-end-200x60.txt" &&
        grep -q "tasks 4/4 done" "$TMP/replay-drops-end-200x60.txt"'
check "c10k: one thread, the memory per task in the results" \
    eval 'grep -q "c10k  epoll 1 thread" "$TMP/replay-c10k-end-200x60.txt" &&
        grep -Eq "memory per task [0-9.]+ KB" "$TMP/replay-c10k-end-200x60.txt"'
# numbers whole or not at all: KEY VALUE FILE: every "KEY <number>" on screen is "KEY VALUE"
whole() { ! grep -oE "$1 [0-9][0-9./]*" "$3" | grep -vxqF "$1 $2"; }
# no "(max N" cut before its ")"
no_cut_max() { ! grep -Eq '\(max [0-9]+([^0-9)]|$)' "$1"; }
# a blank column left of each band panel's title on the rows under it (nothing runs into it)
gap_kept() {
    LC_ALL=C.UTF-8 sed 's/[^ -~]/#/g' "$1" | awk 'found && /^ q quit/ { exit }
         found { for (i in col) if (substr($0, col[i], 1) != "" && substr($0, col[i], 1) != " ") bad++ }
         !found && /^ locks / { found = 1; n = 0
             for (c = 2; c <= length($0); c++)
                 if (substr($0, c, 1) == " " && substr($0, c - 1, 1) == " " && substr($0, c + 1, 1) != " ")
                     col[n++] = c - 1 }
         END { exit !(found && !bad) }'
}
D80=$TMP/replay-deadlock-end-80x24.txt P80=$TMP/replay-pipeline-end-80x24.txt
check "80x24: rounds_expected 20 whole or not at all" whole rounds_expected 20 "$D80"
# the results column from "cycle:" on, its lines joined, up to rounds_done
cycle_text() {
    LC_ALL=C.UTF-8 sed 's/[^ -~]/#/g' "$1" | awk '
        !col && (c = index($0, "cycle: ")) { col = c }
        col { t = substr($0, col); if (t ~ /^rounds_done/) exit
              gsub(/^ +| +$/, "", t); out = out (out == "" ? "" : " ") t }
        END { print out }'
}
check "80x24: the deadlock's cycle shown whole, wrapped between words" test "$(cycle_text "$D80")" = \
    "cycle: worker-1 waits for lock_a held by worker-2 worker-2 waits for lock_b held by worker-1"
check "80x24: jobs 0/10 (max 10) whole, or cut before the (max" no_cut_max "$P80"
check "80x24: the pipeline's results say how many lines they hide, and the keys" \
    grep -qE '↓ [0-9]+ more: Tab, j' "$P80"
for f in "$P80" "$D80" "$TMP"/replay-*-end-1[26]0x*.txt "$TMP"/replay-*-end-2[02]0x60.txt; do
    check "$(basename "$f" .txt): a column between the panels under the lanes" gap_kept "$f"
    check "$(basename "$f" .txt): no number cut" whole items_expected 200 "$f"
done
for size in 160x48 220x60; do
    f=$TMP/replay-pipeline-end-$size.txt
    check "pipeline $size: all seven expectations shown, nothing hidden" \
        test "$(grep -c ' ok   ' "$f")" = 7 -a "$(grep -c 'more' "$f")" = 0
    check "pipeline $size: '0 consumers' whole" grep -q 'blocked: 0 producers, 0 consumers' "$f"
done
check "80x24: the lanes take the rows they need (six lanes and the axis), the legend right under" \
    test "$(grep -n '^legend' "$P80" | cut -d: -f1)" = 10
# --ascii: the markers in ASCII
s=$(script asc "key ]" "snapshot $TMP/asc.txt" "key q")
run_cv 0 replay "$GOLDEN/deadlock.cvr" --paused --no-color --ascii --script "$s" --size 60x16
check "--ascii at 60x16: what is hidden said in ASCII ('v N more'), no glyph outside ASCII" \
    eval "grep -qE '^ *.*v [0-9]+ more' '$TMP/asc.txt' && ! LC_ALL=C grep -q '[^ -~]' '$TMP/asc.txt'"

# the real binary in a tmux pane: a replay plays at 0.5x, pauses, goes to the end, q leaves a
# sane terminal with exit 0
if command -v tmux >/dev/null; then
    SOCK="cvreplay-$$"
    T() { tmux -L "$SOCK" "$@"; }
    trap 'tmux -L "cvreplay-$$" kill-server 2>/dev/null || true; rm -rf "$TMP"' EXIT
    T new-session -d -s cv -x 120 -y 40 -e LANG=C.UTF-8 -e TERM=tmux-256color \
        "$CONCVIZ replay $GOLDEN/pipeline.cvr --speed 0.5; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE 'echo|icanon' | sort | tr '\n' ' '; echo; sleep 60"
    check "tmux: the replay plays" wait_for "playing 0.5x"
    T send-keys -t cv space
    check "tmux: space pauses" wait_for "paused 0.5x"
    T send-keys -t cv ']'
    check "tmux: ] goes to the end, the expectations shown" wait_for "ok   producers_blocked"
    T send-keys -t cv q
    check "tmux: q quits with 0" wait_for "EXIT=0"
    check "tmux: the terminal is sane afterwards (echo, icanon)" wait_for "^echo icanon"
    T kill-server 2>/dev/null || true
else
    bad "tmux is not installed (make test installs it)"
fi

finish

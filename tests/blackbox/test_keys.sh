#!/usr/bin/env bash
# The live view's keys, each seen to do what the README says: space pauses the view while the
# run goes on, - and + slow the animation down and back, z/Z zoom, 0 fits, h/l scroll time,
# / filters lanes, r runs again, m picks another model, w another worker count, n the runs of
# each model a comparison makes (scripted on a virtual screen); then colour in a real terminal
# (tmux): lanes drawn as coloured cells, and as letters without any colour under NO_COLOR.
. "$(dirname "$0")/lib.sh"
RUN_TIMEOUT=60

# script NAME STEPS...: writes a script file, one step per argument
script() {
    local f="$TMP/$1.script"; shift
    printf '%s\n' "$@" >"$f"
    echo "$f"
}
# the helpers below read a screen written by a snapshot step; a missing one reads as empty
header() { head -1 "$1" 2>/dev/null || true; }
# lanes_rows FILE: the lane rows (between the lanes title and the legend); lanes_view FILE: the
# same with the title and its time axis
lanes_rows() { lanes_view "$1" | sed '1d;$d'; }
lanes_view() { sed -n '/^ lanes /,/^legend/p' "$1" 2>/dev/null || true; }
# per_col FILE: the time per column in seconds, from the lanes title (" lanes  2.0ms/col")
per_col() {
    lanes_view "$1" | sed -n 's/^ lanes *\([0-9.]*\)\(s\|ms\|us\)\/col.*/\1 \2/p' |
        awk '{ print $1 * ($2 == "ms" ? 1e-3 : $2 == "us" ? 1e-6 : 1) }'
}
# first_tick FILE: the time of the axis' first tick in seconds ("|12.5ms" after the title)
first_tick() {
    lanes_view "$1" | head -1 | { grep -oE '\|[0-9.]+(s|ms|us)?' || true; } | head -1 | tr -d '|' |
        sed 's/\([0-9.]*\)\(.*\)/\1 \2/' |
        awk '{ print $1 * ($2 == "ms" ? 1e-3 : $2 == "us" ? 1e-6 : 1) }'
}
# elapsed FILE: the run's elapsed time in the header, in seconds
elapsed() {
    header "$1" | { grep -oE '(running|done)( \(paused\))?  [0-9.]+(s|ms|us)' || true; } |
        awk '{ print $NF }' |
        sed 's/\([0-9.]*\)\(.*\)/\1 \2/' |
        awk '{ print $1 * ($2 == "ms" ? 1e-3 : $2 == "us" ? 1e-6 : 1) }'
}

# ---- space: the view pauses, the run goes on; space again resumes
s=$(script pause "wait text worker-2" "wait 200ms" "key space" "wait 100ms" "snapshot $TMP/p1.txt" \
    "wait 700ms" "snapshot $TMP/p2.txt" "key space" "wait 300ms" "snapshot $TMP/p3.txt" "key q")
run_cv 0 run gather-sleep --set sleeps_ms=4000,3000 --no-color --script "$s" --size 120x40
check "space: the header says paused" grep -q "running (paused)" "$TMP/p1.txt"
check "space: the lanes and their time axis stand still while paused" \
    test -n "$(lanes_rows "$TMP/p1.txt")" -a "$(lanes_view "$TMP/p1.txt")" = "$(lanes_view "$TMP/p2.txt")"
check "space: the run goes on while paused (elapsed $(elapsed "$TMP/p1.txt") -> $(elapsed "$TMP/p2.txt"))" \
    fcmp "$(elapsed "$TMP/p2.txt") >= $(elapsed "$TMP/p1.txt") + 0.5"
check "space again: resumed, the lanes move on" \
    test -n "$(lanes_rows "$TMP/p3.txt")" -a "$(lanes_view "$TMP/p3.txt")" != "$(lanes_view "$TMP/p2.txt")"
check "space again: no longer paused" test -n "$(header "$TMP/p3.txt")" -a \
    "$(header "$TMP/p3.txt" | grep -c paused)" = 0

# ---- - slows the animation (the view lags behind the run), + brings it back
s=$(script speed "wait text worker-2" "key -" "wait 800ms" "snapshot $TMP/s1.txt" "key +" \
    "wait 200ms" "snapshot $TMP/s2.txt" "key q")
run_cv 0 run gather-sleep --set sleeps_ms=4000,3000 --no-color --script "$s" --size 120x40
check "-: half speed, the view behind the run" \
    grep -Eq "\[speed 0.5x, view at [0-9.]+s\]" "$TMP/s1.txt"
view=$(grep -oE "view at [0-9.]+s" "$TMP/s1.txt" | grep -oE "[0-9.]+" || true)
check "-: the view ($view s) lags the run ($(elapsed "$TMP/s1.txt") s)" \
    fcmp "${view:-99} + 0.2 < $(elapsed "$TMP/s1.txt")"
check "+: back to full speed, the view caught up" \
    test -s "$TMP/s2.txt" -a "$(grep -c "speed" <(sed -n 2p "$TMP/s2.txt"))" = 0

# ---- z, Z, 0, h, l on a finished run (the time axis stands still)
s=$(script zoom "wait done" "snapshot $TMP/z0.txt" "key z" "snapshot $TMP/z1.txt" "key Z" "key Z" \
    "snapshot $TMP/z2.txt" "key 0" "snapshot $TMP/z3.txt" "key z" "key z" "snapshot $TMP/h0.txt" \
    "key h" "snapshot $TMP/h1.txt" "key l" "snapshot $TMP/h2.txt" "key q")
run_cv 0 run gather-sleep --set sleeps_ms=1500,500 --no-color --script "$s" --size 120x40
c0=$(per_col "$TMP/z0.txt")
c1=$(per_col "$TMP/z1.txt")
c2=$(per_col "$TMP/z2.txt")
c3=$(per_col "$TMP/z3.txt")
check "z: zoomed in, half the time per column ($c0 -> $c1 s)" fcmp "${c1:-0} > 0.45 * ${c0:-0} && ${c1:-0} < 0.55 * ${c0:-0}"
check "Z Z: zoomed out, twice the time per column ($c0 -> $c2 s)" fcmp "${c2:-0} > 1.9 * ${c0:-0} && ${c2:-0} < 2.1 * ${c0:-0}"
check "0: fits the whole run again ($c3 s)" test -n "$c0" -a "$c3" = "$c0"
t0=$(first_tick "$TMP/h0.txt")
t1=$(first_tick "$TMP/h1.txt")
t2=$(first_tick "$TMP/h2.txt")
check "zoomed in: the view shows the end of the run (first tick $t0 s)" fcmp "${t0:-0} > 0.5"
check "h: scrolled back in time ($t0 -> $t1 s)" fcmp "${t1:-9} < ${t0:-0}"
check "l: scrolled forward again, back to now ($t1 -> $t2 s)" test -n "$t0" -a "$t2" = "$t0"

# ---- / filters the lanes by name; Esc in the popup clears the filter, and so does Esc later
s=$(script filter "wait text worker-4" "key /" "expect filter lanes" "type worker-3" "key Enter" \
    "snapshot $TMP/f1.txt" "key /" "key Esc" "snapshot $TMP/f2.txt" "key q")
run_cv 0 run counter-race --set iterations=3000000 --no-color --script "$s" --size 120x40
check "/: only the matching lane is shown" \
    test "$(lanes_rows "$TMP/f1.txt" | grep -oE '^[a-z]+-[0-9]+' | tr '\n' ' ')" = "worker-3 "
check "/: the filter is named" grep -q "filter: worker-3" "$TMP/f1.txt"
check "/ then Esc: every lane again" \
    test "$(lanes_rows "$TMP/f2.txt" | grep -cE '^(main|worker-[0-9])')" = 5
# Esc clears a filter kept with Enter, too (after first closing the details it had opened); a
# filter that matches nothing says Esc clears it
s=$(script filter-esc "wait text worker-4" "key /" "type worker-3" "key Enter" "key Enter" \
    "snapshot $TMP/e1.txt" "key Esc" "snapshot $TMP/e2.txt" "key Esc" "snapshot $TMP/e3.txt" \
    "key /" "type zzz" "key Enter" "snapshot $TMP/e4.txt" "key Esc" "snapshot $TMP/e5.txt" \
    "key ?" "snapshot $TMP/e6.txt" "key q")
run_cv 0 run counter-race --set iterations=3000000 --no-color --script "$s" --size 120x40
check "Enter on the filtered lane: its details" grep -q "── lane worker-3 " "$TMP/e1.txt"
check "Esc: the details close, the filter stays" eval '! grep -q "── lane worker-3 " "$TMP/e2.txt" &&
    grep -q "filter: worker-3" "$TMP/e2.txt" &&
    test "$(lanes_rows "$TMP/e2.txt" | grep -oE "^[a-z]+-[0-9]+" | tr "\n" " ")" = "worker-3 "'
check "Esc again: the kept filter is cleared, every lane again, and the message bar says so" \
    eval 'test "$(lanes_rows "$TMP/e3.txt" | grep -cE "^(main|worker-[0-9])")" = 5 &&
        ! grep -q "filter: " "$TMP/e3.txt" && grep -q "lane filter cleared" "$TMP/e3.txt"'
check "a filter that matches nothing says / changes it and Esc clears it" \
    grep -q "no lane matches 'zzz' (/ changes the filter, Esc clears it)" "$TMP/e4.txt"
check "Esc: that filter cleared, every lane again" \
    test "$(lanes_rows "$TMP/e5.txt" | grep -cE '^(main|worker-[0-9])')" = 5
check "the help says Esc clears the filter" grep -q "/ .*filter lanes by name (Esc clears it, also later)" "$TMP/e6.txt"

# ---- r runs again: a fresh run from 0, then done again
s=$(script rerun "wait done" "snapshot $TMP/r0.txt" "key r" "wait 100ms" "snapshot $TMP/r1.txt" \
    "wait done" "snapshot $TMP/r2.txt" "key q")
run_cv 0 run gather-sleep --set sleeps_ms=800,400 --no-color --script "$s" --size 120x40
check "r: the first run was done" grep -q "threads x2  GIL off  done" "$TMP/r0.txt"
check "r: a new run is running, from the start ($(elapsed "$TMP/r1.txt") s)" \
    fcmp "$(grep -c "GIL off  running" "$TMP/r1.txt") == 1 && $(elapsed "$TMP/r1.txt") < 0.7"
check "r: says so" grep -q "run again" "$TMP/r1.txt"
check "r: the second run completes" grep -q "threads x2  GIL off  done  .*tasks 2/2" "$TMP/r2.txt"

# ---- m picks another model (the popup lists the scenario's models in order), w a worker count
s=$(script model "wait text worker-1" "key m" "snapshot $TMP/m0.txt" "key j j" "key Enter" \
    "wait text procs x4" "wait done" "snapshot $TMP/m1.txt" "key w" "snapshot $TMP/w0.txt" \
    "type 3" "key Enter" "wait text procs x3" "wait done" \
    "snapshot $TMP/w1.txt" "key q")
run_cv 0 run counter-race --set iterations=200000 --no-color --script "$s" --size 120x40
check "m: the model popup lists the scenario's models" \
    test "$(grep -oE "^ {20,}(serial|threads|procs|openmp|epoll) *$" "$TMP/m0.txt" | tr -d ' ' | tr '\n' ' ')" = "serial threads procs openmp epoll "
check "m: the third model (procs) ran" grep -q "counter-race  procs x4  GIL off  done" "$TMP/m1.txt"
check "w: the worker count popup" grep -q "workers (Enter runs, Esc closes)" "$TMP/w0.txt"
check "w: 3 workers ran" grep -q "counter-race  procs x3  GIL off  done" "$TMP/w1.txt"
check "w: ... with three worker lanes" \
    test "$(lanes_rows "$TMP/w1.txt" | grep -cE '^worker-[0-9]')" = 3

# ---- n: the runs of each model a comparison (c) makes: 1 3 5 7, 3 at first; in the help and bar
s=$(script runs "wait text worker-1" "key ?" "snapshot $TMP/n-help.txt" "key Esc" "key n" \
    "snapshot $TMP/n1.txt" "key n" "snapshot $TMP/n2.txt" "key n" "snapshot $TMP/n3.txt" "key n" \
    "snapshot $TMP/n4.txt" "key q")
run_cv 0 run counter-race --set iterations=200000 --no-color --script "$s" --size 120x40
check "n: in the help, from the key table" \
    grep -Eq "^ +n +compare: runs of each model, 1 3 5 or 7 \(3 at first\)" "$TMP/n-help.txt"
check "n: in the key bar, beside c" grep -q " cn compare " "$TMP/n-help.txt"
check "n n n n: 5, 7, 1, then 3 runs of each model again" \
    test "$(cat "$TMP"/n[1-4].txt | grep -oE "compare: [0-9] runs? of each model" | tr '\n' ,)" = \
    "compare: 5 runs of each model,compare: 7 runs of each model,compare: 1 run of each model,compare: 3 runs of each model,"

# ---- colour in a real terminal: coloured cells, and letters under NO_COLOR
if ! command -v tmux >/dev/null; then
    bad "tmux is not installed (make test installs it)"
    finish
    exit
fi
SOCK="cvkeys-$$"
T() { tmux -L "$SOCK" "$@"; }
trap 'tmux -L "cvkeys-$$" kill-server 2>/dev/null || true; rm -rf "$TMP"' EXIT
# lane_row: worker-1's row as the terminal shows it, with its escape sequences
lane_row() { T capture-pane -p -e -t cv | grep -a "worker-1 " | head -1; }
for mode in colour NO_COLOR; do
    env=()
    [ $mode = NO_COLOR ] && env=(-e NO_COLOR=1)
    T new-session -d -s cv -x 120 -y 40 -e LANG=C.UTF-8 -e TERM=tmux-256color "${env[@]}" \
        -e CONCVIZ_SCENARIOS="$CONCVIZ_SCENARIOS" \
        "$CONCVIZ run gather-sleep --set sleeps_ms=3000,2000; echo concviz-ended; sleep 30"
    # (the marker ends the wait at once if concviz ends without showing the view)
    if wait_for "worker-2|concviz-ended" && ! screen | grep -q concviz-ended; then
        sleep 0.5
        row=$(lane_row)
        # a background colour: SGR 40-47, 100-107 or 48;5;N
        if [ $mode = colour ]; then
            check "colour: lanes are coloured cells" grep -qE $'\e\\[([0-9;]*;)?(4[0-7]|10[0-7]|48;5;[0-9]+)(;[0-9;]*)?m' <<<"$row"
            check "colour: no state letters in the cells" \
                test -n "$row" -a "$(sed 's/\x1b\[[0-9;]*m//g' <<<"$row" | grep -cE 'III')" = 0
        else
            check "NO_COLOR: no colour at all in the lanes" \
                test -n "$row" -a "$(grep -cE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7]|10[0-7]|[34]8;5;[0-9]+)(;[0-9;]*)?m' <<<"$row")" = 0
            check "NO_COLOR: states drawn as letters (I for the sleep)" \
                grep -qE 'III' <<<"$(sed 's/\x1b\[[0-9;]*m//g' <<<"$row")"
        fi
    else
        bad "$mode: the live view did not come up"
    fi
    T send-keys -t cv q
    T kill-server 2>/dev/null || true
    sleep 0.2
done

# w on a scenario of roles: no single worker count to ask for (a rerun with one was refused);
# the message names the roles and how to set them
printf '%s\n' "wait done" "key w" "snapshot $TMP/roles-w.txt" "key q" >"$TMP/roles-w.script"
run_cv 0 run pipeline --set items=5 --no-color --script "$TMP/roles-w.script" --size 160x40
check "w on pipeline: says its workers are its roles and how to set them, asks for no count" \
    eval 'grep -q "pipeline runs one worker per role (producer, consumer): set their counts in the picker, or with --set producers=N --set consumers=N" "$TMP/roles-w.txt" &&
        ! grep -q "workers:" "$TMP/roles-w.txt"'

# a filter kept while more lanes match than fit: the lane count says the filter too
printf '%s\n' "wait done" "key /" "type 1" "key Enter" "snapshot $TMP/filter-many.txt" "key q" >"$TMP/filter-many.script"
run_cv 0 run c10k --model epoll --set requests=300 --no-color --script "$TMP/filter-many.script" --size 120x40
check "filter with more lanes than rows: '1-N of M lanes matching' the filter" \
    grep -Eq " 1-[0-9]+ of [0-9]+ lanes matching '1'\$" "$TMP/filter-many.txt"
finish

#!/usr/bin/env bash
# The terminal UI: scripted runs on a virtual screen (panels, help, resizing, bad scripts), and
# the real binary in a tmux pane (picker, live view, help, resize, q leaves a sane terminal;
# Ctrl-C and SIGTERM during a recorded run leave a sane terminal and a complete recording).
. "$(dirname "$0")/lib.sh"

# script NAME STEPS...: writes a script file, one step per argument
script() {
    local f="$TMP/$1.script"; shift
    printf '%s\n' "$@" >"$f"
    echo "$f"
}

# counter-race: the live view shows the lanes, then the lost updates once the run is done
# (a run of ~3 s, so the snapshot at 400 ms falls inside it on a fast or a slow machine)
s=$(script race "wait text worker-4" "wait 400ms" "snapshot $TMP/race-live.txt" "wait done" \
    "expect lost_updates" "expect counter_final" "expect ok   loses_updates" \
    "snapshot $TMP/race-done.txt" "key q")
run_cv 0 run counter-race --set iterations=2000000 --no-color --script "$s" --size 120x40
check "counter-race: lanes drawn while running" grep -q "^worker-1 .*R" "$TMP/race-live.txt"
check "counter-race: live counter shown" grep -q "counter = " "$TMP/race-live.txt"
check "counter-race: lost updates shown" grep -Eq "lost_updates [1-9][0-9]*" "$TMP/race-done.txt"
check "counter-race: header says done" grep -q "counter-race  threads x4  GIL off  done" \
    "$TMP/race-done.txt"
check "counter-race: legend present" grep -q "legend R running  I I/O  L lock" "$TMP/race-done.txt"
check "counter-race: summary printed after the UI" grep -q "^counter-race  model threads" <<<"$OUT"

# mutex variant: the locks panel names the lock and its contention
s=$(script mutex "wait done" "expect counter" "snapshot $TMP/mutex.txt" "key q")
run_cv 0 run counter-race --set iterations=100000 --set variant=mutex --no-color --script "$s" \
    --size 120x40
check "mutex: locks panel: the lock, free, contention" \
    grep -Eq "^counter free, 0 waiting, (<0.01|[0-9.]+)% contended" "$TMP/mutex.txt"
check "mutex: the contended share is never a bare 0% when acquisitions waited" \
    eval 'grep -Eq "^counter free, 0 waiting, " "$TMP/mutex.txt" &&
        { ! grep -Eq "^counter free, 0 waiting, 0% contended" "$TMP/mutex.txt" ||
            grep -q "^  no wait" "$TMP/mutex.txt"; }'
check "mutex: locks panel: waiting totals, their share of worker time, the latest hand-over" \
    grep -Eq "^  wait [0-9.<]+% of worker time  worker-[0-9]→worker-[0-9]" "$TMP/mutex.txt"

# pipeline: the queue gauge never passes capacity, sampled through the run
steps=()
for i in $(seq 8); do steps+=("wait 150ms" "snapshot $TMP/pipe-$i.txt"); done
s=$(script pipe "${steps[@]}" "wait done" "snapshot $TMP/pipe-end.txt" "key q")
run_cv 0 run pipeline --no-color --script "$s" --size 120x40
over=0 gauges=0
for f in "$TMP"/pipe-[1-8].txt "$TMP/pipe-end.txt"; do
    [ -f "$f" ] || continue
    while read -r d c; do
        gauges=$((gauges + 1))
        [ "$d" -le "$c" ] || over=1
    done < <(grep -oE " [0-9]+/[0-9]+ \(max" "$f" | tr '/(' '  ' | awk '{print $1, $2}')
done
check "pipeline: a queue gauge was drawn" grep -qE "[0-9]+/[0-9]+ \(max [0-9]+\)" "$TMP/pipe-end.txt"
check "pipeline: depth never above capacity ($gauges gauges in 9 snapshots)" \
    test "$over" = 0 -a "$gauges" -ge 9
# role-based: the header counts what flows (the queue's gets), not only the five role tasks,
# which end with the run
gets=$(for f in "$TMP"/pipe-[1-8].txt "$TMP/pipe-end.txt"; do
    [ -f "$f" ] && sed -n '1s/.* queue gets \([0-9]*\) .*/\1/p' "$f"; done | tr '\n' ' ')
check "pipeline: the header counts the queue's gets as the run goes ($gets), 203 at the end (200 items, 3 pills)" \
    eval 'grep -q "tasks 0/5 done  queue gets [1-9][0-9]*  " "$TMP/pipe-4.txt" &&
        grep -q "tasks 5/5 done  queue gets 203 " "$TMP/pipe-end.txt"'

# task ids inside the lane cells; lane details name the URL a lane is fetching
s=$(script fetch "wait text running" "wait 100ms" "key j" "key Enter" "wait text fetching 3s" \
    "snapshot $TMP/fetch.txt" "key Esc" "wait done" "snapshot $TMP/fetch-done.txt" "key q")
run_cv 0 run io-vs-sequential --model threads --set delays_ms=300 --no-color --script "$s" --size 120x40
check "lane details: the URL being fetched" \
    grep -Eq "fetching http://127\.0\.0\.1:[0-9]+/delay/300" "$TMP/fetch.txt"
# which worker runs which task varies: any worker row with a task id between I/O cells
check "lanes: task ids inside the cells" grep -Eq "^worker-[0-9]+ .*I+[0-9]+I+" "$TMP/fetch-done.txt"

# deadlock: the view names the cycle
s=$(script dl "wait done" "snapshot $TMP/dl.txt" "key q")
run_cv 0 run deadlock --no-color --script "$s" --size 120x40
check "deadlock: header says DEADLOCKED" grep -q "DEADLOCKED" "$TMP/dl.txt"
check "deadlock: the cycle is named" grep -Eq "cycle: .*(->|→|waits)" "$TMP/dl.txt"

# help, resizing below the minimum and back, the controls bar
# (the script's expects end the run with exit 1 when they fail; the snapshots show each step)
s=$(script help "wait text worker-1" "key ?" "expect help: keys and colours" \
    "expect dead: the worker process died" "snapshot $TMP/help.txt" "key Esc" "resize 40x12" \
    "expect terminal too small (need 60x16)" "snapshot $TMP/small.txt" "resize 120x40" \
    "expect legend" "expect ? help" "snapshot $TMP/back.txt" "key q")
run_cv 0 run gather-sleep --no-color --script "$s" --size 120x40
check "help: the keys and colours" grep -q "help: keys and colours" "$TMP/help.txt"
check "resize to 40x12: too small, a screen of 12 lines saying so" \
    test "$(grep -c -e "terminal too small (need 60x16)" -e "now 40x12" "$TMP/small.txt"):$(wc -l <"$TMP/small.txt")" = 2:12
check "back to 120x40: the legend and the controls" \
    eval 'grep -q "legend R running" "$TMP/back.txt" && grep -q "? help" "$TMP/back.txt"'

# compare: every model in turn, each 3 times (the default), then a table of the medians
s=$(script cmp "wait text worker-1" "key c" "wait text compare: each model 3 times" \
    "snapshot $TMP/cmp-running.txt" "wait text compare: 3 runs of each model (any key closes) 90s" \
    "snapshot $TMP/cmp.txt" "key Esc" "key n n n" "expect compare: 1 run of each model" "key c" \
    "wait text compare: 1 run of each model (any key closes) 60s" "snapshot $TMP/cmp1.txt" "key q")
run_cv 0 run counter-race --set iterations=20000 --no-color --script "$s" --size 120x40
# the popup's text at 120 columns (the panels behind it cut off), its lines joined
popup() { sed -n '/── compare/,/^ *[a-z ]*──────/p' "$1" | cut -c4-118 | sed 's/ *$//'; }
joined() { popup "$1" | tr '\n' ' ' | tr -s ' '; }
check "compare: while running, the round and each row's runs so far" \
    eval 'grep -Eq "compare: each model 3 times, in turn \(round [1-3] of 3\)" "$TMP/cmp-running.txt" &&
          grep -Eq "^ +serial +.* [0-3]/3( |\$)" "$TMP/cmp-running.txt"'
for m in serial threads "threads \\+GIL 3\\.11" procs openmp epoll; do
    check "compare: a row for $m: median wall, speedup, 3 of 3 runs, spread, min-max" \
        grep -Eq "^ +$m +[0-9.]+m?s +[0-9.]+x +3/3 +[0-9.]+% +[0-9.]+m?s-[0-9.]+m?s " "$TMP/cmp.txt"
done
check "compare: serial is the 1.00x baseline" grep -Eq "^ +serial +[0-9.]+m?s +1.00x" "$TMP/cmp.txt"
check "compare: a mem/task column, the memory a run added per task (median; - when none)" \
    eval 'grep -Eq "in flight +mem/task +checks" "$TMP/cmp.txt" &&
        grep -Eq "^ +serial .* ([0-9.]+ KB|-) +ok \(3\)" "$TMP/cmp.txt"'
# The figures agree with each other, whatever they are: each median lies within its min-max, each
# spread is (max - min) / median, each speedup serial's median / the row's, and every spread over
# 10% is named in the warning (none under it is); each figure with the error its rounding allows.
popup "$TMP/cmp.txt" >"$TMP/cmp-popup.txt"
joined "$TMP/cmp.txt" >"$TMP/cmp-joined.txt"
bad_figures=$(awk -v warn="$(grep -o 'warning: .*figures are noisy' "$TMP/cmp-joined.txt")" '
    function val(t) { v = t; sub(/(us|ms|s)$/, "", v); return v * (t ~ /us$/ ? 1e-6 : t ~ /ms$/ ? 1e-3 : 1) }
    function half(t,   d, v) { v = t; sub(/(us|ms|s)$/, "", v); d = index(v, ".") ? length(v) - index(v, ".") : 0
                               return 0.5 * 10 ^ -d * (t ~ /us$/ ? 1e-6 : t ~ /ms$/ ? 1e-3 : 1) }
    /^(serial|threads|threads \+GIL 3\.11|procs|openmp|epoll) +[0-9.]+(us|ms|s) / {
        name = substr($0, 1, 17); sub(/ +$/, "", name); $0 = substr($0, 18)
        med = val($1); em = half($1); sp = $2; sub(/x$/, "", sp); sp += 0; pcs = $4; sub(/%$/, "", pcs); pc = pcs + 0
        split($5, r, "-"); lo = val(r[1]); el = half(r[1]); hi = val(r[2]); eh = half(r[2])
        rows++
        if (med < lo - el - em || med > hi + eh + em) print name ": median " $1 " outside " $5
        smin = (hi - eh - lo - el) / (med + em); smax = (hi + eh - lo + el) / (med - em)
        if (pc < 100 * (smin < 0 ? 0 : smin) - 0.05 || pc > 100 * smax + 0.05)
            print name ": spread " pc "% is not (max - min) / median of " $5 " and " $1
        if (name == "serial") { base = med; eb = em }
        speed[name] = sp; m[name] = med; e[name] = em
        if (pc >= 10.1 && index(warn, pcs "% for " name) == 0) print name ": spread " pcs "% not in the warning"
        if (pc <= 9.9 && (index(warn, "% for " name ",") || index(warn, "% for " name " (")))
            print name ": spread " pc "% named in the warning"
    }
    END {
        if (rows != 6) print "rows: " rows " of 6"
        for (n in speed)
            if (speed[n] < (base - eb) / (m[n] + e[n]) - 0.005 || speed[n] > (base + eb) / (m[n] - e[n]) + 0.005)
                print n ": speedup " speed[n] "x is not serial/" n
    }' "$TMP/cmp-popup.txt")
check "compare: medians, spreads, speedups and the warning agree${bad_figures:+: $bad_figures}" \
    test -z "$bad_figures"
# the machine: CPUs and load as the runs began, steal and other programs over them; a load over
# the CPUs, steal over 2% or others over 10% is in the warning; the thresholds are on screen
machine=$(grep -oE "machine: [0-9]+ CPUs?, load [0-9.]+ as the runs began; during the runs: steal [0-9.]+%, other programs [0-9.]+% of CPU time" "$TMP/cmp-joined.txt" || true)
check "compare: the machine line (${machine:-none})" test -n "$machine"
read -r ncpu load steal others < <(sed -E 's/machine: ([0-9]+) CPUs?, load ([0-9.]+) .* steal ([0-9.]+)%, other programs ([0-9.]+)%.*/\1 \2 \3 \4/' <<<"$machine")
noisy_ok=1
if fcmp "${load:-0} > ${ncpu:-1}"; then grep -q "load $load on $ncpu CPU" "$TMP/cmp-joined.txt" || noisy_ok=0; fi
if fcmp "${steal:-0} > 2.05"; then grep -q "the host stole $steal%" "$TMP/cmp-joined.txt" || noisy_ok=0; fi
if fcmp "${others:-0} > 10.05"; then grep -q "other programs took $others%" "$TMP/cmp-joined.txt" || noisy_ok=0; fi
if fcmp "${load:-0} <= ${ncpu:-1} && ${steal:-0} < 1.95 && ${others:-0} < 9.95"; then
    ! grep -Eq "load [0-9.]+ on [0-9]+ CPUs? as|host stole|programs took" "$TMP/cmp-joined.txt" || noisy_ok=0
fi
check "compare: the warning names the busy machine exactly when the machine line says so" \
    test "$noisy_ok" = 1
check "compare: the thresholds on screen" \
    grep -q "warns at: a spread over 10%, a load over the CPU count, steal over 2%, other programs over 10% of CPU time" "$TMP/cmp-joined.txt"
check "compare: n n n makes it one run of each model: 1/1, no spread" \
    eval 'test "$(grep -Ec "^ +(serial|threads|threads \+GIL 3\.11|procs|openmp|epoll) +[0-9.]+m?s +[0-9.]+x +1/1 +- +- " "$TMP/cmp1.txt")" = 6'

# compare where every run deadlocks: no median, and the table says why and that it has fewer runs
s=$(script cmpdl "wait text worker-1" "key n n n" "key c" \
    "wait text compare: 1 run of each model (any key closes) 60s" "snapshot $TMP/cmpdl.txt" "key q")
run_cv 0 run deadlock --no-color --script "$s" --size 120x40
check "compare, deadlock: each row has no median, 0 of 1 runs, and says deadlock" \
    eval 'test "$(grep -Ec "^ +(threads|threads \+GIL 3\.11|procs|epoll) +- +- +0/1 .* deadlock" "$TMP/cmpdl.txt")" = 4'
check "compare, deadlock: fewer runs than asked, said" \
    grep -q "runs that ended done, fewer than asked: threads 0 of 1, threads +GIL 3.11 0 of 1, procs 0 of 1, epoll 0 of 1" \
    <(joined "$TMP/cmpdl.txt")

# scripted picker: pick counter-race, run it, come back, quit
s=$(script pick "wait text pick a scenario" "key j j j j" "expect counter-race" "key Enter" \
    "wait text counter-race  threads" "wait done" "snapshot $TMP/picked.txt" "key q" \
    "wait text pick a scenario" "snapshot $TMP/picker-back.txt" "key q")
set +e
"$CONCVIZ" --no-color --script "$s" --size 120x40 >"$TMP/pick.out" 2>"$TMP/pick.err"
rc=$?
set -e
check "picker: scripted run and back, exit 0 ($rc)" \
    eval '[ "$rc" = 0 ] && grep -q "counter-race  threads x4  GIL off  done" "$TMP/picked.txt" && grep -q "pick a scenario" "$TMP/picker-back.txt"'

# the picker at 80x24 on pipeline, whose workers are roles: each role's count shown and edited
# (no single worker count, which the run would refuse), a count out of range refused with the
# reason, a parameter's meaning, default and range, and the run made with the counts set (with
# --ascii, so that a screen's columns are its characters)
# pane_joined FILE: the picker's right side (from column 34 at 80x24) as one line; bar_joined
# FILE: its last rows (a message takes as many as it needs) as one line
pane_joined() { cut -c34- "$1" | tr '\n' ' ' | tr -s ' '; }
bar_joined() { tail -n 3 "$1" | tr '\n' ' ' | tr -s ' '; }
pick_at() { # pick_at NAME: the keys that select scenario NAME in the picker's sorted list
    local LC_ALL=C f keys="" # the picker's order: the file names' bytes
    for f in "$CONCVIZ_SCENARIOS"/*.ini; do
        [ "$(basename "$f" .ini)" = "$1" ] && break
        keys="$keys j"
    done
    echo "key${keys:- Home}"
}
s=$(script pickpipe "wait text pick a scenario" "$(pick_at pipeline)" \
    "expect Producer/consumer pipeline" "snapshot $TMP/pp-top.txt" \
    "key w" "snapshot $TMP/pp-roles.txt" \
    "key j Enter Backspace" "type 999" "key Enter" "snapshot $TMP/pp-refused.txt" \
    "key Esc" "snapshot $TMP/pp-kept.txt" \
    "key Enter Backspace" "type 4" "key Enter" "snapshot $TMP/pp-set.txt" "key Esc" \
    "key p j j j Enter Backspace Backspace" "type 1" "key Enter" "snapshot $TMP/pp-param.txt" \
    "key Esc Enter" "wait text pipeline  threads" "wait done" "snapshot $TMP/pp-run.txt" "key q" \
    "wait text pick a scenario" "key q")
run_cv 0 --no-color --ascii --script "$s" --size 80x24
check "picker, pipeline: its roles with their counts, no worker count" \
    eval 'grep -q "  roles    5 in all (w edits)" "$TMP/pp-top.txt" &&
          grep -Eq "  producers  2 +producer threads" "$TMP/pp-top.txt" &&
          grep -Eq "  consumers  3 +consumer threads" "$TMP/pp-top.txt" &&
          ! grep -q "workers  " "$TMP/pp-top.txt"'
check "picker, pipeline: w focuses the roles; the role's meaning, default and range" \
    eval 'grep -q "producers: producer threads; default 2; whole number 1..256" <(pane_joined "$TMP/pp-roles.txt") &&
          grep -q " jk choose  Enter edit  Esc back" "$TMP/pp-roles.txt"'
check "picker, pipeline: a count out of range is refused, saying why" \
    eval 'grep -q "^ consumers must be between 1 and 256, not 999$" "$TMP/pp-refused.txt" &&
          grep -Eq "  consumers  3 +consumer threads" "$TMP/pp-kept.txt" &&
          grep -q "  roles    5 in all" "$TMP/pp-kept.txt"'
check "picker, pipeline: a count in range is set" \
    eval 'grep -Eq "  consumers  4 +consumer threads" "$TMP/pp-set.txt" &&
          grep -q "  roles    6 in all" "$TMP/pp-set.txt"'
check "picker, pipeline: a parameter set, its meaning, default and range shown" \
    eval 'grep -Eq "  consume_ms  1 " "$TMP/pp-param.txt" &&
          grep -q "consume_ms: time to process one item (I/O-like wait), ms; default 30; number 0..10000" <(pane_joined "$TMP/pp-param.txt")'
check "picker, pipeline: the run uses the counts: 2 producers and 4 consumers, done" \
    eval 'grep -q "^ concviz  pipeline  threads x6  GIL off  done" "$TMP/pp-run.txt" &&
          grep -q "^consumer-4 " "$TMP/pp-run.txt" && ! grep -q "^consumer-5 " "$TMP/pp-run.txt" &&
          grep -q "^producer-2 " "$TMP/pp-run.txt" && ! grep -q "could not start" "$TMP/pp-run.txt"'

# the lesson at 80x24: wrapped at word boundaries and scrolled, a marker saying how many lines are
# out of sight (with --ascii, so the screen's columns are its characters)
s=$(script picklesson "wait text pick a scenario" "$(pick_at pipeline)" \
    "snapshot $TMP/pl-top.txt" "key J" "snapshot $TMP/pl-one.txt" "key PageDown" \
    "snapshot $TMP/pl-end.txt" "key K K K K K K K K K K" "snapshot $TMP/pl-back.txt" "key q")
run_cv 0 --no-color --ascii --script "$s" --size 80x24
# lesson_rows FILE: the lesson's rows on the right (from column 34), between the row under the
# title (blank, or the marker of lines above) and the row after it (blank, or the marker below)
lesson_rows() {
    cut -c34- "$1" | awk 'NR < 3 { next }
        !on { if ($0 == "" || $0 ~ /^\^ /) on = 1; next }
        $0 == "" || $0 ~ /^v / { exit }
        { print }'
}
lesson=$("$CONCVIZ" show pipeline | awk 'NR > 2 && /^$/ { exit } NR > 2' | tr -s ' \n' '  ' |
    sed 's/^ //; s/ $//')
top_n=$(lesson_rows "$TMP/pl-top.txt" | wc -l)
more=$(sed -n 's/.*  v \([0-9]*\) more lines\{0,1\} (J or PgDn)$/\1/p' "$TMP/pl-top.txt")
above=$(sed -n 's/.*  ^ \([0-9]*\) lines\{0,1\} above (K or PgUp)$/\1/p' "$TMP/pl-end.txt")
# the whole lesson: the first screen's rows before the last one's, then the last one's
whole=$( { lesson_rows "$TMP/pl-top.txt" | head -n "${above:-0}"; lesson_rows "$TMP/pl-end.txt"; } |
    tr '\n' ' ' | sed 's/ $//')
check "picker lesson 80x24: longer than its rows, the rest counted (v $more more)" \
    eval '[ -n "$more" ] && [ "$more" -gt 0 ] && [ "$top_n" -ge 3 ] &&
          [ "$(( above + $(lesson_rows "$TMP/pl-end.txt" | wc -l) ))" = "$(( top_n + more ))" ]'
check "picker lesson 80x24: no row wider than the pane, no word cut at its edge" \
    eval '[ "$(lesson_rows "$TMP/pl-top.txt" | awk "length > 46" | wc -l)" = 0 ] &&
          [ "$whole" = "$lesson" ]'
check "picker lesson 80x24: J scrolls a line, the marker above says so; K back to the top" \
    eval 'grep -q "  ^ 1 line above (K or PgUp)$" "$TMP/pl-one.txt" &&
          [ "$(lesson_rows "$TMP/pl-one.txt" | head -1)" = "$(lesson_rows "$TMP/pl-top.txt" | sed -n 2p)" ] &&
          ! grep -q "^ .*  v [0-9]* more line" "$TMP/pl-end.txt" &&
          [ "$(lesson_rows "$TMP/pl-end.txt" | tail -1 | grep -o "[^ ]*$")" = "once." ] &&
          cmp -s "$TMP/pl-top.txt" "$TMP/pl-back.txt"'
s=$(script picklessonu "wait text pick a scenario" "$(pick_at pipeline)" \
    "snapshot $TMP/plu.txt" "key q")
run_cv 0 --no-color --script "$s" --size 80x24
check "picker lesson 80x24: the marker with an arrow outside --ascii" \
    grep -Eq "  ↓ [0-9]+ more lines? \(J or PgDn\)$" "$TMP/plu.txt"

# a scenario with a worker count (counter-race): an enum parameter's choices, a value not among
# them refused, and w's count used by the run
s=$(script pickrace "wait text pick a scenario" "$(pick_at counter-race)" \
    "key p Enter Backspace Backspace Backspace Backspace" "type spinlock" "key Enter" \
    "snapshot $TMP/pr-refused.txt" "key Esc j Enter" \
    "key Backspace Backspace Backspace Backspace Backspace Backspace Backspace" "type 20000" \
    "key Enter Esc w" "type 3" "key Enter" "snapshot $TMP/pr-set.txt" "key Enter" \
    "wait text counter-race  threads" "wait done" "snapshot $TMP/pr-run.txt" "key q" \
    "wait text pick a scenario" "key q")
run_cv 0 --no-color --ascii --script "$s" --size 80x24
check "picker, counter-race: an enum's choices shown, a value not among them refused" \
    eval 'grep -q "variant: how the increment is protected; default none; one of none|mutex|atomic|omp_atomic|omp_critical" <(pane_joined "$TMP/pr-refused.txt") &&
          grep -q "variant must be one of none|mutex|atomic|omp_atomic|omp_critical, not .spinlock." <(bar_joined "$TMP/pr-refused.txt")'
check "picker, counter-race: w sets the worker count, and the run uses it" \
    eval 'grep -q "workers  3$" "$TMP/pr-set.txt" && grep -Eq "  iterations  20000 " "$TMP/pr-set.txt" &&
          grep -q "^ concviz  counter-race  threads x3  GIL off  done" "$TMP/pr-run.txt"'

# golden screens: the picker and its help at 120x40, without colour (deterministic: they show
# the scenario files, no run)
GOLDEN="$(dirname "$0")/../golden"
s=$(script golden "wait text pick a scenario" "snapshot $TMP/picker.txt" "key ?" \
    "snapshot $TMP/picker-help.txt" "key q" "key q")
run_cv 0 --no-color --script "$s" --size 120x40
for g in picker picker-help; do
    sed -i 's/^ concviz [0-9][0-9.]* - pick/ concviz VERSION - pick/' "$TMP/$g.txt"
    check "golden screen: $g" diff -u "$GOLDEN/$g-120x40.txt" "$TMP/$g.txt"
done

# bad scripts and flags: one line naming the place, exit 2
s=$(script bad "wait 1s" "frobnicate")
run_cv 2 run counter-race --script "$s" --size 80x24
check "bad script step: file:line" grep -q "bad.script:2: unknown step 'frobnicate'" <<<"$ERR"
s=$(script badkey "key NoSuchKey")
run_cv 2 run counter-race --script "$s" --size 80x24
check "bad key name: file:line" grep -q "badkey.script:1: unknown key 'NoSuchKey'" <<<"$ERR"
run_cv 2 run counter-race --script "$s"
check "script without a terminal needs --size" grep -q "needs --size" <<<"$ERR"
run_cv 2 run counter-race --size 80x24
check "--size without --script" grep -q "is for --script" <<<"$ERR"
run_cv 2 run counter-race --size 80by24 --script "$s"
check "--size format" grep -q "size needs WxH" <<<"$ERR"
run_cv 2 run counter-race --fps 0
check "--fps range" grep -q "fps must be" <<<"$ERR"
s=$(script fails "wait done" "expect no such text anywhere" "key q")
run_cv 1 run counter-race --set iterations=1000 --script "$s" --size 80x24
check "failed expect: exit 1 with the screen" grep -q "not on the screen: 'no such text anywhere'" <<<"$ERR"

# many lanes (issue 19): the lanes take their share of the rows and say how many are hidden; the
# time axis stops a column before the lane count; Tab then j scroll the results, whose marker
# names the keys from the key table
s=$(script many "wait done" "snapshot $TMP/many-160.txt" "resize 80x24" "snapshot $TMP/many-80.txt" \
    "key Tab Tab Tab Tab" "key j" "snapshot $TMP/many-80-results.txt" "key q")
run_cv 0 run c10k --model epoll --set requests=1000 --no-color --script "$s" --size 160x48
for f in many-160 many-80; do
    check "$f: the lane count stands apart from the time axis" \
        grep -qE '[^ ]  +1-[0-9]+ of 1001 lanes$' "$TMP/$f.txt"
    check "$f: the lanes say how many more there are, and the key" grep -qE '^↓ [0-9]+ more: j' "$TMP/$f.txt"
done
check "160x48: the lanes take 60% of the rows under the header (26), the legend under them" \
    test "$(grep -n '^legend' "$TMP/many-160.txt" | cut -d: -f1)" = 29
check "80x24, results focused: j scrolled them, what is above is said with its key" \
    grep -qE '↑ 1 more: k' "$TMP/many-80-results.txt"
check "c10k's results: the memory per task, the lesson's figure ($(grep -o 'memory per task [0-9.]* KB' "$TMP/many-160.txt"))" \
    grep -Eq "memory per task [0-9]+\.[0-9] KB, peak [0-9.]+ MB" "$TMP/many-160.txt"
check "epoll's header: one thread, the thousand are tasks (not 'epoll x1000')" \
    eval 'grep -q "  epoll 1 thread  GIL off .* tasks 1000/1000 done" "$TMP/many-160.txt" &&
        ! grep -q "epoll x" "$TMP/many-160.txt"'

# stdout not a terminal: headless, as before
run_cv 0 run counter-race --set iterations=1000
check "no terminal: headless summary" grep -q "^counter-race  model threads" <<<"$OUT"

# ---- the real binary in tmux ----
if command -v tmux >/dev/null; then
    SOCK="cvtest-$$"
    T() { tmux -L "$SOCK" "$@"; }
    trap 'tmux -L "cvtest-$$" kill-server 2>/dev/null || true
          tmux -L "cvtest2-$$" kill-server 2>/dev/null || true
          tmux -L "cvtest3-$$" kill-server 2>/dev/null || true
          rm -rf "$TMP"' EXIT
    T new-session -d -s cv -x 120 -y 40 -e LANG=C.UTF-8 -e TERM=tmux-256color \
        -e CONCVIZ_SCENARIOS="$CONCVIZ_SCENARIOS" \
        "$CONCVIZ; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE 'echo|icanon' | sort | tr '\n' ' '; echo; sleep 60"
    check "tmux: the picker starts" wait_for "pick a scenario"
    T send-keys -t cv j j j j Enter
    check "tmux: counter-race runs, lanes shown" wait_for "worker-4"
    check "tmux: results panel fills" wait_for "lost_updates"
    T send-keys -t cv '?'
    check "tmux: ? shows the help" wait_for "help: keys and colours"
    T send-keys -t cv Escape
    T resize-window -t cv -x 40 -y 12
    check "tmux: 40x12 says too small" wait_for "terminal too small"
    T resize-window -t cv -x 120 -y 40
    check "tmux: back to 120x40" wait_for "legend"
    T send-keys -t cv q
    check "tmux: q goes back to the picker" wait_for "pick a scenario"
    T send-keys -t cv q
    check "tmux: q quits with 0" wait_for "EXIT=0"
    check "tmux: the terminal is sane afterwards (echo, icanon)" wait_for "^echo icanon"
    T kill-server 2>/dev/null || true
    # Ctrl-C or SIGTERM in a recorded live run: the run stops, exit 130, the terminal is sane and
    # the recording is complete (it replays with its footer). Each in a server of its own: a new
    # session right after kill-server on the same socket can race its exit.
    stop_recorded() { # stop_recorded NAME SOCKET FILE: NAME is Ctrl-C (a key) or SIGTERM (kill)
        SOCK=$2
        T new-session -d -s cv -x 120 -y 40 -e LANG=C.UTF-8 -e TERM=tmux-256color \
            -e CONCVIZ_SCENARIOS="$CONCVIZ_SCENARIOS" \
            "$CONCVIZ run gather-sleep --set sleeps_ms=30000,20000 --record $3; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE 'echo|icanon' | sort | tr '\n' ' '; echo; sleep 60"
        check "tmux: live view up ($1)" wait_for "gather-sleep"
        if [ "$1" = Ctrl-C ]; then
            T send-keys -t cv C-c
        else
            local pid
            pid=$(pgrep -f -n "run gather-sleep --set sleeps_ms=30000,20000 --record $3" || true)
            [ -n "$pid" ] && kill -TERM "$pid"
        fi
        check "tmux: $1 exits 130" wait_for "EXIT=130"
        check "tmux: $1 leaves a sane terminal" wait_for "^echo icanon"
        T kill-server 2>/dev/null || true
        run_cv 0 replay "$3" --json &&
            check "$1 during a recorded TUI run: a complete recording" test "$(jqv .state)" = stopped
    }
    stop_recorded Ctrl-C "cvtest2-$$" "$TMP/int.cvr"
    stop_recorded SIGTERM "cvtest3-$$" "$TMP/term.cvr"
else
    bad "tmux is not installed (make test installs it)"
fi
finish

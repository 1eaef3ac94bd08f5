#!/usr/bin/env bash
# The command line: help, version, list, show, and a clear one-line error with exit 2 for
# every kind of bad input.
. "$(dirname "$0")/lib.sh"

run_cv 0 --help && check "--help prints usage" grep -q "Usage:" "$TMP/out"
run_cv 0 --version && check "--version prints the version" grep -Eq '^concviz [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"
run_cv 0 run --help && check "run --help lists options" grep -q -- "--switch-interval" "$TMP/out"
# every help that lists export's formats lists all four, and each of them exports
formats() { sed -n 's/.*concviz export FILE --format \([a-z|]*\).*/\1/p' "$TMP/out"; }
run_cv 0 --help && check "--help lists every export format ($(formats))" test "$(formats)" = "chrome|csv|json|svg"
run_cv 0 export --help && check "export --help lists every export format ($(formats))" test "$(formats)" = "chrome|csv|json|svg"
for f in chrome csv json svg; do
    run_cv 0 export "$(dirname "$0")/../golden/deadlock.cvr" --format $f -o "$TMP/export.$f" &&
        check "export --format $f, as the help says, writes the file" test -s "$TMP/export.$f"
done
run_cv 0 list
for s in cpu-primes counter-race gil-contention pipeline gather-sleep; do
    check "list shows $s" grep -q "^$s " "$TMP/out"
done
# list's titles: whole in a pipe; on a terminal, as wide as it leaves room for, cut after a whole
# word with "..." (a title's first words, as they are in the whole one)
check "list in a pipe: whole titles, none cut" eval 'grep -Eq "^c10k +Ten thousand connections: an event loop vs a thread per request +threads epoll$" "$TMP/out" && ! grep -q "[.][.][.]" "$TMP/out"'
cp "$TMP/out" "$TMP/list-pipe"
# the whole title of scenario or Python program $1, from the pipe's listing (at column 20 in both
# parts; the scenarios' title column ends where MODELS starts)
whole_title() {
    awk -v n="$1" 'NR == 1 { w = index($0, "MODELS") - 21 } $1 == n { t = substr($0, 20, w); sub(/ +$/, "", t); print t; exit }' "$TMP/list-pipe"
}
PTY_RUN="$(cd "$(dirname "$0")" && pwd)/pty_run.py"
list_on() { # list_on COLS: list on a terminal that wide, into $TMP/list-COLS (no \r)
    python3 "$PTY_RUN" output "$1x40" -- "$CONCVIZ" list | tr -d '\r' >"$TMP/list-$1"
}
list_on 200
check "list on a 200-column terminal: whole titles, none cut" eval 'grep -q "^exit 0$" "$TMP/list-200" && grep -Eq "^c10k +Ten thousand connections: an event loop vs a thread per request +threads epoll$" "$TMP/list-200" && ! grep -q "[.][.][.]" "$TMP/list-200"'
for cols in 80 50; do
    list_on $cols
    # (but for the Python programs' heading, which names their directory: a path is not cut)
    long=$(sed '$d' "$TMP/list-$cols" | grep -v "concviz trace -- python3 " |
        awk -v w=$cols 'length($0) > w' | head -3)
    check "list on a $cols-column terminal: no line wider than it${long:+ ($long)}" \
        eval 'grep -q "^exit 0$" "$TMP/list-$cols" && [ -z "$long" ]'
    cuts=0 wrong=""
    while read -r name; do
        shown=$(grep "^$name " "$TMP/list-$cols" | head -1 | cut -c20- | sed 's/[.][.][.].*//')
        whole=$(whole_title "$name")
        rest=${whole#"$shown"}
        cuts=$((cuts + 1))
        # the shown part starts the title and ends a word: the title goes on with a blank, or
        # with the punctuation the cut leaves out (", " ": " "; ")
        case "$rest" in
        "$whole" | "" | [!\ ,:\;]*) wrong="$wrong $name('$shown')" ;;
        esac
    done < <(grep '[.][.][.]' "$TMP/list-$cols" | grep -v '^ ' | awk '{ print $1 }')
    check "list on a $cols-column terminal: $cuts titles cut, each after a whole word${wrong:+; wrong:$wrong}" \
        test "$cuts" -gt 0 -a -z "$wrong"
done
check "list on a 50-column terminal: the models on a line of their own" \
    grep -Eq "^ +threads epoll$" "$TMP/list-50"
run_cv 0 show counter-race
check "show prints the lesson" grep -q "read, a little computing, and a write" "$TMP/out"
check "show prints parameters with defaults" grep -Eq "variant +none" "$TMP/out"
check "show prints expectations" grep -q "loses_updates" "$TMP/out"
stop_if_all_failed "help, version, list and show"

# bad input: exit 2, exactly one line on stderr naming the culprit
expect_usage() {
    local pattern=$1; shift
    if run_cv 2 "$@"; then
        local lines
        lines=$(printf '%s\n' "$ERR" | wc -l)
        if [ "$lines" = 1 ] && printf '%s' "$ERR" | grep -q -- "$pattern"; then
            ok "concviz $* -> exit 2: $ERR"
        else
            bad "concviz $*: stderr not one line matching '$pattern': $ERR"
        fi
    fi
}
expect_usage "unknown command 'frobnicate'" frobnicate
expect_usage "unknown option '--frob'" --frob
expect_usage "unknown option '--frob'" run counter-race --frob
expect_usage "unknown scenario 'nope' (see 'concviz list')$" run nope
expect_usage "unknown scenario 'nope' (see 'concviz list')$" show nope
# a mistyped name: the nearest names in the same line (letters swapped, missing, wrong, in any
# case), or those it begins; none when nothing is near
expect_usage "unknown scenario 'counter-rcae'; did you mean 'counter-race'? (see 'concviz list')$" run counter-rcae
expect_usage "unknown scenario 'counter-rcae'; did you mean 'counter-race'?" show counter-rcae
expect_usage "unknown scenario 'pipline'; did you mean 'pipeline'?" run pipline --headless
expect_usage "unknown scenario 'Deadlock'; did you mean 'deadlock'?" run Deadlock
expect_usage "unknown scenario 'gil-contetnion'; did you mean 'gil-contention'?" show gil-contetnion
expect_usage "unknown scenario 'cpu'; did you mean 'cpu-chunks', 'cpu-factorize', 'cpu-many-small' or 'cpu-primes'?" run cpu
mkdir "$TMP/more" && cp "$CONCVIZ_SCENARIO_DIR/counter-race.ini" "$TMP/more/counter-rack.ini"
CONCVIZ_SCENARIOS="$TMP/more:$CONCVIZ_SCENARIO_DIR" expect_usage \
    "unknown scenario 'counter-rac'; did you mean 'counter-race' or 'counter-rack'?" run counter-rac
expect_usage "unknown scenario 'queue'; did you mean 'queue-join'?" run queue
expect_usage "unknown scenario 'mutex' (see 'concviz list')$" run mutex
expect_usage "run needs a scenario" run
expect_usage "unknown model 'fibers'" run counter-race --model fibers
expect_usage "does not support model serial (supported: threads, procs, epoll)" run pipeline --model serial
expect_usage "workers must be a whole number" run counter-race --workers 0
# past 2^53 a number would not survive the JSON and the expressions exactly
expect_usage "'9007199254740993' is not a whole number from 2 to 9007199254740992" \
    run cpu-primes --set numbers=9007199254740993
expect_usage "'9007199254740993' is not a whole number from 2 to 9007199254740992" \
    run cpu-factorize --set numbers=9007199254740993
# ... and up to 2^53 every digit is shown (the JSON showed 1152921500000000000 for a larger one)
run_cv 0 run cpu-primes --set numbers=9007199254740881,49 --set repeat=1 --json &&
    check "the JSON has every digit of a large prime" test "$(jqv '.results.primes[0]')" = 9007199254740881
run_cv 0 run cpu-primes --set numbers=9007199254740881,49 --set repeat=1 --headless &&
    check "the headless table has every digit of a large prime" \
        grep -Eq "primes +9007199254740881$" <<<"$OUT"
expect_usage "workers must be a whole number" run counter-race --workers lots
expect_usage "workers must be a whole number" run counter-race -w -3
expect_usage "needs a value" run counter-race --workers
expect_usage "unknown parameter 'colour'.*(valid: variant, iterations, increment, work_ns, schedule, chunk)" run counter-race --set colour=blue
expect_usage "variant must be one of none|mutex|atomic|omp_atomic|omp_critical, not 'maybe'" run counter-race --set variant=maybe
expect_usage "schedule must be one of static|dynamic|guided, not 'fair'" run cpu-chunks --set schedule=fair
expect_usage "variant omp_critical needs the openmp model (model is procs; use mutex or atomic)" run counter-race --model procs --set variant=omp_critical
expect_usage "variant omp_atomic needs the openmp model (model is threads" run counter-race --set variant=omp_atomic
expect_usage "phases needs one task per OpenMP thread" run sync-primitives --model openmp --set schedule=dynamic
expect_usage "iterations must be a whole number" run counter-race --set iterations=many
expect_usage "iterations must be between" run counter-race --set iterations=0
expect_usage "--set needs KEY=VALUE" run counter-race --set variant
expect_usage "--gil applies to the threads model only" run counter-race --model serial --gil
expect_usage "unknown CPython version '3.8' for --python (one of: 3.9 3.10 3.11 3.12 3.13 3.13t)" run counter-race --python 3.8
expect_usage "--python applies to the threads model only (model is procs)" run counter-race --model procs --python 3.11
expect_usage "--python 3.13t is the free-threaded build, which has no GIL" run counter-race --python 3.13t --gil
expect_usage "--python 3.12 has a GIL: drop --no-gil" run counter-race --python 3.12 --no-gil
expect_usage "switch-interval must be milliseconds" run gil-contention --switch-interval 0
expect_usage "sizes its workers by role" run pipeline --workers 4
expect_usage "takes one scenario" run counter-race gather-sleep
expect_usage "sleeps_ms: 'soon' is not a plain number" run gather-sleep --set sleeps_ms=soon

# a role-shaped scenario that lists openmp
sed -e "s/^models = threads procs epoll$/models = threads procs openmp epoll/" "$CONCVIZ_SCENARIO_DIR/pipeline.ini" >"$TMP/roles.ini"
expect_usage "runs concurrent roles, which model openmp cannot run" run "$TMP/roles.ini" --model openmp

# a malformed scenario file names file:line
cat >"$TMP/broken.ini" <<'INI'
[scenario]
name = broken
title = t
lesson = l
workload = sleeps
models = threads

[params]
sleeps_ms = 10
speed = fast
INI
expect_usage "$TMP/broken.ini:10: unknown parameter 'speed' for workload 'sleeps'" run "$TMP/broken.ini"
printf '[scenario]\nname = x\nthis line is wrong\n' >"$TMP/syntax.ini"
expect_usage "$TMP/syntax.ini:3: syntax error" show "$TMP/syntax.ini"
expect_usage "$TMP/missing.ini: No such file" run "$TMP/missing.ini"

# a scenario given as a path runs
sed -e 's/^name = broken/name = fine/' -e '/^speed/d' "$TMP/broken.ini" >"$TMP/fine.ini"
run_cv 0 run "$TMP/fine.ini" --check &&
    check "a scenario file given by path runs" grep -q "^fine  model threads .*(done)$" <<<"$OUT"

# the headless progress line appears on a terminal (script gives a pty), and not in a pipe
if command -v script >/dev/null; then
    timeout 30 script -qec "$CONCVIZ run gather-sleep --set sleeps_ms=400,200 --headless" /dev/null \
        >"$TMP/pty" 2>&1 || true
    check "progress line on a terminal" grep -q "tasks [0-9]*/2" "$TMP/pty"
else
    skip "progress line on a terminal: script (util-linux), which gives the run a terminal, is not installed"
fi
run_cv 0 run gather-sleep --set sleeps_ms=200,100
check "no progress line when stderr is not a terminal (the summary on stdout, nothing on stderr)" \
    eval '[ -z "$ERR" ] && grep -q "^gather-sleep  model threads .*(done)$" <<<"$OUT"'

# --repeat / --for: the same run again in this process; the summary printed is the last run's
run_cv 0 run gather-sleep --set sleeps_ms=20,10 --repeat 5 --json &&
    check "--repeat 5: five runs, one summary" test "$(printf '%s\n' "$ERR")" = \
    "concviz: 5 runs of gather-sleep in $(printf '%s' "$ERR" | sed -n 's/.* in \([0-9.]*\) s$/\1/p') s" -a \
    "$(jqv .tasks.completed)" = 2
run_cv 0 run gather-sleep --set sleeps_ms=20,10 --for 1 --repeat 100000 &&
    check "--for 1 stops by itself" grep -Eq "^concviz: [0-9]+ runs? of gather-sleep in [0-9.]+ s$" "$TMP/err"
printf '[expect]\nnever = tasks.completed == 0\n' | cat "$TMP/fine.ini" - >"$TMP/never.ini"
run_cv 1 run "$TMP/never.ini" --repeat 5 --check --json &&
    check "--repeat stops at the first run that fails its check" grep -q "1 run of fine" "$TMP/err"
expect_usage "a sweep scenario needs --workers N" run pool-size --repeat 2
expect_usage "they do not go with --record" run counter-race --for 5 --record "$TMP/x.cvr"
expect_usage "they do not go with --script" run counter-race --repeat 2 --script "$TMP/x" --size 80x24

finish

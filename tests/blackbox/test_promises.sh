#!/usr/bin/env bash
# Promises of README.md, each run here: the --script example exactly as printed there; --ascii
# and NO_COLOR; `replay --json --check` exiting 1; --task-timeout under threads, epoll and
# hybrid; a recording's write error (before anything was written and mid-run, headless and in the
# live view: the run goes on, the summary, one line saying what the file holds, exit 3);
# "terminal too small ... the run goes on"; file-io not overlapping under epoll and serial;
# pool-size's cpu_flat; drops from a small --ring-size; the dead-worker instant of the Chrome
# trace; every key of the JSON summary listed in the README; the header's task counts; and a
# parameter value a scenario cannot take (file-io, offload=procs) being a usage error.
. "$(dirname "$0")/lib.sh"
README="$(cd "$(dirname "$0")/../.." && pwd)/README.md"
RUN_TIMEOUT=120

# script NAME STEPS...: writes a script file, one step per argument
script() {
    local f="$TMP/$1.script"; shift
    printf '%s\n' "$@" >"$f"
    echo "$f"
}
# one_line: stderr is exactly one line
one_line() { test -n "$ERR" -a "$(printf '%s\n' "$ERR" | wc -l)" = 1; }

# ---------------------------------------------------------------- the README's --script example
# the first code block after "**Scripted mode**", as printed (comments after the steps included)
awk '/^\*\*Scripted mode\*\*/ { on = 1 } on && /^```/ { if (n++) exit; next } on && n' "$README" \
    >"$TMP/readme.script"
check "README example: found, with a comment after a step" \
    grep -q '^key j j Enter  *# keys by name' "$TMP/readme.script"
mkdir "$TMP/ex"
cd "$TMP/ex"
run_cv 0 run counter-race --set iterations=300000 --no-color --script "$TMP/readme.script" \
    --size 120x40 &&
    check "README example: runs verbatim, exit 0, the screen in its snapshot, the summary after" \
        eval 'grep -q "lost_updates" out.txt && grep -q "^counter-race  model threads" <<<"$OUT"'
cd - >/dev/null
# a comment after a step is one; a '#' inside a word or text is not; the key '#' is Hash
s=$(script hash "wait text worker-1   # a comment" "expect worker-1 # not looked for" "key Hash # '#'" \
    "wait done" "snapshot $TMP/hash.txt # the screen" "key q #")
run_cv 0 run counter-race --set iterations=1000 --no-color --script "$s" --size 120x40 &&
    check "comments after steps, and the key Hash" grep -q "counter-race" "$TMP/hash.txt"
s=$(script inword "wait done" "expect lost#updates")
run_cv 1 run counter-race --set iterations=1000 --no-color --script "$s" --size 120x40 &&
    check "a '#' inside a text is looked for" grep -q "not on the screen: 'lost#updates'" <<<"$ERR"

# ---------------------------------------------------------------- --ascii and NO_COLOR
# the latest hand-over of a lock is an arrow, the help a box: glyphs outside ASCII in UTF-8,
# none with --ascii
for a in utf8 ascii; do
    flag=()
    [ $a = ascii ] && flag=(--ascii)
    s=$(script $a "wait done" "snapshot $TMP/$a.txt" "key ?" "snapshot $TMP/$a-help.txt" "key q" "key q")
    LC_ALL=C.UTF-8 run_cv 0 run counter-race --set iterations=100000 --set variant=mutex "${flag[@]}" \
        --no-color --script "$s" --size 120x40
done
check "UTF-8: the hand-over is an arrow (→), the help a box (─)" \
    eval 'grep -Eq "worker-[0-9]→worker-[0-9]" "$TMP/utf8.txt" && grep -q "─ help: keys" "$TMP/utf8-help.txt"'
check "--ascii: the hand-over is '->', the help's box '-'" \
    eval 'grep -Eq "worker-[0-9]->worker-[0-9]" "$TMP/ascii.txt" && grep -q -- "-- help: keys" "$TMP/ascii-help.txt"'
check "--ascii: every byte of both screens is ASCII" \
    test -s "$TMP/ascii-help.txt" -a "$(LC_ALL=C grep -c $'[\x80-\xff]' "$TMP/ascii.txt" "$TMP/ascii-help.txt" | grep -c ':0$')" = 2
# without colour the states are letters; with colour (the default) the cells are coloured, so
# no letters there
s=$(script nc "wait done" "snapshot $TMP/nc.txt" "key q")
NO_COLOR=1 run_cv 0 run gather-sleep --set sleeps_ms=300,100 --script "$s" --size 120x40
check "NO_COLOR: states drawn as letters" grep -qE "^worker-1 .*IIIII" "$TMP/nc.txt"
s=$(script col "wait done" "snapshot $TMP/col.txt" "key q")
NO_COLOR='' TERM=xterm-256color run_cv 0 run gather-sleep --set sleeps_ms=300,100 --script "$s" \
    --size 120x40
check "colour: the lane is drawn, with no letters" \
    test "$(grep -c "^worker-1 " "$TMP/col.txt")" = 1 -a "$(grep -cE "^worker-1 .*III" "$TMP/col.txt")" = 0

# ---------------------------------------------------------------- replay --json --check
cat >"$TMP/never.ini" <<'INI'
[scenario]
name = never
title = one expectation that cannot hold
lesson = none
workload = sleeps
models = serial

[params]
sleeps_ms = 10

[expect]
one_task = tasks.completed == 1
impossible = tasks.completed > 1000
INI
run_cv 0 run "$TMP/never.ini" --record "$TMP/never.cvr" --json &&
    check "a failed expectation without --check: exit 0" test "$(jqv '.expectations[1].ok')" = false
run_cv 1 replay "$TMP/never.cvr" --json --check &&
    check "replay --json --check: exit 1 on a failed expectation, the JSON still printed" \
        test "$(jqc '[.expectations[] | .ok]')" = "[true,false]"
run_cv 0 replay "$TMP/never.cvr" --json &&
    check "replay --json without --check: exit 0" test "$(jqc '[.expectations[] | .ok]')" = "[true,false]"
grep -v '^impossible' "$TMP/never.ini" >"$TMP/holds.ini"
run_cv 0 run "$TMP/holds.ini" --record "$TMP/holds.cvr" --json -q
run_cv 0 replay "$TMP/holds.cvr" --json --check &&
    check "replay --json --check: exit 0 when every expectation holds" \
        test "$(jqc '[.expectations[] | .ok]')" = "[true]"

# ---------------------------------------------------------------- --task-timeout
# two sleeps of 1 s and 0.6 s, a timeout of 0.1 s: threads run on to the end and are reported
# timed out; coroutines are cancelled at their wait, so the run ends early (bounds 9x apart)
cat >"$TMP/slow.ini" <<'INI'
[scenario]
name = slow
title = two slow sleeps
lesson = none
workload = sleeps
model = threads
models = threads epoll
workers = 2

[params]
sleeps_ms = 1000,600
INI
run_cv 0 run "$TMP/slow.ini" --model threads --task-timeout 0.1 --json &&
    check "threads, --task-timeout: both timed out, the threads ran on to the end ($(jqv .wall_s) s)" \
        test "$(jqv '.tasks.timed_out == 2 and .tasks.completed == 2 and .wall_s >= 0.95')" = true
run_cv 0 run "$TMP/slow.ini" --model epoll --task-timeout 0.1 --json &&
    check "epoll, --task-timeout: both timed out and cancelled at their wait ($(jqv .wall_s) s)" \
        test "$(jqv '.tasks.timed_out == 2 and .tasks.cancelled == 2 and .wall_s < 0.9')" = true
# hybrid, executor threads: the job runs on past the timeout, and its task waits for it; the job
# is 0.3 s of calibrated work, measured as 0.297 s once in CI, so the bound is 0.2 s (past 0.15)
run_cv 0 run hybrid-offload --model hybrid --set url=http://local/get --set fetchers=1 \
    --set rounds=1 --set work_ms=300 --set tickers=1 --set ticks=2 --task-timeout 0.15 --json &&
    check "hybrid, --task-timeout: the task timed out, its executor job ran on ($(jqv '[.lanes[] | select(.name | startswith("offload")) | .running_s] | add') s)" \
        test "$(jqv '.tasks.timed_out == 1 and .tasks.completed == 2 and
            ([.lanes[] | select(.name | startswith("offload")) | .running_s] | add) > 0.2')" = true

# ---------------------------------------------------------------- a recording's write error
# before anything was written (/dev/full): the run goes on, the summary, one line, exit 3
run_cv 3 run gather-sleep --set sleeps_ms=300,100 --record /dev/full --json &&
    check "/dev/full: the run went on to its end, summary printed" \
        test "$(jqv '.state == "done" and .tasks.completed == 2')" = true
check "/dev/full: one line saying what the file holds" test "$ERR" = \
    "concviz: recording /dev/full: No space left on device; the file holds none of the run (0 events)"
# mid-run: a file-size limit (SIGXFSZ is ignored by concviz itself); the run goes on to its end
set +e
(
    ulimit -f 200
    exec "$CONCVIZ" run counter-race --set variant=mutex --set iterations=300000 \
        --record "$TMP/mid.cvr" --json
) >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
OUT=$(cat "$TMP/out")
ERR=$(cat "$TMP/err")
check "mid-run write error: exit 3 ($rc)" test "$rc" = 3
check "mid-run write error: one line saying what the file holds" \
    grep -Eq "^concviz: recording .*mid.cvr: File too large; the file holds the run up to [0-9.]+ s \([1-9][0-9]* events\)$" <<<"$ERR"
check "mid-run write error: the run went on to its end (every task, every increment)" \
    test "$(jqv '.state == "done" and .tasks.completed == 4 and .results.counter_final == 1200000')" = true
held=$({ grep -oE '\(([0-9]+) events\)' <<<"$ERR" || true; } | tr -dc 0-9)
check "mid-run write error: the file holds fewer events (${held:-?}) than the run recorded ($(jqv .events.recorded))" \
    fcmp "${held:-0} > 0 && ${held:-0} < $(jqv .events.recorded)"
# the live view: the same line after the summary, exit 3; the message bar says it at the end
s=$(script recfull "wait done" "wait text none of the run 3s" "key q")
run_cv 3 run gather-sleep --set sleeps_ms=300,100 --record /dev/full --no-color --script "$s" \
    --size 120x40 && ok "live view, /dev/full: exit 3, the view showed the error"
check "live view, /dev/full: the summary printed" grep -q "^gather-sleep  model threads" <<<"$OUT"
check "live view, /dev/full: one line on stderr" test "$ERR" = \
    "concviz: recording /dev/full: No space left on device; the file holds none of the run (0 events)"
s=$(script recmid "wait done" "key q")
set +e
(
    ulimit -f 200
    exec "$CONCVIZ" run counter-race --set variant=mutex --set iterations=300000 --no-color \
        --record "$TMP/mid-ui.cvr" --script "$s" --size 120x40
) >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
check "live view, mid-run write error: exit 3 ($rc)" test "$rc" = 3
check "live view, mid-run write error: the summary, the run done" \
    grep -q "^counter-race  model threads .*done" "$TMP/out"
check "live view, mid-run write error: one line saying what the file holds" \
    grep -Eq "^concviz: recording .*mid-ui.cvr: File too large; the file holds the run up to [0-9.]+ s \([1-9][0-9]* events\)$" "$TMP/err"

# ---------------------------------------------------------------- terminal too small
# the screen made too small while the run is young; the run ends while it is small, and the
# view shows the whole run once it is big enough again
s=$(script small "wait text worker-2" "snapshot $TMP/big.txt" "resize 40x12" \
    "snapshot $TMP/small.txt" "wait done" "resize 120x40" "snapshot $TMP/again.txt" "key q")
run_cv 0 run gather-sleep --set sleeps_ms=1000,500 --no-color --script "$s" --size 120x40
check "too small: says so, and that the run goes on" \
    grep -q "now 40x12; the run goes on" "$TMP/small.txt"
check "too small: the run was running when the screen shrank" grep -q "GIL off  running" "$TMP/big.txt"
check "too small: the run went on to its end meanwhile" \
    grep -q "gather-sleep  threads x2  GIL off  done  .*tasks 2/2" "$TMP/again.txt"

# ---------------------------------------------------------------- file-io: no overlap without threads
for m in serial epoll; do
    run_cv 0 run file-io --model $m --set files=40 --set size_kb=64 --json --check || continue
    io=$(jqv '[.lanes[].io_s] | add')
    check "file-io, $m: the disk waits do not overlap (I/O $io s in $(jqv .wall_s) s)" \
        fcmp "$io > 0 && $io <= $(jqv .wall_s) * 1.02"
    check "file-io, $m: the overlap expectation does not apply" \
        test "$(jqv '[.expectations[].expr | select(test("io_s"))] | length')" = 0
done

# ---------------------------------------------------------------- pool-size's cpu_flat
# a timing expectation (16 workers no faster than 2 on two cores): up to three tries
if [ -n "$SANITIZER" ]; then
    skip "pool-size's cpu_flat: a speedup, not at the $SANITIZER sanitizer's speed"
else
    flat=""
    for _ in 1 2 3; do
        run_cv 0 run pool-size --set kind=cpu --set tasks=8 --set cpu_ms=40 --json || continue
        flat=$(jqc '[.expectations[] | select(.name == "cpu_flat") | .ok]')
        [ "$flat" = "[true]" ] && break
    done
    check "pool-size, kind=cpu: cpu_flat applies and holds ($flat)" test "$flat" = "[true]"
fi

# ---------------------------------------------------------------- drops from a small ring
run_cv 0 run counter-race --set variant=mutex --set iterations=200000 --ring-size 64 \
    --record "$TMP/drops.cvr" --json
drops=$(jqv .events.dropped)
lanes_drops=$(jqv '[.lanes[].dropped] | add')
check "--ring-size 64: events dropped ($drops), counted per lane too ($lanes_drops)" \
    fcmp "$drops > 0 && $lanes_drops == $drops"
run_cv 0 replay "$TMP/drops.cvr" --json &&
    check "... and the replay shows the same drops" eval 'test "$(jqv .events.dropped)" = "$drops" && fcmp "$drops > 0"'
run_cv 0 export "$TMP/drops.cvr" --format chrome -o "$TMP/drops.json" &&
    check "... marked as instants in the Chrome trace" \
        test "$(jq '[.traceEvents[] | select(.name == "events dropped" and .ph == "i")] | length > 0' "$TMP/drops.json")" = true

# ---------------------------------------------------------------- the dead-worker instant
"$CONCVIZ" run cpu-primes --model procs --set repeat=40 --export-chrome "$TMP/dead.json" --json \
    >"$TMP/dead.out" 2>"$TMP/dead.err" &
pid=$!
if child_named "$pid" cv:worker-1; then
    sleep 0.3
    signal_victim 9
fi
reap "$pid"
check "killed worker: exit 3 ($rc)" test "$rc" = 3
check "Chrome trace: a 'worker died' instant on worker-1's thread" test "$(jq '
    ([.traceEvents[] | select(.ph == "M" and .name == "thread_name" and .args.name == "worker-1")
      | [.pid, .tid]]) as $w
    | [.traceEvents[] | select(.name == "worker died" and .ph == "i") | [.pid, .tid]]
    | length == 1 and (.[0] as $d | $w | index([$d]) != null)' "$TMP/dead.json" 2>/dev/null)" = true

# ---------------------------------------------------------------- every JSON key in the README
# the key paths of real summaries (a lock under the GIL, a queue, an Event, a Condition, the
# killed worker's run above with a dead lane and an error), outside the scenario's own results and params, each found in
# the README's paragraph on the JSON summary, read with its nesting: `a` {`b`} and `a` [`b`]
# document a.b; text in parentheses is prose
for args in "counter-race --gil --set variant=mutex --set iterations=1000" \
    "pipeline --set items=5 --set consume_ms=2" "event-stop --set stop_after_ms=50" \
    "condition --set items=10"; do
    # shellcheck disable=SC2086 # the arguments are words
    "$CONCVIZ" run $args --json 2>/dev/null >>"$TMP/all.json" || true
done
jq -r 'del(.results, .params) | [paths | map(strings) | join(".")] | .[]' "$TMP/dead.out" \
    "$TMP/all.json" 2>/dev/null | sort -u >"$TMP/keys"
sed -n '/^### The JSON summary/,/^### Scenario/p' "$README" >"$TMP/json.md"
python3 - "$TMP/json.md" >"$TMP/documented" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
stack, last, depth = [], None, 0
for m in re.finditer(r"`([^`]+)`|[{}\[\]()]", text):
    t = m.group(0)
    if t in "()":
        depth += 1 if t == "(" else -1
    elif depth:
        continue
    elif t in "{[":
        stack.append(last)
    elif t in "}]":
        stack.pop()
    else:
        last = m.group(1)
        print(".".join(stack + [last]))
PY
missing=$(comm -23 "$TMP/keys" <(sort -u "$TMP/documented") | tr '\n' ' ')
check "JSON summary: $(wc -l <"$TMP/keys") key paths seen, each documented${missing:+ (missing: $missing)}" \
    test -z "$missing" -a "$(wc -l <"$TMP/keys")" -ge 60

# ---------------------------------------------------------------- the header's task counts
# a deadlock: no task completes; the header says so, the ones that ended otherwise apart
s=$(script dlh "wait done" "snapshot $TMP/dl.txt" "key q")
run_cv 0 run deadlock --no-color --script "$s" --size 120x40
run_cv 0 run deadlock --json
want=$(jqv '"tasks \(.tasks.completed)/\(.tasks.submitted) done" + (.tasks | [(select(.failed > 0)
    | ", \(.failed) failed"), (select(.cancelled > 0) | ", \(.cancelled) cancelled")] | add // "")')
check "deadlock: the header counts tasks as the summary does ($want)" \
    grep -q "DEADLOCKED  .*  $want  " "$TMP/dl.txt"

# ---------------------------------------------------------------- a value a scenario cannot take
run_cv 2 run file-io --model hybrid --set offload=procs --set files=10 &&
    check "file-io, offload=procs: a usage error in one line naming it" \
        eval 'one_line && grep -q "^concviz: offload=procs: scenario file-io" <<<"$ERR" && test -z "$OUT"'
finish

#!/usr/bin/env bash
# valgrind memcheck on a short headless run under every model (serial, threads, procs, openmp,
# epoll, hybrid with thread and with process offload), on replaying and exporting a recording, on
# the scripted terminal UI and on `concviz serve`. Forked processes (procs workers, executor
# processes, the embedded server's process) are checked too: every process writes a log of its
# own, and each log must show the leak check ran, no errors (invalid reads and writes, uses of
# uninitialised values, bad frees, bad syscall arguments) and no definite or indirect leaks.
# ("Possibly lost" blocks are not errors: a forked child holds the parent's threads' stacks
# that way.) tests/valgrind.supp, when present, holds suppressions for libraries.
# Parameters are small: the whole test takes about 25 s on two idle cores.
. "$(dirname "$0")/lib.sh"

# valgrind cannot run a binary built with a sanitizer (both replace the allocator)
not_under_sanitizer "valgrind on a sanitized binary"
if ! command -v valgrind >/dev/null; then
    bad "valgrind is not installed (make deps installs it)"
    finish
    exit 1
fi
SUPP="$(cd "$(dirname "$0")/.." && pwd)/valgrind.supp"
VG=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99 --trace-children=yes)
[ -f "$SUPP" ] && VG+=(--suppressions="$SUPP")
mkdir -p "$TMP/vg"

# verdict NAME MIN_PROCESSES: checks every log of case NAME
verdict() {
    local name=$1 min=$2 logs n=0 f errs=0
    logs=("$TMP/vg/$name".*.log)
    for f in "${logs[@]}"; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        if ! grep -q "HEAP SUMMARY" "$f"; then
            errs=$((errs + 1))
            echo "# $name: $(basename "$f") has no leak check (the process did not exit)"
        elif ! grep -q "ERROR SUMMARY: 0 errors" "$f" ||
            grep -Eq "(definitely|indirectly) lost: [1-9]" "$f"; then
            errs=$((errs + 1))
            echo "# $name: $(basename "$f"): $(grep -m1 'ERROR SUMMARY' "$f")"
            # the first reports (a grep that finds none must not end the test under set -e)
            { grep -E -A12 "^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Process terminating|[0-9,]+ .*bytes in .* (definitely|indirectly))" "$f" ||
                sed -n '1,40p' "$f"; } | grep -v '^==[0-9]*== *$' | head -40 | sed 's/^/#   /' || true
        fi
    done
    check "$name: $n process(es) checked (at least $min), none with errors or leaks" \
        test "$n" -ge "$min" -a "$errs" = 0
}

# vg_run NAME MIN_PROCESSES DID ARGS...: concviz ARGS under memcheck; it must exit 0 and have done
# its work (DID, a command evaluated after it, checks what it wrote): only the logs of a run that
# did its work are judged
vg_run() {
    local name=$1 min=$2 did=$3; shift 3
    local t0 rc
    t0=$(date +%s.%N)
    set +e
    timeout 120 "${VG[@]}" --log-file="$TMP/vg/$name.%p.log" "$CONCVIZ" "$@" \
        >"$TMP/vg/$name.out" 2>"$TMP/vg/$name.err" </dev/null
    rc=$?
    set -e
    echo "# $name: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
    if [ "$rc" = 0 ] && eval "$did"; then
        ok "$name: exit 0, its work done"
        verdict "$name" "$min"
    else
        bad "$name: exit $rc (99 is valgrind's error exit), or its work not done ($did); its logs are not judged"
        sed 's/^/#   /' "$TMP/vg/$name.err" | tail -5
    fi
}
# done_summary NAME: the run's JSON summary says done
done_summary() { [ "$(jqv .state "$TMP/vg/$1.out")" = done ]; }

# One short run per model. The counts are the processes that must leave a log: procs adds its
# workers, a run fetching from http://local adds the embedded server's process, and
# offload=procs adds its executor processes.
vg_run serial 1 "done_summary serial" run cpu-primes --model serial --set repeat=1 --headless --json --check
stop_if_all_failed "the first run under memcheck"
vg_run threads 1 "done_summary threads" run counter-race --model threads --set variant=mutex \
    --set iterations=2000 --headless --json --record "$TMP/race.cvr"
vg_run threads-http 2 "done_summary threads-http" run io-fetch --model threads --workers 2 \
    --set delays_ms=50,10,30,20 --set requests=4 --headless --json
vg_run procs 6 "done_summary procs" run pipeline --model procs --set items=20 --set consume_ms=5 \
    --headless --json
vg_run openmp 1 "done_summary openmp" run cpu-chunks --model openmp --set tasks=16 --set mean_ms=5 \
    --headless --json
vg_run epoll 2 "done_summary epoll" run io-fetch --model epoll --set delays_ms=50,10,30,20 \
    --set requests=4 --headless --json
vg_run hybrid 2 "done_summary hybrid" run hybrid-offload --model hybrid --set rounds=1 \
    --set work_ms=20 --headless --json
vg_run hybrid-procs 4 "done_summary hybrid-procs" run hybrid-offload --model hybrid --set rounds=1 \
    --set work_ms=20 --set offload=procs --headless --json

# The recording the threads run wrote: read back, exported.
vg_run replay 1 "done_summary replay" replay "$TMP/race.cvr" --json
vg_run export-svg 1 "grep -q '</svg>' '$TMP/race.svg'" \
    export "$TMP/race.cvr" --format svg -o "$TMP/race.svg"
vg_run export-chrome 1 "valid_trace '$TMP/race.json'" \
    export "$TMP/race.cvr" --format chrome -o "$TMP/race.json"

# The terminal UI (ncurses) on a virtual screen, driven by a script.
printf 'wait done\nkey Tab\nkey j\nkey Enter\nsnapshot %s\nkey q\n' "$TMP/screen.txt" >"$TMP/ui.script"
vg_run ui 1 "grep -q 'counter-race  threads x4' '$TMP/screen.txt'" \
    run counter-race --set variant=mutex --set iterations=2000 --script "$TMP/ui.script" --size 100x30

# The server in this process, with one request per endpoint (and a 404 and a 405).
t0=$(date +%s.%N)
"${VG[@]}" --log-file="$TMP/vg/serve.%p.log" "$CONCVIZ" serve --max-requests 8 --for 60 \
    >"$TMP/vg/serve.out" 2>"$TMP/vg/serve.err" &
pid=$!
for _ in $(seq 300); do
    [ -s "$TMP/vg/serve.out" ] && break
    alive $pid || break
    sleep 0.1
done
url=$(head -1 "$TMP/vg/serve.out")
codes=""
if [ -n "$url" ]; then
    for p in /get /bytes/100 /delay/20 /status/418 "/flaky/k?fail=1" "/flaky/k?fail=1" /nope; do
        codes="$codes $(curl -s -o /dev/null -m 20 -w '%{http_code}' "$url$p")"
    done
    codes="$codes $(curl -s -o /dev/null -m 20 -w '%{http_code}' -X POST "$url/get")"
fi
set +e
wait "$pid"
rc=$?
set -e
echo "# serve: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
if [ "$codes" = " 200 200 200 418 503 200 404 405" ] && [ "$rc" = 0 ]; then
    ok "serve under valgrind answers every endpoint ($codes), exit 0"
    verdict serve 1
else
    bad "serve under valgrind: answers '$codes', not ' 200 200 200 418 503 200 404 405', exit $rc (99 is valgrind's error exit); its logs are not judged"
fi
finish

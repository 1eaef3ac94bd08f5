#!/usr/bin/env bash
# concviz killed or crashing: its children (forked workers, hybrid's executor processes, the
# embedded server) die with it when it is killed with SIGKILL, and a crash signal while the live
# view is up leaves the terminal restored, prints what went to stderr meanwhile after it, and
# still ends the process by that signal.
. "$(dirname "$0")/lib.sh"

# descendants PID: every process below PID, children first
descendants() {
    local k
    for k in $(pgrep -P "$1" || true); do
        echo "$k"
        descendants "$k"
    done
}

# alive PID: the process exists and is not a zombie
alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null || true)
    [ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# survivors PID...: prints those of the PIDs still alive 5 s after (each checked every 0.1 s)
survivors() {
    local p n left
    for p in "$@"; do
        left=1
        for _ in $(seq 50); do
            alive "$p" || { left=0; break; }
            sleep 0.1
        done
        [ "$left" = 0 ] || echo "$p"
    done
}

# kill_parent LABEL WANTED... -- ARGS...: starts `concviz ARGS` headless, waits until it has a
# child of each WANTED name, collects every process below it, SIGKILLs it, and checks that none
# of them survives
kill_parent() {
    local label=$1; shift
    local want=()
    while [ "$1" != -- ]; do want+=("$1"); shift; done
    shift
    "$CONCVIZ" "$@" >/dev/null 2>"$TMP/kill.err" &
    local pid=$! name kids
    for name in "${want[@]}"; do
        child_named "$pid" "$name" || bad "$label: no child $name appeared"
    done
    kids=$(descendants "$pid" | tr '\n' ' ')
    check "$label: the run had its children ($kids)" \
        test "$(wc -w <<<"$kids")" -ge "${#want[@]}"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086 # a list of pids
    left=$(survivors $kids | tr '\n' ' ')
    names=""
    for p in $left; do names="$names $p:$(ps -o comm= -p "$p" 2>/dev/null || true)"; done
    check "$label: no child outlives concviz killed with SIGKILL${names:+ (left:$names)}" \
        test -z "$left" -a -n "$kids"
    # shellcheck disable=SC2086
    [ -z "$left" ] || kill -9 $left 2>/dev/null || true
}

# retry-backoff under procs: worker processes and the embedded server, each request stalled
# long enough that the run is in full swing when it is killed
kill_parent "procs and the server" cv:worker-1 cv:worker-2 cv:httpd -- \
    run retry-backoff --model procs --workers 2 --set fault=stall --headless
# hybrid with executor processes, and the server
kill_parent "hybrid's executor processes and the server" cv:offload-1 cv:offload-2 cv:httpd -- \
    run retry-backoff --model hybrid --set offload=procs --workers 2 --set fault=stall --headless

# ---- a crash signal while the live view is up (tmux) ----
# (not under a sanitizer: its runtime takes the signal over and reports it, as it should)
if [ -n "$SANITIZER" ]; then
    skip "a crash signal: the $SANITIZER sanitizer's runtime handles it"
    finish
    exit
fi
if ! command -v tmux >/dev/null; then
    bad "tmux is not installed (make test installs it)"
    finish
    exit
fi
SOCK="cvkill-$$"
T() { tmux -L "$SOCK" "$@"; }
trap 'tmux -L "cvkill-$$" kill-server 2>/dev/null || true; rm -rf "$TMP"' EXIT
AFTER="echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE 'echo|icanon|ixon' | sort | tr '\n' ' '; echo; sleep 60"
ARGS="run gather-sleep --set sleeps_ms=30000,20000"
T new-session -d -s cv -x 120 -y 40 -e LANG=C.UTF-8 -e TERM=tmux-256color \
    -e CONCVIZ_SCENARIOS="$CONCVIZ_SCENARIOS" "ulimit -c 0; $CONCVIZ $ARGS; $AFTER"
T pipe-pane -o -t cv "cat >>$TMP/raw" # every byte the pane receives, escapes included
if wait_for "gather-sleep"; then
    ok "crash: the live view is up"
    pid=$(pgrep -f -n -- "$CONCVIZ $ARGS" || true)
    # something written to concviz's stderr while the view is up: it is held until the view
    # closes (appended, so it lands after anything concviz wrote there itself)
    [ -n "$pid" ] && printf 'a line on stderr while the view was up\n' >>"/proc/$pid/fd/2"
    sleep 0.3
    check "crash: the line was held back while the view was up" \
        test "$(grep -c "a line on stderr" "$TMP/raw" 2>/dev/null || true)" = 0
    [ -n "$pid" ] && kill -SEGV "$pid"
    check "crash: the process ends by the signal (SIGSEGV, 139)" wait_for "EXIT=139"
    check "crash: the alternate screen is left" test "$(T display -p -t cv '#{alternate_on}')" = 0
    check "crash: the terminal is sane (echo, icanon, ixon)" wait_for "^echo icanon ixon"
    check "crash: the line on stderr is shown" wait_for "a line on stderr while the view was up"
    # in the raw output, the line comes after the view left the alternate screen (\e[?1049l)
    check "crash: ... after the terminal was restored" python3 - "$TMP/raw" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
leave, line = raw.rfind(b"\x1b[?1049l"), raw.find(b"a line on stderr while")
sys.exit(0 if 0 <= leave < line else 1)
PY
else
    bad "crash: the live view did not come up"
fi
finish

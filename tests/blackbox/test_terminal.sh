#!/usr/bin/env bash
# The terminal as a source of faults. Flow control (Ctrl-S) and a terminal nobody reads must
# delay frames, never lose events: the run drains on a thread of its own, and the recording has
# every event and every task. A hang-up (SIGHUP: a closed terminal window or ssh session) is
# treated as SIGTERM by the live view, the picker, replay, headless runs and serve: exit 130 (serve
# 0), the terminal back (no alternate screen, echo, icanon, flow control) and the recording
# closed. A paused view keeps its own copy of the texts it shows.
. "$(dirname "$0")/lib.sh"
PTY_RUN="$(cd "$(dirname "$0")" && pwd)/pty_run.py"

# A run of ~8 M events (2 M per worker, 4 s here; more under a sanitizer, which therefore runs a
# third of it). The rings hold a million events per lane, about 2 s of this run's events, so a
# host too busy to schedule the drain for a moment does not decide a test; a drain that stops
# while the terminal is blocked (4 s or more) still loses events.
ITER=1000000
[ -n "$SANITIZER" ] && ITER=300000
RACE=(counter-race --set variant=mutex --set "iterations=$ITER" --ring-size 1048576)

# complete LABEL FILE: the recording is whole, the run done, every task completed, no drop
complete() {
    run_cv 0 replay "$2" --json || return 0
    check "$1: the recording is complete and the run done" test "$(jqv .state)" = done
    check "$1: every task completed" \
        test "$(jqv '.tasks.submitted > 0 and .tasks.completed == .tasks.submitted')" = true
    check "$1: no event dropped" test "$(jqv .events.dropped)" = 0
}

# stopped LABEL FILE: a run stopped by a signal; its recording closed properly (not cut short)
stopped() {
    run_cv 0 replay "$2" --json || return 0
    check "$1: the recording is complete (footer and all) and says stopped" \
        test "$(jqv .state)" = stopped
}

# ---- a terminal nobody reads (a pty whose other end is never read) ----
# The view's writes block once the pty's buffer is full; meanwhile the run must go on being
# drained and recorded to its end. The terminal is read again only after the recording says
# the run is done.
rm -f "$TMP/release"
python3 "$PTY_RUN" block "$TMP/release" -- "$CONCVIZ" run "${RACE[@]}" --record "$TMP/pty.cvr" \
    >"$TMP/pty.out" 2>&1 &
ppid=$!
state=""
for _ in $(seq 240); do # up to 120 s, while the run goes on
    sleep 0.5
    state=$("$CONCVIZ" replay "$TMP/pty.cvr" --json -q 2>/dev/null | jq -r .state 2>/dev/null) ||
        true
    [ "$state" = done ] && break
    alive $ppid || break
done
check "unread terminal: the run ends and its recording closes while nobody reads" \
    test "$state" = done
touch "$TMP/release"
reap $ppid
check "unread terminal: it really was not read (bytes waiting in the pty)" \
    fcmp "$(awk '$1 == "unread" {print $2}' "$TMP/pty.out") >= 1024"
check "unread terminal: read again, q exits 0 (not ended before)" \
    eval 'grep -qx "exit 0" "$TMP/pty.out" && ! grep -q "ended before the release" "$TMP/pty.out"'
complete "unread terminal" "$TMP/pty.cvr"
stop_if_all_failed "the unread terminal"

# ---- a hang-up: the terminal closed under a live recorded run ----
python3 "$PTY_RUN" hangup worker-2 -- "$CONCVIZ" run gather-sleep --set sleeps_ms=30000,20000 \
    --record "$TMP/hup-pty.cvr" >"$TMP/hup-pty.out" 2>&1
check "hang-up of the live view's terminal: exit 130" grep -qx "exit 130" "$TMP/hup-pty.out"
stopped "hang-up of the live view's terminal" "$TMP/hup-pty.cvr"

# ---- SIGHUP to a headless recorded run: as SIGTERM ----
"$CONCVIZ" run gather-sleep --set sleeps_ms=30000,20000 --headless --json \
    --record "$TMP/hup-headless.cvr" >"$TMP/hup-headless.json" 2>"$TMP/hup-headless.err" &
pid=$!
# its handlers are in place before the run's threads start (main, driver, two workers)
for _ in $(seq 100); do
    [ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -ge 4 ] && break
    alive $pid || break
    sleep 0.1
done
kill -HUP $pid 2>/dev/null || true
reap $pid
check "SIGHUP, headless: exit 130, stopped at once (${took}s)" eval '[ "$rc" = 130 ] && fcmp "$took < 10"'
check "SIGHUP, headless: the summary says stopped" \
    test "$(jq -r .state "$TMP/hup-headless.json" 2>/dev/null)" = stopped
stopped "SIGHUP, headless" "$TMP/hup-headless.cvr"

# ---- SIGHUP to serve: as SIGTERM and Ctrl-C (it stops, says what it served, exit 0) ----
"$CONCVIZ" serve --for 60 >"$TMP/serve.url" 2>"$TMP/serve.err" &
pid=$!
url_of "$TMP/serve.url" $pid >/dev/null
kill -HUP $pid 2>/dev/null || true
reap $pid
check "SIGHUP, serve: exit 0 at once, saying what it served" \
    eval '[ "$rc" = 0 ] && grep -q "stopped after 0 requests" "$TMP/serve.err"'

# ---- a paused view keeps its own texts ----
# io-fetch under serial fetches eight URLs one after another on `main`; each new one may move the
# collector's array of texts. Paused with a lane's details open ("fetching URL", a text of the
# frozen copy) while the next URLs start: the copy must not point into the moved array (under
# ASan the old code read freed memory here).
printf '%s\n' "wait text main " "wait 200ms" "key space" "key Enter" "wait text fetching http 3s" \
    "wait 3s" "snapshot $TMP/paused.txt" "key Escape" "key space" "wait done" "key q" \
    >"$TMP/paused.script"
run_cv 0 run io-fetch --model serial --no-color --script "$TMP/paused.script" --size 120x40
check "paused view: the lane's details still name the URL" \
    grep -Eq "fetching http://127\.0\.0\.1:[0-9]+/delay/[0-9]+" "$TMP/paused.txt"

# ---- the real binary in tmux ----
if ! command -v tmux >/dev/null; then
    bad "tmux is not installed (make test installs it)"
    finish
    exit
fi
SOCK=""
T() { tmux -L "$SOCK" "$@"; }
trap 'for s in cvterm1 cvterm2 cvterm3 cvterm4 cvterm5; do tmux -L "$s-$$" kill-server 2>/dev/null || true; done
      rm -rf "$TMP"' EXIT
AFTER="echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE 'echo|icanon|ixon' | sort | tr '\n' ' '; echo; sleep 60"
# pane NAME COMMAND: a fresh tmux server (one per case: a new session right after kill-server on
# the same socket can race its exit) running COMMAND, then the exit code and the terminal modes
pane() {
    SOCK="$1-$$"
    T new-session -d -s cv -x 120 -y 40 -e LANG=C.UTF-8 -e TERM=tmux-256color \
        -e CONCVIZ_SCENARIOS="$CONCVIZ_SCENARIOS" "$2; $AFTER"
}
alt_screen() { T display -p -t cv '#{alternate_on}'; }
header() { screen | head -1; }

# Ctrl-S (XOFF) for 4 s during a recorded run, then Ctrl-Q: flow control is off while the view
# owns the terminal, so the view goes on drawing; every event and task is recorded
# (each case goes on only once its view is up: the seconds of Ctrl-S are not waited out for a
# view that never came)
pane cvterm1 "$CONCVIZ run ${RACE[*]} --record $TMP/cs.cvr"
if wait_for "worker-4"; then
    ok "Ctrl-S: the live view is up"
    T send-keys -t cv C-s
    sleep 0.5
    h1=$(header)
    sleep 3.5
    h2=$(header)
    T send-keys -t cv C-q
    check "Ctrl-S: the view went on drawing (flow control is off)" test "$h1" != "$h2"
    check "Ctrl-S: the run ends" wait_for "threads x4  GIL off  done" 1200
    T send-keys -t cv q
    check "Ctrl-S: q exits 0" wait_for "EXIT=0"
    check "Ctrl-S: the terminal's modes are back, flow control included" wait_for "^echo icanon ixon"
    T kill-server 2>/dev/null || true
    complete "Ctrl-S in the live view" "$TMP/cs.cvr"
else
    bad "Ctrl-S: the live view is not up"
    T kill-server 2>/dev/null || true
fi

# Ctrl-S during a headless run whose progress line goes to the terminal: the terminal stops,
# the drain does not
pane cvterm2 "$CONCVIZ run ${RACE[*]} --headless --record $TMP/cs-headless.cvr >/dev/null"
if wait_for "tasks [0-9]+/4"; then
    ok "Ctrl-S, headless: the progress line is up"
    T send-keys -t cv C-s
    sleep 4
    T send-keys -t cv C-q
    check "Ctrl-S, headless: exits 0" wait_for "EXIT=0" 1200
    T kill-server 2>/dev/null || true
    complete "Ctrl-S in a headless run" "$TMP/cs-headless.cvr"
else
    bad "Ctrl-S, headless: the progress line is not up"
    T kill-server 2>/dev/null || true
fi

# hup_pane LABEL SOCKET COMMAND PATTERN READY: SIGHUP to the process matching PATTERN once the
# pane shows READY; exit 130, the main screen back, the terminal sane
hup_pane() {
    pane "$2" "$3"
    if ! wait_for "$5"; then
        bad "SIGHUP, $1: not up"
        T kill-server 2>/dev/null || true
        return 0
    fi
    ok "SIGHUP, $1: up"
    local pid
    pid=$(pgrep -f -n -- "$4" || true)
    [ -n "$pid" ] && kill -HUP "$pid"
    check "SIGHUP, $1: exit 130" wait_for "EXIT=130"
    check "SIGHUP, $1: the alternate screen is left" test "$(alt_screen)" = 0
    check "SIGHUP, $1: the terminal is sane (echo, icanon, ixon)" wait_for "^echo icanon ixon"
    T kill-server 2>/dev/null || true
}
hup_pane "live view" cvterm3 \
    "$CONCVIZ run gather-sleep --set sleeps_ms=30000,20000 --record $TMP/hup-tmux.cvr" \
    "run gather-sleep --set sleeps_ms=30000,20000 --record $TMP/hup-tmux.cvr" "gather-sleep"
stopped "SIGHUP, live view" "$TMP/hup-tmux.cvr"
hup_pane "picker" cvterm4 "$CONCVIZ --no-color" "$CONCVIZ --no-color" "pick a scenario"
run_cv 0 run gather-sleep --set sleeps_ms=200 --headless --record "$TMP/short.cvr"
hup_pane "replay" cvterm5 "$CONCVIZ replay $TMP/short.cvr --paused" \
    "replay $TMP/short.cvr --paused" "paused 1x"
finish

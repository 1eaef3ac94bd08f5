#!/usr/bin/env bash
# Faults in hybrid's executor of processes (offload = procs) get the procs pool's watchdog: a
# stopped executor process is shown stalled and ended by --task-timeout, Ctrl-C and SIGTERM end
# the run at once even with one stopped, a killed one fails its task in one line. Ctrl-C ends a
# run of many small file tasks promptly under epoll and hybrid. Short --task-timeout values are
# honoured by every model.
. "$(dirname "$0")/lib.sh"

no_children_of() { ! pgrep -P "$1" >/dev/null; }
stopped_of() { ps -o stat=,comm= --ppid "$1" | awk '$1 ~ /^T/ { print $2 }'; }
# rescue S: continues $victim after S seconds, so that a run that waits for it does not hang the
# test (its checks fail instead); unrescue cancels that
rescue() {
    (sleep "$1" && kill -CONT "$victim" 2>/dev/null) &
    rescuer=$!
}
unrescue() { kill "$rescuer" 2>/dev/null || true; }

# the offload scenario, small: 4 fetchers, each fetch followed by 50 ms of work sent to one of
# 2 executor processes; tickers short enough never to reach a task timeout
HY=(run hybrid-offload --model hybrid --set offload=procs --set work_ms=50 --set ticks=10)

# a stopped executor process under --task-timeout 2: shown stalled, killed when its work has run
# 2 s, one line naming it, its pid and the task, exit 3 well within a minute (without the
# watchdog the run waits for it forever), nothing left
set +e
"$CONCVIZ" "${HY[@]}" --set rounds=5 --task-timeout 2 --json >"$TMP/st.json" 2>"$TMP/st.err" &
pid=$!
set -e
child_named $pid cv:offload-1
sleep 0.2
signal_victim STOP
rescue 40
reap $pid
unrescue
line="offload-1 \(pid $victim\) stalled \(the process was stopped\): work for task [0-9]+ timed out after 2 s; killed the worker \(SIGKILL\)"
check "stopped executor, timeout: exit 3 (${took}s)" test "$rc" = 3
check "stopped executor, timeout: ends within 30 s" fcmp "$took < 30"
check "stopped executor, timeout: one clear line" grep -Eqx "concviz: run failed: $line" "$TMP/st.err"
check "stopped executor, timeout: nothing else on stderr" test "$(wc -l <"$TMP/st.err")" = 1
OUT=$(cat "$TMP/st.json")
check "stopped executor, timeout: json failed, the line in errors" \
    test "$(jqv .state)" = failed -a -n "$(jqv '.errors[0]' | grep -Ex "$line")"
check "stopped executor, timeout: its lane was stalled, then dead" \
    test "$(jqc '[.lanes[] | select(.stalled_s > 0 and has("dead_s")) | .name]')" = '["offload-1"]'
check "stopped executor, timeout: a task timed out and was cancelled, none failed" \
    test "$(jqc '[.tasks.timed_out >= 1, .tasks.cancelled >= 1, .tasks.failed]')" = "[true,true,0]"
check "stopped executor, timeout: no process left" no_children_of $pid

# Ctrl-C and SIGTERM with a stopped executor process: the run ends at once (the stopped process
# cannot stop by itself, so it is killed), exit 130, interrupted and not failed, nothing left
for sig in INT TERM; do
    set +e
    "$CONCVIZ" "${HY[@]}" --set rounds=50 --json >"$TMP/sig.json" 2>"$TMP/sig.err" &
    pid=$!
    set -e
    child_named $pid cv:offload-1
    sleep 0.2
    signal_victim STOP
    sleep 0.5
    check "SIG$sig, stopped executor: it is stopped" test "$(stopped_of $pid)" = cv:offload-1
    rescue 10
    kill -$sig $pid
    reap $pid
    unrescue
    check "SIG$sig, stopped executor: exit 130" test "$rc" = 130
    check "SIG$sig, stopped executor: ends within 3 s (${took}s)" fcmp "$took < 3"
    check "SIG$sig, stopped executor: interrupted, nothing else" \
        grep -qx "concviz: interrupted; the summary covers the run so far" "$TMP/sig.err"
    check "SIG$sig, stopped executor: one line on stderr" test "$(wc -l <"$TMP/sig.err")" = 1
    OUT=$(cat "$TMP/sig.json")
    check "SIG$sig, stopped executor: state stopped, its lane shown stalled" \
        test "$(jqc '[.state, [.lanes[] | select(.stalled_s > 0) | .name]]')" = '["stopped",["offload-1"]]'
    check "SIG$sig, stopped executor: no process left" no_children_of $pid
done

# an executor process killed mid-run: one line naming it, its pid and the task its work was for,
# that task failed, exit 3, nothing left
set +e
"$CONCVIZ" "${HY[@]}" --set rounds=50 --json >"$TMP/k.json" 2>"$TMP/k.err" &
pid=$!
set -e
child_named $pid cv:offload-2
sleep 0.5
signal_victim KILL
reap $pid
check "killed executor: exit 3" test "$rc" = 3
check "killed executor: ends within 5 s (${took}s)" fcmp "$took < 5"
check "killed executor: one clear line" grep -Eqx \
    "concviz: run failed: offload-2 \(pid $victim\) was killed by signal 9 \(SIGKILL\)( while running work for task [0-9]+)?" \
    "$TMP/k.err"
OUT=$(cat "$TMP/k.json")
check "killed executor: its lane is dead" test "$(jqc '[.lanes[] | select(has("dead_s")) | .name]')" = '["offload-2"]'
if grep -q "while running work" "$TMP/k.err"; then
    check "killed executor: the task it worked for failed" test "$(jqv .tasks.failed)" = 1
fi
check "killed executor: no process left" no_children_of $pid

# the same under on_worker_death = continue: a warning, the other executor process does the rest
sed -e 's/^workers = 2$/workers = 2\non_worker_death = continue/' \
    "$CONCVIZ_SCENARIO_DIR/hybrid-offload.ini" >"$TMP/survive.ini"
set +e
"$CONCVIZ" run "$TMP/survive.ini" --model hybrid --set offload=procs --set work_ms=50 \
    --set ticks=10 --set rounds=10 --json >"$TMP/sv.json" 2>"$TMP/sv.err" &
pid=$!
set -e
child_named $pid cv:offload-2
sleep 0.5
signal_victim KILL
reap $pid
OUT=$(cat "$TMP/sv.json")
check "killed executor, continue: exit 0, done" test "$rc" = 0 -a "$(jqv .state)" = done
check "killed executor, continue: a warning" grep -Eq \
    "^concviz: warning: offload-2 \(pid $victim\) was killed by signal 9 \(SIGKILL\).* \(the run went on\)$" "$TMP/sv.err"
check "killed executor, continue: at most one task failed, every other completed" \
    test "$(jqc '[.tasks.failed <= 1, .tasks.failed + .tasks.completed == .tasks.submitted]')" = "[true,true]"

# Ctrl-C during many small file tasks: ends promptly with far fewer than all done, under epoll
# (the file I/O runs on the loop) and hybrid (on the executor threads). It is sent once some
# files exist, so a fast disk cannot finish them all first. A sanitized build pays for every
# coroutine's lane when the run is made and summed up: fewer files there.
nf=5000
[ -n "$SANITIZER" ] && nf=1000
for model in epoll hybrid; do
    mkdir -p "$TMP/files-$model"
    set +e
    TMPDIR=$TMP/files-$model "$CONCVIZ" run file-io --model $model --set files=$nf \
        --set size_kb=8 --json >"$TMP/fio.json" 2>"$TMP/fio.err" &
    pid=$!
    set -e
    for _ in $(seq 200); do
        [ "$(find "$TMP/files-$model" -type f 2>/dev/null | head -50 | wc -l)" -ge 50 ] && break
        sleep 0.05
    done
    kill -INT $pid
    reap $pid
    OUT=$(cat "$TMP/fio.json")
    check "file-io $model, Ctrl-C: exit 130" test "$rc" = 130
    check "file-io $model, Ctrl-C: ends within 3 s (${took}s)" fcmp "$took < 3"
    check "file-io $model, Ctrl-C: far fewer than all done ($(jqv .tasks.completed) of $nf)" \
        fcmp "$(jqv .tasks.completed) < $nf / 2"
    check "file-io $model, Ctrl-C: the rest cancelled" \
        test "$(jqv '.tasks.completed + .tasks.cancelled + .tasks.failed')" = $nf
    check "file-io $model, Ctrl-C: the files are removed" test -z "$(ls -A "$TMP/files-$model")"
done

# a short --task-timeout is honoured to the millisecond: two tasks that sleep 40 ms with a 10 ms
# timeout time out in every run, under procs (the worker is killed) and under threads and epoll
cat >"$TMP/short.ini" <<'INI'
[scenario]
name = short
title = two short sleeps
lesson = none
workload = sleeps
model = procs
models = threads procs epoll
workers = 2

[params]
sleeps_ms = 40,40
INI
runs=0
for _ in 1 2 3 4 5; do
    run_cv 3 run "$TMP/short.ini" --model procs --task-timeout 0.01 --json || continue
    if [ "$(jqv .tasks.timed_out)" -ge 1 ] &&
        grep -Eq "^concviz: run failed: worker-[12] \(pid [0-9]+\) overran: task [01] timed out after 10 ms; killed the worker \(SIGKILL\)$" <<<"$ERR"; then
        runs=$((runs + 1))
    fi
done
check "procs, --task-timeout 0.01: timed out in $runs of 5 runs" test "$runs" = 5
for model in threads epoll; do
    runs=0
    for _ in 1 2 3; do
        run_cv 0 run "$TMP/short.ini" --model $model --task-timeout 0.01 --json || continue
        [ "$(jqv .tasks.timed_out)" = 2 ] && runs=$((runs + 1))
    done
    check "$model, --task-timeout 0.01: both timed out in $runs of 3 runs" test "$runs" = 3
done
finish

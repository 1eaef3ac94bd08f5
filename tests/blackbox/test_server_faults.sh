#!/usr/bin/env bash
# Faults of the embedded server itself: its process killed in the middle of a run (a runtime
# error naming it, exit 3, under every model that fetches, not a pile of network faults), a
# signal to the run's process group (the run's to handle: exit 130); /bytes/N under 40 slow
# clients (memory does not grow with N); keep-alive and pipelined requests; /status/1xx refused;
# UTF-8 keys; and `serve` out of descriptors or threads saying what failed.
. "$(dirname "$0")/lib.sh"

HANG=60 # seconds: a run taking longer is hung

# wait_child PID NAME: waits (10 s, while PID runs) for PID's child process named NAME; prints
# its pid
wait_child() {
    local c=""
    for _ in $(seq 200); do
        c=$(pgrep -P "$1" -x "$2" || true)
        [ -n "$c" ] && break
        alive "$1" || break
        sleep 0.05
    done
    printf '%s' "$c"
}

# bare LIMITS ARGS...: runs concviz under the ulimit options LIMITS (e.g. "-n 5") with only stdin,
# stdout and stderr open (whatever else the test's runner left open would count against -n)
bare() {
    local limits=$1
    shift
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
        done
        # shellcheck disable=SC2086
        ulimit $limits && exec "$CONCVIZ" "$@"
    )
}

# ---- the server killed mid-run ----
# Requests of 2 s each, the server killed (SIGKILL) while they wait: one line naming the server,
# its pid and the signal; exit 3; the summary is still printed, and no request counts as a reset.
# The retries are many and slow (500 ms doubling, 8 of them: two minutes), so only the run
# stopping at the server's death ends it within seconds.
models=$("$CONCVIZ" show retry-backoff | sed -n 's/^  models *//p')
check "retry-backoff runs under every model that fetches" test "$models" = "serial threads procs epoll hybrid"
stop_if_all_failed "concviz show retry-backoff"
for m in $models; do
    "$CONCVIZ" run retry-backoff --model "$m" --set url=http://local/delay/2000 --set requests=4 \
        --set request_timeout_ms=20000 --set total=8 --set backoff_ms=500 --json >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    srv=$(wait_child $pid cv:httpd)
    sleep 0.3 # the requests are sent and wait for their answers
    kids=$(pgrep -P $pid | tr '\n' ' ')
    [ -n "$srv" ] && kill -KILL "$srv"
    reap $pid
    OUT=$(cat "$TMP/out")
    check "$m: the run's server was found and killed" test -n "$srv"
    check "$m: a dead server fails the run: exit 3 ($rc)" test "$rc" = 3
    check "$m: and stops the run at once (${took}s)" fcmp "$took < 10"
    check "$m: one line on stderr" test "$(wc -l <"$TMP/err")" = 1
    check "$m: naming the server, its pid and the signal" grep -qx \
        "concviz: run failed: the embedded HTTP server cv:httpd (pid $srv) was killed by signal 9 (SIGKILL); the requests to it after that failed" "$TMP/err"
    check "$m: the summary is still printed, the run failed" test "$(jqv .state)" = failed
    check "$m: the server is the first error" grep -q "cv:httpd (pid $srv)" <(jqv '.errors[0]')
    check "$m: no request counted as a reset, a timeout or a server error" \
        test "$(jqc '[.results.resets, .results.timeouts, .results.server_errors, .results.succeeded]')" = "[0,0,0,0]"
    check "$m: no process left ($kids)" bash -c "for k in $kids; do ! kill -0 \$k 2>/dev/null || exit 1; done"
done

# the fetch workload too (io-vs-sequential): its 20 requests are not 20 resets
"$CONCVIZ" run io-vs-sequential --model threads --set delays_ms=3000 --json >"$TMP/out" 2>"$TMP/err" &
pid=$!
srv=$(wait_child $pid cv:httpd)
sleep 0.3
[ -n "$srv" ] && kill -KILL "$srv"
reap $pid
OUT=$(cat "$TMP/out")
check "fetch: exit 3 ($rc)" test "$rc" = 3
check "fetch: one line naming the server" grep -qx "concviz: run failed: the embedded HTTP server cv:httpd (pid $srv) was killed by signal 9 (SIGKILL); the requests to it after that failed" "$TMP/err"
check "fetch: no resets, no timeouts ($(jqc '[.results.resets, .results.timeouts]'))" \
    test "$(jqc '[.results.resets, .results.timeouts]')" = "[0,0]"
check "fetch: the errors say why" test "$(jqv '.errors | length')" -ge 1

# a signal to the run's whole process group (as `timeout` and a terminal send them) is the run's
# to handle: the server is in a group of its own, so the run stops it, and exits 130
setsid "$CONCVIZ" run io-vs-sequential --model epoll --set delays_ms=3000 --json >"$TMP/out" 2>"$TMP/err" &
pid=$!
srv=$(wait_child $pid cv:httpd)
sleep 0.3
kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
reap $pid
check "SIGTERM to the run's group: exit 130, not a dead server ($rc), the server not blamed" \
    eval '[ "$rc" = 130 ] && ! grep -q "HTTP server" "$TMP/err"'
check "SIGTERM to the run's group: the server (${srv:-none found}) is gone with the run" \
    eval '[ -n "$srv" ] && ! kill -0 "$srv" 2>/dev/null'

# ---- concviz serve ----
"$CONCVIZ" serve --for $HANG >"$TMP/url" 2>/dev/null &
spid=$!
url=$(url_of "$TMP/url" $spid)
port=${url##*:}
if [ -z "$url" ]; then
    bad "serve printed no URL: nothing to check against"
    port=0
else
    # /bytes/N is made as it is sent: 40 clients of 16 MiB reading 1 MB/s for 6 s hold a block
    # each, not 16 MiB (the server once held every body whole: up to 640 MB for these). Sampled
    # every 0.2 s until the last client leaves.
    rss() { awk '/^VmRSS/ { print $2 }' "/proc/$spid/status"; }
    before=$(rss)
    pids=()
    for _ in $(seq 40); do
        curl -s --limit-rate 1M -m 6 -o /dev/null "$url/bytes/16777216" &
        pids+=($!)
    done
    peak=$before
    while kill -0 "${pids[@]}" 2>/dev/null || pgrep -P $$ -x curl >/dev/null; do
        sleep 0.2
        r=$(rss)
        [ "$r" -gt "$peak" ] && peak=$r
    done
    wait "${pids[@]}" 2>/dev/null || true
    sleep 0.3
    after=$(rss)
    echo "# serve RSS: ${before} kB before, ${peak} kB at most under 40 slow clients of /bytes/16777216, ${after} kB after"
    check "/bytes: 40 slow clients of 16 MiB add under 100 MB ($(((peak - before) / 1024)) MB)" test $((peak - before)) -lt 102400
    check "/bytes: less than one body (16 MiB) stays after they left ($(((after - before) / 1024)) MB)" test $((after - before)) -lt 16384
    pattern=$(awk 'BEGIN { for (i = 0; i < 100000; i++) printf "%c", 97 + i % 26 }')
    check "/bytes/100000: the alphabet over and over, as before" test "$(curl -s "$url/bytes/100000")" = "$pattern"
    check "/bytes/0: empty" test "$(curl -s -w '%{http_code}:%{size_download}' -o /dev/null "$url/bytes/0")" = "200:0"

    # keep-alive: several URLs in one curl reuse its connection
    curl -sv -o /dev/null -o /dev/null -o /dev/null "$url/get" "$url/delay/10" "$url/bytes/100" 2>"$TMP/curl.err" || true
    check "keep-alive: 3 requests, 1 connection" test "$(grep -c 'Re-using existing connection' "$TMP/curl.err"):$(grep -c '^< HTTP/1.1 200' "$TMP/curl.err")" = "2:3"
    check "keep-alive: no reply says Connection: close" bash -c "! grep -qi '^< Connection: close' '$TMP/curl.err'"
    # a flaky reply closes on purpose: the key's next request (which may be a reset) on a fresh
    # connection
    curl -sv -o /dev/null -o /dev/null "$url/flaky/k1?fail=1" "$url/flaky/k1?fail=1" 2>"$TMP/curl.err" || true
    check "flaky replies close the connection" test "$(grep -ci '^< Connection: close' "$TMP/curl.err"):$(grep -c 'Re-using' "$TMP/curl.err")" = "2:0"

    # pipelining: five requests in one write, every one answered, in order
    # (in a subshell: a server that closes early makes the write fail with SIGPIPE)
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf 'GET /get HTTP/1.1\r\nHost: x\r\n\r\nGET /delay/50 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /status/404 HTTP/1.1\r\nHost: x\r\n\r\nGET /get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
        timeout 10 cat <&3
    ) | tr -d '\r' >"$TMP/pipe" || true
    check "pipelined: 5 answers in order" test "$(grep -o 'HTTP/1.1 [0-9]*' "$TMP/pipe" | tr '\n' ' ')" = "HTTP/1.1 200 HTTP/1.1 200 HTTP/1.1 200 HTTP/1.1 404 HTTP/1.1 200 "
    check "pipelined: the bodies in order" test "$(grep -Eo '\{[^}]*\}|abcde' "$TMP/pipe" | tr '\n' ' ')" = '{"url": "/get"} {"delay_ms": 50} abcde {"status": 404} {"url": "/get"} '

    # /status/1xx is not a final answer: refused
    for c in 100 150 199; do
        check "/status/$c: 400" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/status/$c")" = 400
    done
    check "/status/200: 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/status/200")" = 200
    check "/status/150: says why" grep -q "takes 200 to 599" <(curl -s "$url/status/150")
    # messages spell their numbers plainly (once "60000u ms")
    check "/stall/x: 0 to 60000 ms" test "$(curl -s "$url/stall/x")" = '{"error": "/stall/MS takes 0 to 60000 ms"}'
    check "no message has a C suffix" bash -c "! curl -s '$url/flaky/k?fail=x' '$url/delay/x' '$url/stall/x' | grep -Eq '[0-9]u'"
    # a key in UTF-8 comes back as its characters
    check "/flaky/über: the key as \\u00fc" test "$(curl -s "$url/flaky/%C3%BCber?fail=0")" = '{"key": "\u00fcber", "attempt": 1}'
    check "/flaky/über: jq reads über" test "$(curl -s "$url/flaky/%C3%BCber2?fail=0" | jq -r .key)" = "über2"
    check "/flaky/%FF: not UTF-8, still JSON (U+FFFD)" test "$(curl -s "$url/flaky/%FF?fail=0" | jq -r .key)" = $'\xef\xbf\xbd'
    kill -INT $spid
    reap $spid
    check "serve: Ctrl-C exits 0" test "$rc" = 0
fi

# out of descriptors: serve says what failed (a socket, epoll), not "port in use?"; the same with a
# port given (the one the server above just left, so that it is free)
for n in 4 5; do
    for p in 0 "$port"; do
        set +e
        bare "-n $n" serve --port $p --for 1 >"$TMP/out" 2>"$TMP/err"
        r=$?
        set -e
        what="ulimit -n $n, --port $p"
        check "$what: exit 3 ($r), one line" test "$r:$(wc -l <"$TMP/err")" = 3:1
        check "$what: says what failed, not blaming the port: $(cat "$TMP/err")" \
            eval 'grep -Eq "^concviz: cannot start the HTTP server on 127\.0\.0\.1(:$p)?: .*Too many open files \(the open-file limit is $n\)$" "$TMP/err" && ! grep -q "port in use" "$TMP/err"'
    done
done
# out of threads (no room for a thread's stack): says a thread could not be created. Sanitizers
# reserve more address space than any such limit leaves.
if [ -z "$SANITIZER" ]; then
    set +e
    bare "-s 1000000 -v 400000" serve --port 0 --for 1 >"$TMP/out" 2>"$TMP/err"
    r=$?
    set -e
    check "no thread: exit 3 ($r)" test "$r" = 3
    check "no thread: one line saying so, not blaming the port: $(cat "$TMP/err")" \
        eval 'grep -Eq "^concviz: cannot start the HTTP server on 127\.0\.0\.1: .*thread" "$TMP/err" && ! grep -q "port in use" "$TMP/err"'
else
    skip "no thread: address-space limits do not apply under $SANITIZER"
fi
finish

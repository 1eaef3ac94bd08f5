#!/usr/bin/env bash
# Faults of the embedded server against the client's timeouts and retries: 500s, resets and
# stalls under every model retry-backoff supports, each fault counted exactly (the flaky endpoint
# fails the first N requests of a key, so the counts are known); retries exhausted; a 4xx not
# retried; a stalled fetch ended by its timeout; `concviz serve --fault` and the fault routes
# checked with curl. Times are only bounded to catch a hang (60 s), never compared.
. "$(dirname "$0")/lib.sh"

HANG=60 # seconds: a run taking longer is hung

# timed EXPECTED_RC ARGS...: run_cv, and $TOOK the seconds it took
timed() {
    local start
    start=$(date +%s.%N)
    run_cv "$@" || true
    TOOK=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
    fcmp "$TOOK < $HANG" || bad "concviz ${*:2} took ${TOOK}s (hung?)"
}

models=$("$CONCVIZ" show retry-backoff | sed -n 's/^  models *//p')
check "retry-backoff runs under serial, threads, procs, epoll and hybrid" \
    test "$models" = "serial threads procs epoll hybrid"
stop_if_all_failed "concviz show retry-backoff"

# Each fault, each model: 3 requests, each failing 3 times before it succeeds, 3 retries each.
# The counter of that fault is 9, the others 0; a stall is only ended by the 500 ms request
# timeout, so 3 of them in a row take at least 1.5 s.
req=3
fail=3
declare -A counter=([500]=server_errors [reset]=resets [stall]=timeouts)
for f in 500 reset stall; do
    for m in $models; do
        timed 0 run retry-backoff --model "$m" --set fault=$f --set requests=$req --set fail=$fail \
            --set backoff_ms=100 --json --check
        what="$f under $m"
        check "$what: every request succeeded after retries" \
            test "$(jqc '[.results.succeeded, .results.failed, .tasks.completed, .tasks.failed]')" = "[$req,0,$req,0]"
        check "$what: $((req * fail)) retries, as task.retry events too" \
            test "$(jqc '[.results.retries, .tasks.retried]')" = "[$((req * fail)),$((req * fail))]"
        wrong=""
        for k in server_errors resets timeouts client_errors connection_errors; do
            want=0
            [ "$k" = "${counter[$f]}" ] && want=$((req * fail))
            got=$(jqv ".results.$k")
            [ "$got" = "$want" ] || wrong="$wrong, results.$k is $got, not $want"
        done
        check "$what: $((req * fail)) ${counter[$f]}, no other failure ($TOOK s)$wrong" test -z "$wrong"
        if [ "$f" = stall ]; then
            # each request waited out 3 timeouts of 500 ms in a row: a lower bound, which load
            # can only make longer
            check "$what: the stalls ended by the request timeout (wall $(jqv .wall_s) s >= 1.5 s)" \
                fcmp "$(jqv .wall_s) >= 1.5"
        fi
        [ "$f:$m" != "500:serial" ] || stop_if_all_failed "the first run ($what)"
    done
done

# the waits are urllib3's own: Retry(total=3, backoff_factor=F).get_backoff_time() after each
# failed attempt, asked of the real urllib3 (the scenario's defaults are the article's F = 0.5;
# F = 0.1 here to keep the test short); each measured gap is at least its wait
timed 0 run retry-backoff --model epoll --set backoff_ms=100 --json --check
real=$(python3 -c '
from urllib3.util.retry import Retry, RequestHistory
fail = RequestHistory("GET", "/flaky", None, 503, None)
print([Retry(total=3, backoff_factor=0.1, history=(fail,) * k).get_backoff_time() for k in (1, 2, 3)])
' | tr -d ' ')
check "retry waits as real urllib3's Retry makes them ($real): $(jqc .results.retry_wait_s)" \
    jq -e --argjson u "$real" '.results.retry_wait_s | length == 3 and
        ([., $u] | transpose | all(.[0] - .[1] | fabs < 1e-9))' "$TMP/out"
check "... each gap measured at least its wait" \
    jq -e '[.results.retry_wait_s, .results.retry_gap_min_s] | transpose | all(.[1] >= .[0])' "$TMP/out"
timed 0 run retry-backoff --set requests=1 --set fail=0 --json
check "the defaults are the article's Retry(total=3, backoff_factor=0.5), no jitter" \
    test "$(jqc '[.params.total, .params.backoff_ms, .params.jitter]')" = '[3,500,0]'

# a list of modes: the k-th failure of each request in the k-th mode
timed 0 run retry-backoff --model epoll --set fault=500,reset,stall --set requests=4 \
    --set backoff_ms=100 --json --check
check "mixed faults: one of each per request" \
    test "$(jqc '[.results.server_errors, .results.resets, .results.timeouts, .results.succeeded]')" = "[4,4,4,4]"

# retries exhausted: 2 attempts for 3 failures; every request fails, said in one line, and the
# run exits 1 with --check (all_succeed fails); without --check it is a warning (exit 0)
for m in threads epoll; do
    timed 1 run retry-backoff --model $m --set fault=stall --set total=1 --set requests=2 --json --check
    check "exhausted ($m): both requests failed" \
        test "$(jqc '[.tasks.failed, .tasks.completed, .results.failed, .results.succeeded]')" = "[2,0,2,0]"
    check "exhausted ($m): 2 attempts each, both timed out, 1 retry each" \
        test "$(jqc '[.results.timeouts, .results.retries]')" = "[4,2]"
    check "exhausted ($m): the reason in the errors" \
        test "$(jqv '.errors[0]')" = "2 of 2 requests failed; their last attempts: 2 timeouts (total = 1)"
    check "exhausted ($m): one warning line, then the failed expectation" \
        grep -qx "concviz: warning: 2 of 2 requests failed; their last attempts: 2 timeouts (total = 1) (the run went on)" "$TMP/err"
    check "exhausted ($m): all_succeed failed" test "$(jqv '.expectations[] | select(.name == "all_succeed") | .ok')" = false
done
timed 0 run retry-backoff --set fault=reset --set total=0 --set requests=2
check "exhausted without --check: exit 0, a warning" grep -q "warning: 2 of 2 requests failed; their last attempts: 2 resets" "$TMP/err"

# a 4xx is final: no retry
timed 0 run retry-backoff --set url=http://local/status/404 --set requests=2 --json
check "404: not retried, both failed" \
    test "$(jqc '[.results.retries, .results.client_errors, .tasks.failed]')" = "[0,2,2]"

# every failed attempt is one of the counted kinds (the scenario's expectation) under a flaky
# server: shares of 500s, resets and stalls from `concviz serve --fault`, a real server outside
"$CONCVIZ" serve --fault 500:0.2,reset:0.2,stall:0.1 --stall-ms 20000 --for $HANG >"$TMP/url" 2>"$TMP/serve.err" &
spid=$!
url=$(url_of "$TMP/url" $spid)
timed 0 run retry-backoff --model threads --set "url=$url/get" --set requests=10 --set total=6 \
    --set request_timeout_ms=500 --set backoff_ms=20 --json
check "serve --fault: every request succeeded in the end" test "$(jqv .results.succeeded)" = 10
check "serve --fault: each kind of fault was met" \
    test "$(jqc '[.results.server_errors, .results.resets, .results.timeouts] | map(. > 0)')" = "[true,true,true]"
seen=$(jqc '[.results.server_errors, .results.resets, .results.timeouts, .results.client_errors, .results.connection_errors]')
kill -INT $spid 2>/dev/null || true
reap $spid
check "serve: it had stalls to end" grep -Eq "stopped after [0-9]+ requests \(faults: [0-9]+ error statuses, [0-9]+ resets, [1-9][0-9]* stalls\)" "$TMP/serve.err"
check "serve: Ctrl-C with stalls of 20 s parked exits 0 ($rc), not waiting for them (${took}s)" \
    eval '[ "$rc" = 0 ] && grep -q "stalls)" "$TMP/serve.err" && fcmp "$took < $HANG"'
served=$(sed -En 's/.*\(faults: ([0-9]+) error statuses, ([0-9]+) resets, ([0-9]+) stalls\).*/[\1,\2,\3,0,0]/p' "$TMP/serve.err")
check "serve --fault: each failed attempt counted as the fault the server served ($seen, $served)" \
    test -n "$served" -a "$seen" = "$served"

# io-fetch: a stalled request fails with the request timeout, and the run goes on to the end
timed 0 run io-fetch --model threads --set url=http://local/stall/30000 --set requests=2 \
    --set request_timeout_ms=300 --json
check "fetch of a stall: both timed out" test "$(jqc '[.results.timeouts, .tasks.failed]')" = "[2,2]"
check "fetch of a stall: the run completes" test "$(jqv .state)" = done
timed 0 run io-fetch --model epoll --set url=http://local/reset --set requests=2 --json
check "fetch of a reset: both reset" test "$(jqc '[.results.resets, .tasks.failed]')" = "[2,2]"

# the embedded server does not outlive a run that left stalls parked in it
"$CONCVIZ" run io-fetch --model epoll --set url=http://local/stall/60000 --set requests=3 \
    --set request_timeout_ms=1000 --json >/dev/null 2>&1 &
rpid=$!
srv=""
for _ in $(seq 100); do
    srv=$(pgrep -P $rpid -x cv:httpd || true)
    [ -n "$srv" ] && break
    sleep 0.05
done
wait $rpid || true
check "the run's server process had started" test -n "$srv"
gone() { ! kill -0 "$1" 2>/dev/null; }
check "and is gone with the run" eval '[ -n "$srv" ] && gone "$srv"'

# concviz serve: the fault routes and --fault, with curl
"$CONCVIZ" serve --fault 500:0.25,reset:0.25 --max-requests 12 --for $HANG >"$TMP/url" 2>"$TMP/serve.err" &
spid=$!
url=$(url_of "$TMP/url" $spid)
codes=""
for _ in $(seq 12); do
    set +e
    c=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$url/get")
    e=$?
    set -e
    case "$e:$c" in
    0:200) codes+="." ;;
    0:500) codes+="5" ;;
    52:000 | 56:000) codes+="R" ;; # empty reply or reset: no answer
    *) codes+="?" ;;
    esac
done
# credits grow by 0.25 a request: at the 4th both reach 1, 500 comes first, the reset next
check "serve --fault 500:0.25,reset:0.25: deterministic ($codes)" test "$codes" = "...5R..5R..5"
reap $spid
check "serve --fault: stops after --max-requests, exit 0, counting its faults" \
    eval '[ "$rc" = 0 ] && grep -q "stopped after 12 requests (faults: 3 error statuses, 2 resets, 0 stalls)" "$TMP/serve.err"'

"$CONCVIZ" serve --for $HANG >"$TMP/url" 2>/dev/null &
spid=$!
url=$(url_of "$TMP/url" $spid)
curl_rc() { set +e; curl -s -o /dev/null "$@"; echo $?; set -e; }
check "GET /reset: no answer" grep -qE '^(52|56)$' <(curl_rc -m 10 "$url/reset")
check "GET /stall/30000 with a 300 ms client timeout: curl times out" test "$(curl_rc -m 0.3 "$url/stall/30000")" = 28
check "GET /stall/200: closed without an answer" grep -qE '^(52|56)$' <(curl_rc -m 10 "$url/stall/200")
check "GET /stall/60001: 400" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/stall/60001")" = 400
f="$url/flaky/k?fail=3&mode=503,reset,stall&stall=100"
check "flaky mode list: first 503" test "$(curl -s -o /dev/null -w '%{http_code}' "$f")" = 503
check "flaky mode list: then a reset" grep -qE '^(52|56)$' <(curl_rc -m 10 "$f")
check "flaky mode list: then a stall" grep -qE '^(52|56)$' <(curl_rc -m 10 "$f")
check "flaky mode list: then 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$f")" = 200
check "flaky: a bad mode is 400" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/flaky/x?mode=teapot")" = 400
kill -INT $spid 2>/dev/null || true
wait $spid || true
finish

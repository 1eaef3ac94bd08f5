#!/usr/bin/env bash
# concviz serve: the loopback server alone, bounded by --for / --max-requests; bad flags exit 2;
# a port already in use exits 3.
. "$(dirname "$0")/lib.sh"

run_cv 0 serve --help && check "serve --help lists the endpoints" grep -q "/flaky/KEY?fail=N" "$TMP/out"
run_cv 2 serve --port 70000 && check "bad port: one line" grep -q "port must be 0 to 65535" "$TMP/err"
run_cv 2 serve --for soon && check "bad --for: one line" grep -q "for must be a whole number" "$TMP/err"
run_cv 2 serve extra && check "stray argument" grep -q "serve takes no arguments" "$TMP/err"

# bounded by requests: it prints its URL, serves 3 requests, and stops by itself
"$CONCVIZ" serve --max-requests 3 --for 30 >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
url=$(url_of "$TMP/url" $pid)
check "prints a loopback URL" grep -Eq '^http://127\.0\.0\.1:[0-9]+$' "$TMP/url"
check "GET /get is 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/get")" = 200
check "GET /status/503 is 503" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/status/503")" = 503
check "GET /delay/300 waits" fcmp "$(curl -s -o /dev/null -w '%{time_total}' "$url/delay/300") >= 0.29"
reap $pid
check "stops after --max-requests with exit 0, saying what it served" \
    eval '[ "$rc" = 0 ] && grep -q "stopped after 3 requests" "$TMP/serve.err"'

# kept alive: three requests on one connection still count three
"$CONCVIZ" serve --max-requests 3 --for 30 >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
url=$(url_of "$TMP/url" $pid)
curl -sv -o /dev/null -o /dev/null -o /dev/null "$url/get" "$url/bytes/10" "$url/delay/10" 2>"$TMP/curl.err" || true
check "three requests on one kept-alive connection" test "$(grep -c 'Re-using existing connection' "$TMP/curl.err")" = 2
reap $pid
check "--max-requests counts each request of a kept-alive connection ($rc)" grep -q "stopped after 3 requests" "$TMP/serve.err"

# each connection's memory is 4 KB (what 10,000 connections hold): 3 KB of headers are answered,
# 5 KB get 431; a 16 MB body is sent whole
"$CONCVIZ" serve --max-requests 3 --for 30 >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
url=$(url_of "$TMP/url" $pid)
big() { head -c "$1" /dev/zero | tr '\0' a; }
check "3 KB of request headers are answered" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(big 3000)" "$url/get")" = 200
check "5 KB of request headers get 431" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(big 5000)" "$url/get")" = 431
check "GET /bytes/16000000 sends 16,000,000 bytes" \
    test "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$url/bytes/16000000")" = "200 16000000"
reap $pid

# the same port twice: the second cannot bind
"$CONCVIZ" serve --for 5 >"$TMP/url2" 2>/dev/null &
pid=$!
busy=$(url_of "$TMP/url2" $pid | sed 's/.*://')
run_cv 3 serve --port "$busy" --for 1 && check "port in use: one line naming the failed bind" \
    grep -qx "concviz: cannot start the HTTP server on 127.0.0.1:$busy: failed to bind to port $busy: Address already in use" "$TMP/err"
kill -INT $pid 2>/dev/null || true
reap $pid
check "Ctrl-C stops it (on port ${busy:-none}) with exit 0" eval '[ -n "$busy" ] && [ "$rc" = 0 ]'
finish

#!/usr/bin/env bash
# Load on the embedded server: `concviz serve` on 127.0.0.1 (port 0, bounded by --for and
# --max-requests, so it stops by itself), then ApacheBench, 10,000 requests with 500 at once,
# against /get, /bytes/1024 and /delay/10 (suspended and resumed by the timer thread): every
# request completes, none fails, every answer is 2xx with the right body, and the server counts
# all of them and stops at its bound; then /get again with keep-alive (ab -k): every request on a
# kept-alive connection. Requests/s and latency percentiles are printed as figures, never
# asserted.
. "$(dirname "$0")/lib.sh"

N=10000
C=500
PATHS=(/get /bytes/1024 /delay/10 -k/get) # -k: with keep-alive

if ! command -v ab >/dev/null; then
    bad "ab is not installed (Debian package apache2-utils; make deps installs it)"
    finish
    exit 1
fi

# ab holds C sockets at once and the server as many: give this shell (and so both) room for
# them when the soft open-file limit is lower, within the hard one. The server raises its own.
need=$((C + 100))
soft=$(ulimit -Sn)
hard=$(ulimit -Hn)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
        ulimit -Sn "$need"
    else
        bad "the hard open-file limit ($hard) is below the $need this test needs"
        finish
        exit 1
    fi
fi
echo "# open files: soft $(ulimit -Sn), hard $hard"

total=$((N * ${#PATHS[@]}))
"$CONCVIZ" serve --port 0 --for 120 --max-requests "$total" >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
url=$(url_of "$TMP/url" $pid)
if grep -Eq '^http://127\.0\.0\.1:[0-9]+$' "$TMP/url"; then
    ok "serve prints its loopback URL"
else
    bad "serve prints no loopback URL: no server to load"
    reap $pid
    finish
fi

# field NAME: the value after "NAME:" in ab's report
field() { sed -n "s/^$1: *\([0-9.]*\).*/\1/p" "$TMP/ab.out" | head -1; }

for path in "${PATHS[@]}"; do
    keep=()
    if [ "${path#-k}" != "$path" ]; then
        keep=(-k)
        path=${path#-k}
    fi
    set +e
    timeout 100 ab "${keep[@]}" -n "$N" -c "$C" "$url$path" >"$TMP/ab.out" 2>"$TMP/ab.err"
    rc=$?
    set -e
    path="${keep[*]:+-k }$path"
    if [ "$rc" != 0 ]; then
        bad "ab -n $N -c $C $path exited $rc: $(tail -2 "$TMP/ab.err" | tr '\n' ' ')"
        continue
    fi
    [ -n "${keep[*]}" ] && check "$path: every request on a kept-alive connection" \
        test "$(field 'Keep-Alive requests')" = "$N"
    check "$path: all $N requests complete" test "$(field 'Complete requests')" = "$N"
    check "$path: no failed requests" test "$(field 'Failed requests')" = 0
    # ab prints this line only when some answers were not 2xx
    check "$path: every answer is 2xx" test -z "$(field 'Non-2xx responses')"
    case ${path#-k } in
    /get) want=15 ;; # {"url": "/get"}
    /bytes/1024) want=1024 ;;
    /delay/10) want=16 ;; # {"delay_ms": 10}
    esac
    check "$path: each body is $want bytes" test "$(field 'Document Length')" = "$want"
    pct() { awk -v p="$1" '$1 == p { print $2 }' "$TMP/ab.out"; }
    echo "# $path: $(field 'Requests per second') requests/s; latency ms: p50 $(pct 50%)," \
        "p90 $(pct 90%), p99 $(pct 99%), max $(pct 100%); connect mean" \
        "$(awk '$1 == "Connect:" { print $3 }' "$TMP/ab.out") ms"
done

# The server counted every request and stopped at --max-requests by itself.
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    bad "serve still running after $total requests; stopping it"
    kill -INT "$pid"
fi
set +e
wait "$pid"
rc=$?
set -e
check "serve stops by itself after $total requests, exit 0 ($rc), saying it counted them" \
    eval '[ "$rc" = 0 ] && grep -q "stopped after $total requests" "$TMP/serve.err"'
finish

/*
 * libFuzzer target for the embedded HTTP server (engine/src/net/httpd.c). Each input is a raw
 * request.
 *
 * 1. Its request line (METHOD TARGET ...) is split the way libmicrohttpd does it (the path
 *    %-decoded, the query's fail=, mode= and stall= arguments found and decoded) and handed to
 *    cv_httpd_route, the
 *    server's routing; every reply it can lead to (cv_httpd_json, for the first, the last failing
 *    and the first good attempt of a flaky key) must be a valid JSON text with a status from 100
 *    to 599, also when the buffer is too small.
 * 2. The input's bytes go as they are over a TCP connection to the server itself, started once
 *    in this process on 127.0.0.1 (an ephemeral port) with every delay and stall cut to 2 ms; the
 *    reply is
 *    read until the server closes (the request is sent half-closed): 64 KiB at most, 2 s at most,
 *    0.25 s at most without a byte (a body shorter than announced keeps the server waiting). An
 *    input without the blank line that ends a request's head is sent and reset, not waited for.
 *    A reply's status line must be well formed, and a complete JSON body valid. A reply that does
 *    not come in time is followed by a GET /get, which must be answered: the server still serves.
 * Run by tests/fuzz/run.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "concviz/concviz.h"
#include "concviz/httpd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cv_httpd *server;
static uint16_t port;

static void fail(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "fuzz_httpd: %s: '%.*s'\n", what, (int)(len > 600 ? 600 : len), text);
    abort();
}

/* ---- a strict JSON checker (RFC 8259): one value, nothing after it ---- */

struct js {
    const unsigned char *p, *end;
    int depth;
};

static void js_space(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int js_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence from 0x80 up (no overlong forms, no surrogates, at most U+10FFFF). */
static int js_utf8(struct js *j)
{
    unsigned c = *j->p, n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
    if (!n || c > 0xf4 || j->end - j->p <= (long)n)
        return 0;
    unsigned cp = c & (0x3f >> n);
    for (unsigned i = 1; i <= n; i++) {
        if ((j->p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (j->p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    j->p += n + 1;
    return 1;
}

static int js_string(struct js *j)
{
    j->p++; /* the opening quote */
    while (j->p < j->end) {
        unsigned char c = *j->p;
        if (c == '"') {
            j->p++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (j->end - j->p < 2)
                return 0;
            c = j->p[1];
            if (c == 'u') {
                if (j->end - j->p < 6 || !js_hex(j->p[2]) || !js_hex(j->p[3]) || !js_hex(j->p[4]) ||
                    !js_hex(j->p[5]))
                    return 0;
                j->p += 6;
            } else if (strchr("\"\\/bfnrt", c) && c) {
                j->p += 2;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if (!js_utf8(j))
                return 0;
        } else {
            j->p++;
        }
    }
    return 0;
}

static int js_digits(struct js *j)
{
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

static int js_number(struct js *j)
{
    if (*j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!js_digits(j))
        return 0;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!js_digits(j))
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!js_digits(j))
            return 0;
    }
    return 1;
}

static int js_value(struct js *j);

/* An object or an array: open and close are its brackets. */
static int js_list(struct js *j, char close, int object)
{
    if (++j->depth > 64)
        return 0;
    j->p++;
    js_space(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 1;
    }
    for (;;) {
        js_space(j);
        if (object) {
            if (j->p >= j->end || *j->p != '"' || !js_string(j))
                return 0;
            js_space(j);
            if (j->p >= j->end || *j->p++ != ':')
                return 0;
        }
        if (!js_value(j))
            return 0;
        js_space(j);
        if (j->p >= j->end)
            return 0;
        if (*j->p == close) {
            j->p++;
            j->depth--;
            return 1;
        }
        if (*j->p++ != ',')
            return 0;
    }
}

static int js_word(struct js *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static int js_value(struct js *j)
{
    js_space(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{':
        return js_list(j, '}', 1);
    case '[':
        return js_list(j, ']', 0);
    case '"':
        return js_string(j);
    case 't':
        return js_word(j, "true");
    case 'f':
        return js_word(j, "false");
    case 'n':
        return js_word(j, "null");
    default:
        return js_number(j);
    }
}

static int json_valid(const char *text, size_t len)
{
    struct js j = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
    if (!js_value(&j))
        return 0;
    js_space(&j);
    return j.p == j.end;
}

/* ---- 1. the routing, without a connection ---- */

static int hexval(int c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* %XX decoded in place (and '+' as a space when plus), up to a NUL it may produce. */
static void decode(char *s, int plus)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '%' && js_hex((unsigned char)s[1]) && js_hex((unsigned char)s[2])) {
            *o++ = (char)(hexval((unsigned char)s[1]) << 4 | hexval((unsigned char)s[2]));
            s += 2;
        } else {
            *o++ = plus && *s == '+' ? ' ' : *s;
        }
    }
    *o = 0;
}

static void check_reply(const struct cv_httpd_route *rt, uint32_t attempt)
{
    char buf[512];
    memset(buf, 'x', sizeof buf);
    unsigned status = cv_httpd_json(rt, attempt, buf, sizeof buf);
    if (status < 100 || status > 599 || !memchr(buf, 0, sizeof buf))
        fail("a reply's status or body is out of bounds", buf, strnlen(buf, sizeof buf));
    if (!json_valid(buf, strlen(buf)))
        fail("a reply is not JSON", buf, strlen(buf));
    char small[12]; /* too small for most: still JSON, never half of one */
    cv_httpd_json(rt, attempt, small, sizeof small);
    if (!json_valid(small, strlen(small)))
        fail("a reply cut short is not JSON", small, strlen(small));
}

static void route(const uint8_t *data, size_t size)
{
    size_t n = 0;
    while (n < size && data[n] != '\n' && data[n] != '\r')
        n++;
    char *line = malloc(n + 1);
    if (!line)
        return;
    memcpy(line, data, n);
    line[n] = 0;
    char *method = line, *target = strchr(line, ' ');
    if (target) {
        *target++ = 0;
        char *sp = strchr(target, ' ');
        if (sp)
            *sp = 0;
    } else {
        target = line + n; /* "" */
    }
    char *query = strchr(target, '?');
    if (query)
        *query++ = 0;
    decode(target, 0);
    struct cv_httpd_query q = {0};
    for (char *save = NULL, *arg = query ? strtok_r(query, "&", &save) : NULL; arg;
         arg = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(arg, '=');
        if (eq)
            *eq++ = 0;
        decode(arg, 1);
        const char **slot = !strcmp(arg, "fail")    ? &q.fail
                            : !strcmp(arg, "mode")  ? &q.mode
                            : !strcmp(arg, "stall") ? &q.stall
                                                    : NULL;
        if (slot && eq && !*slot) { /* the first of each, as libmicrohttpd finds it */
            decode(eq, 1);
            *slot = eq;
        }
    }
    struct cv_httpd_route rt;
    cv_httpd_route(method, target, &q, &rt);
    if (rt.status < 100 || rt.status > 599)
        fail("a route's status is out of range", target, strlen(target));
    switch (rt.kind) {
    case CV_HTTPD_DELAY:
        if (rt.n > CV_HTTPD_MAX_DELAY_MS)
            fail("a delay beyond the limit", target, strlen(target));
        break;
    case CV_HTTPD_BYTES:
        if (rt.n > CV_HTTPD_MAX_BYTES)
            fail("a length beyond the limit", target, strlen(target));
        break;
    case CV_HTTPD_STATUS:
        if (rt.status != rt.n)
            fail("/status/CODE answers another code", target, strlen(target));
        break;
    case CV_HTTPD_STALL:
        if (rt.n > CV_STALL_MAX_MS)
            fail("a stall beyond the limit", target, strlen(target));
        break;
    case CV_HTTPD_FLAKY:
        if (!rt.key || rt.key < target || rt.key > target + strlen(target) || !*rt.key ||
            strlen(rt.key) >= CV_HTTPD_FLAKY_KEY_MAX || strchr(rt.key, '/'))
            fail("a flaky key out of bounds", target, strlen(target));
        if (rt.nmodes == 0 || rt.nmodes > CV_FAULT_MAX_MODES || rt.stall_ms > CV_STALL_MAX_MS)
            fail("a flaky fault list out of bounds", target, strlen(target));
        for (unsigned i = 0; i < rt.nmodes; i++)
            if (!(rt.modes[i] == CV_FAULT_RESET || rt.modes[i] == CV_FAULT_STALL ||
                  (rt.modes[i] >= 500 && rt.modes[i] <= 599)))
                fail("a flaky fault mode out of range", target, strlen(target));
        break;
    default:
        break;
    }
    uint32_t last = rt.n >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)rt.n;
    check_reply(&rt, 1);
    check_reply(&rt, last);
    check_reply(&rt, last + 1);
    free(line);
}

/* ---- 2. the server itself, over a socket ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends the request half-closed and reads the reply into buf until the server closes or the
 * buffer is full. Returns the bytes read, or -1 when nothing more came for `idle` seconds (a
 * request still waiting for the rest of its body) or `total` seconds passed. With wait false
 * the connection is reset as soon as the request is sent, and 0 comes back. */
static long exchange(const uint8_t *req, size_t len, char *buf, size_t cap, bool wait, double idle,
                     double total)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("fuzz_httpd: socket");
        abort();
    }
    /* closed with a reset, so a client port is never left in TIME_WAIT */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        /* a signal (libFuzzer's timers) cut the wait short: the connection goes on, wait for it */
        int err = errno;
        if (err == EINTR) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r;
            while ((r = poll(&p, 1, 5000)) < 0 && errno == EINTR)
                ;
            socklen_t n = sizeof err;
            if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) != 0)
                err = ETIMEDOUT;
        }
        if (err) {
            fprintf(stderr, "fuzz_httpd: connect to the server: %s\n", strerror(err));
            abort();
        }
    }
    size_t sent = 0;
    while (sent < len) {
        ssize_t k = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break; /* the server closed early: read what it said */
        sent += (size_t)k;
    }
    if (!wait) {
        close(fd);
        return 0;
    }
    shutdown(fd, SHUT_WR);
    double start = now_s(), last = start;
    size_t got = 0;
    long rc = -1;
    while (got < cap) {
        double t = now_s(), left = last + idle - t;
        if (start + total - t < left)
            left = start + total - t;
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue; /* the time is checked above */
        ssize_t k = recv(fd, buf + got, cap - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) { /* closed (or reset): the whole reply is in */
            rc = (long)got;
            break;
        }
        got += (size_t)k;
        last = now_s();
    }
    if (got == cap)
        rc = (long)got;
    close(fd);
    return rc;
}

/* A reply as read: its status line, and a complete JSON body must be valid. */
static void check_http(const char *buf, size_t len)
{
    if (len == 0)
        return; /* closed without a word: the library's answer to some malformed input */
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || buf[9] < '1' ||
        buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9')
        fail("not an HTTP reply", buf, len);
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return; /* cut at 64 KiB inside the head: nothing more to check */
    size_t head = (size_t)(end - buf) + 4;
    char *h = malloc(head + 1);
    if (!h)
        return;
    memcpy(h, buf, head);
    h[head] = 0;
    int json = 0;
    long length = -1;
    for (char *save = NULL, *l = strtok_r(h, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
        if (!strncasecmp(l, "Content-Type: application/json", 30))
            json = 1;
        else if (!strncasecmp(l, "Content-Length: ", 16))
            length = strtol(l + 16, NULL, 10);
    }
    free(h);
    if (json && length >= 0 && (size_t)length == len - head && !json_valid(buf + head, len - head))
        fail("a JSON reply is not JSON", buf, len);
}

static char reply[65536];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *cause = NULL;
    if (cv_httpd_start(0, &server, &cause) != CV_OK) {
        fprintf(stderr, "fuzz_httpd: %s\n", cause ? cause : "cannot start the server");
        abort();
    }
    cv_httpd_set_max_delay(server, 2);
    port = cv_httpd_port(server);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    route(data, size);
    /* Without the blank line that ends a request's head, the server cannot have a request to
     * answer (libmicrohttpd then waits for the rest, up to its 120 s timeout, even half-closed):
     * such an input is sent and the connection reset. */
    bool head = memmem(data, size, "\r\n\r\n", 4) || memmem(data, size, "\n\n", 2);
    long n = exchange(data, size, reply, sizeof reply, head, 0.25, 2.0);
    if (n >= 0) {
        check_http(reply, (size_t)n);
        return 0;
    }
    static const char get[] = "GET /get HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    n = exchange((const uint8_t *)get, sizeof get - 1, reply, sizeof reply, true, 5.0, 5.0);
    if (n < 12 || memcmp(reply, "HTTP/1.1 200", 12) != 0)
        fail("the server stopped answering after this input", (const char *)data, size);
    return 0;
}

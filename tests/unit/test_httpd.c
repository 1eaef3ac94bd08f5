/* The embedded HTTP server: endpoints, bad requests, and 10,000 concurrent delayed requests held
 * without a thread each (the server in its own process, the client on libcurl's multi API);
 * faults: resets, stalls (bounded, and ended by the server's stop), flaky modes, and shares of
 * faulty requests spread deterministically; keep-alive and pipelining (and the replies that
 * close on purpose), /bytes/N made as it is sent, keys in UTF-8, messages, a server that cannot
 * start saying why, and a server process seen dying. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "concviz/concviz.h"
#include "concviz/httpd.h"

static uint16_t port;

struct body {
    char buf[256];
    size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *user)
{
    struct body *b = user;
    size_t len = size * n;
    size_t room = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;
    b->buf[b->len] = 0;
    return len;
}

static long get(const char *path, struct body *b)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    CURL *c = curl_easy_init();
    memset(b, 0, sizeof *b);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

/* A GET to 127.0.0.1:p with a timeout; returns libcurl's code, the status in *status. */
static CURLcode get_at(uint16_t p, const char *path, long timeout_ms, long *status)
{
    char url[256];
    struct body b = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", p, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    *status = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return rc;
}

/* The connection ended without an answer: closed, or reset. */
static bool no_answer(CURLcode rc)
{
    return rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_endpoints(void **unused)
{
    (void)unused;
    struct body b;
    assert_int_equal(get("/get", &b), 200);
    assert_string_equal(b.buf, "{\"url\": \"/get\"}");
    double t0 = now_s();
    assert_int_equal(get("/delay/200", &b), 200);
    assert_true(now_s() - t0 >= 0.19);
    assert_string_equal(b.buf, "{\"delay_ms\": 200}");
    assert_int_equal(get("/delay/0", &b), 200);
    assert_int_equal(get("/bytes/30", &b), 200);
    assert_int_equal(b.len, 30);
    assert_string_equal(b.buf, "abcdefghijklmnopqrstuvwxyzabcd");
    assert_int_equal(get("/bytes/0", &b), 200);
    assert_int_equal(b.len, 0);
    assert_int_equal(get("/status/418", &b), 418);
    assert_int_equal(get("/status/204", &b), 204);
    assert_int_equal(get("/status/200", &b), 200);
    /* flaky: N times 503, then 200, per key */
    assert_int_equal(get("/flaky/a?fail=2", &b), 503);
    assert_int_equal(get("/flaky/a?fail=2", &b), 503);
    assert_int_equal(get("/flaky/a?fail=2", &b), 200);
    assert_int_equal(get("/flaky/a?fail=2", &b), 200);
    assert_int_equal(get("/flaky/b?fail=0", &b), 200);
    assert_int_equal(get("/flaky/c", &b), 503); /* fail defaults to 1 */
    assert_int_equal(get("/flaky/c", &b), 200);
}

static void test_bad_requests(void **unused)
{
    (void)unused;
    struct body b;
    static const char *const bad[] = {
        "/delay/abc", "/delay/-5",          "/delay/60001", "/delay/",     "/delay/5/6",
        "/bytes/x",   "/bytes/99999999999", "/status/99",   "/status/600", "/flaky/k?fail=x",
        "/flaky/",    "/status/100",        "/status/150",  "/status/199"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long code = get(bad[i], &b);
        if (code != 400)
            fail_msg("%s gave %ld, not 400", bad[i], code);
    }
    assert_int_equal(get("/nope", &b), 404);
    assert_non_null(strstr(b.buf, "unknown path"));
    /* malformed HTTP on a raw socket: 400, and the server keeps serving */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char junk[] = "THIS IS NOT HTTP\r\n\r\n";
    assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
    char reply[64] = {0};
    ssize_t n = read(fd, reply, sizeof reply - 1);
    close(fd);
    assert_true(n > 12);
    assert_memory_equal(reply, "HTTP/1.1 400", 12);
    assert_int_equal(get("/get", &b), 200);
}

/* N concurrent /delay/MS through one curl multi handle, fresh connections (Debian's libcurl 7.88
 * searches its pool linearly, so reuse makes thousands of transfers quadratic). */
static void concurrent(unsigned n, unsigned ms, unsigned *ok, double *wall)
{
    CURLM *m = curl_multi_init();
    struct body sink = {0}; /* every transfer's body, cut short: only the codes are checked */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/delay/%u", port, ms);
    for (unsigned i = 0; i < n; i++) {
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(m, c);
    }
    double t0 = now_s();
    int running = 1;
    *ok = 0;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result == CURLE_OK && code == 200)
                (*ok)++;
            curl_multi_remove_handle(m, msg->easy_handle);
            curl_easy_cleanup(msg->easy_handle);
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    *wall = now_s() - t0;
    curl_multi_cleanup(m);
}

/* Set when a test was skipped: the program then exits 77, which ctest shows as "Skipped" (cmocka
 * itself counts a skip as a pass). */
static bool skipped;

/* The 10,000 delays took 2.3 s on two idle cores and 2.5 to 5.6 s on two busy ones (1 s of
 * delay, the rest setting up 10,000 connections on each side). A bound of 3 times the idle figure
 * catches a server that holds fewer at once (with 1,000 connections at a time: 11-12 s, which
 * the former bound of 20 s let pass); a busy host only slows a try down, so a slow try is tried
 * again, and the best of 3 decides. */
#define TEN_THOUSAND_BOUND_S 7.0

static void test_ten_thousand_delays(void **unused)
{
    (void)unused;
    /* 10,000 client sockets in this process: raise the soft fd limit to the hard one. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    const unsigned n = 10000;
    if (rl.rlim_cur < 10500) {
        print_message("SKIPPED: the open-file limit is %llu: 10,000 client sockets do not fit\n",
                      (unsigned long long)rl.rlim_cur);
        skipped = true;
        skip();
    }
    double best = 0;
    for (int try = 1; try <= 3; try++) {
        unsigned ok;
        double wall;
        concurrent(n, 1000, &ok, &wall);
        print_message("%u concurrent /delay/1000: %u answered 200 in %.2f s\n", n, ok, wall);
        assert_int_equal(ok, n);
        /* each waited its second: none answered early */
        assert_true(wall >= 0.99);
        if (try == 1 || wall < best)
            best = wall;
        if (best < TEN_THOUSAND_BOUND_S)
            break;
    }
    /* all waited concurrently: far less than even a few batches of 1 s */
    assert_true(best < TEN_THOUSAND_BOUND_S);
}

static void test_fault_routes(void **unused)
{
    (void)unused;
    long st;
    assert_true(no_answer(get_at(port, "/reset", 10000, &st)));
    /* a stall outlasting the client: the client's timeout ends it */
    double t0 = now_s();
    assert_int_equal(get_at(port, "/stall/5000", 200, &st), CURLE_OPERATION_TIMEDOUT);
    assert_true(now_s() - t0 < 4.0);
    /* a short stall ends by itself: closed without an answer */
    t0 = now_s();
    assert_true(no_answer(get_at(port, "/stall/200", 10000, &st)));
    assert_true(now_s() - t0 >= 0.19);
    /* flaky with a list of modes: the k-th failure in the k-th mode, then 200 */
    const char *f = "/flaky/m?fail=4&mode=500,reset,stall,502&stall=100";
    assert_int_equal(get_at(port, f, 10000, &st), CURLE_OK);
    assert_int_equal(st, 500);
    assert_true(no_answer(get_at(port, f, 10000, &st)));
    assert_int_equal(get_at(port, f, 50, &st), CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(get_at(port, f, 10000, &st), CURLE_OK);
    assert_int_equal(st, 502);
    assert_int_equal(get_at(port, f, 10000, &st), CURLE_OK);
    assert_int_equal(st, 200);
    /* the default mode is still 503 */
    assert_int_equal(get_at(port, "/flaky/d?fail=1", 10000, &st), CURLE_OK);
    assert_int_equal(st, 503);
    static const char *const bad[] = {"/stall/60001",
                                      "/stall/x",
                                      "/flaky/b?mode=teapot",
                                      "/flaky/b?mode=404",
                                      "/flaky/b?mode=500,",
                                      "/flaky/b?stall=-1",
                                      "/flaky/b?mode=500,500,500,500,500,500,500,500,500"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CURLcode rc = get_at(port, bad[i], 10000, &st);
        if (rc != CURLE_OK || st != 400)
            fail_msg("%s gave %d/%ld, not 400", bad[i], (int)rc, st);
    }
}

/* The routing alone: faults and their arguments, and how a flaky key's k-th request fails. */
static void test_route_faults(void **unused)
{
    (void)unused;
    struct cv_httpd_route rt;
    cv_httpd_route("GET", "/reset", NULL, &rt);
    assert_int_equal(rt.kind, CV_HTTPD_RESET);
    cv_httpd_route("GET", "/stall/250", NULL, &rt);
    assert_int_equal(rt.kind, CV_HTTPD_STALL);
    assert_int_equal(rt.n, 250);
    cv_httpd_route("GET", "/stall/60001", NULL, &rt);
    assert_int_equal(rt.kind, CV_HTTPD_BAD);
    assert_int_equal(rt.status, 400);
    struct cv_httpd_query q = {.fail = "3", .mode = "500,reset,stall", .stall = "40"};
    cv_httpd_route("GET", "/flaky/k", &q, &rt);
    assert_int_equal(rt.kind, CV_HTTPD_FLAKY);
    assert_int_equal(rt.n, 3);
    assert_int_equal(rt.stall_ms, 40);
    assert_int_equal(cv_httpd_flaky_mode(&rt, 1), 500);
    assert_int_equal(cv_httpd_flaky_mode(&rt, 2), CV_FAULT_RESET);
    assert_int_equal(cv_httpd_flaky_mode(&rt, 3), CV_FAULT_STALL);
    assert_int_equal(cv_httpd_flaky_mode(&rt, 4), 0);
    char buf[512];
    assert_int_equal(cv_httpd_json(&rt, 1, buf, sizeof buf), 500);
    assert_int_equal(cv_httpd_json(&rt, 4, buf, sizeof buf), 200);
    q = (struct cv_httpd_query){.mode = "500,"};
    cv_httpd_route("GET", "/flaky/k", &q, &rt);
    assert_int_equal(rt.kind, CV_HTTPD_BAD);
    cv_httpd_route("GET", "/flaky/k", NULL, &rt);
    assert_int_equal(cv_httpd_flaky_mode(&rt, 1), 503);
    assert_int_equal(cv_httpd_json(&rt, 1, buf, sizeof buf), 503);
}

/* A server whose delays are cut (as the fuzz target's) cuts stalls too. */
static void test_stall_capped(void **unused)
{
    (void)unused;
    struct cv_httpd *h = NULL;
    assert_int_equal(cv_httpd_start(0, &h, NULL), CV_OK);
    cv_httpd_set_max_delay(h, 20);
    long st;
    double t0 = now_s();
    assert_true(no_answer(get_at(cv_httpd_port(h), "/stall/60000", 10000, &st)));
    assert_true(now_s() - t0 < 5.0);
    cv_httpd_stop(h);
}

static void test_parse_faults(void **unused)
{
    (void)unused;
    struct cv_httpd_faults f;
    char *cause = NULL;
    assert_int_equal(cv_httpd_parse_faults("500:0.2,reset:0.1,stall:0.05", &f, NULL), CV_OK);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.mode[0], 500);
    assert_int_equal(f.ppm[0], 200000);
    assert_int_equal(f.mode[1], CV_FAULT_RESET);
    assert_int_equal(f.mode[2], CV_FAULT_STALL);
    assert_int_equal(f.ppm[2], 50000);
    assert_int_equal(f.stall_ms, CV_STALL_DEFAULT);
    static const char *const bad[] = {
        "",       "500",       "500:",      "500:0", "500:1.5",
        "404:.1", "teapot:.1", "500:x",     ",",     "500:.6,reset:.6",
        ":0.1",   "stall:-1",  "reset:0.1,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cv_httpd_parse_faults(bad[i], &f, &cause) != CV_ERR_USAGE)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(cause);
        assert_null(strchr(cause, '\n'));
        free(cause);
        cause = NULL;
    }
    assert_int_equal(cv_httpd_fault_mode("599"), 599);
    assert_int_equal(cv_httpd_fault_mode("499"), 0);
    assert_int_equal(cv_httpd_fault_mode("reset"), CV_FAULT_RESET);
    assert_int_equal(cv_httpd_fault_mode("stall"), CV_FAULT_STALL);
}

/* Shares of faulty requests, in this process: exactly where the credits say. */
static void test_fault_shares(void **unused)
{
    (void)unused;
    struct cv_httpd *h = NULL;
    assert_int_equal(cv_httpd_start(0, &h, NULL), CV_OK);
    struct cv_httpd_faults f;
    assert_int_equal(cv_httpd_parse_faults("500:0.25,reset:0.25", &f, NULL), CV_OK);
    cv_httpd_set_faults(h, &f);
    /* credits after request k: 0.25 k each; at 4 both reach 1: 500 first, the reset next */
    char got[16] = "";
    for (int i = 0; i < 12; i++) {
        long st;
        CURLcode rc = get_at(cv_httpd_port(h), "/get", 10000, &st);
        got[i] = rc == CURLE_OK && st == 200   ? '.'
                 : rc == CURLE_OK && st == 500 ? '5'
                 : no_answer(rc)               ? 'R'
                                               : '?';
    }
    assert_string_equal(got, "...5R..5R..5");
    uint64_t status, resets, stalls;
    cv_httpd_fault_counts(h, &status, &resets, &stalls);
    assert_int_equal(status, 3);
    assert_int_equal(resets, 2);
    assert_int_equal(stalls, 0);
    cv_httpd_stop(h);
}

struct waiter {
    uint16_t port;
    CURLcode rc;
    double took;
};

static void *stalled_get(void *arg)
{
    struct waiter *w = arg;
    long st;
    double t0 = now_s();
    w->rc = get_at(w->port, "/stall/60000", 120000, &st);
    w->took = now_s() - t0;
    return NULL;
}

/* A stall of a minute does not hold the server's stop: it ends the stall at once. */
static void test_stop_ends_stalls(void **unused)
{
    (void)unused;
    struct cv_httpd *h = NULL;
    assert_int_equal(cv_httpd_start(0, &h, NULL), CV_OK);
    struct waiter w = {.port = cv_httpd_port(h)};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stalled_get, &w), 0);
    uint64_t status, resets, stalls = 0;
    for (int i = 0; i < 500 && !stalls; i++) { /* until the request is parked */
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        cv_httpd_fault_counts(h, &status, &resets, &stalls);
    }
    assert_int_equal(stalls, 1);
    double t0 = now_s();
    cv_httpd_stop(h);
    double stop = now_s() - t0;
    pthread_join(t, NULL);
    print_message("stop with a 60 s stall parked: %.3f s; the client saw code %d after %.3f s\n",
                  stop, (int)w.rc, w.took);
    assert_true(stop < 30.0); /* a hang would be 60 s */
    assert_true(w.took < 30.0);
    assert_true(no_answer(w.rc));
}

/* /bytes/N: every byte is 'a' + i % 26, across the blocks it is sent in */
struct pattern {
    size_t at, wrong;
};

static size_t check_pattern(char *p, size_t size, size_t n, void *user)
{
    struct pattern *pt = user;
    for (size_t i = 0; i < size * n; i++, pt->at++)
        pt->wrong += p[i] != (char)('a' + pt->at % 26);
    return size * n;
}

static void test_bytes_body(void **unused)
{
    (void)unused;
    static const unsigned long sizes[] = {1, 26, 32767, 32768, 32769, 100000, 1048576};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/bytes/%lu", port, sizes[i]);
        struct pattern pt = {0};
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, check_pattern);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &pt);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_off_t length = -1;
        curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
        curl_easy_cleanup(c);
        if (pt.at != sizes[i] || pt.wrong || length != (curl_off_t)sizes[i])
            fail_msg("/bytes/%lu: %zu bytes, %zu wrong, Content-Length %ld", sizes[i], pt.at,
                     pt.wrong, (long)length);
    }
}

/* Several requests on one handle: one connection, kept alive; a reply of /flaky closes it. */
static void test_keep_alive(void **unused)
{
    (void)unused;
    static const struct {
        const char *path;
        long connects; /* new connections this request made */
    } steps[] = {
        {"/get", 1},        {"/bytes/100", 0}, {"/delay/20", 0},
        {"/status/404", 0}, {"/nope", 0},      {"/flaky/ka?fail=1", 0}, /* answered, then closed */
        {"/get", 1},        {"/get", 0},
    };
    CURL *c = curl_easy_init();
    struct body b;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, steps[i].path);
        memset(&b, 0, sizeof b);
        curl_easy_setopt(c, CURLOPT_URL, url);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long connects = -1;
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
        if (connects != steps[i].connects)
            fail_msg("%s (request %zu) made %ld new connections, not %ld", steps[i].path, i + 1,
                     connects, steps[i].connects);
    }
    curl_easy_cleanup(c);
}

static int connect_to(uint16_t p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Reads until the server closes (10 s at most); returns the bytes read. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0;
    ssize_t k;
    while (got < cap - 1 && ((k = read(fd, buf + got, cap - 1 - got)) > 0 || errno == EINTR))
        got += k > 0 ? (size_t)k : 0;
    buf[got] = 0;
    return got;
}

/* Pipelined requests in one write: every one answered, in order, on the same connection. */
static void test_pipelining(void **unused)
{
    (void)unused;
    int fd = connect_to(port);
    const char reqs[] = "GET /get HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /delay/50 HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(write(fd, reqs, sizeof reqs - 1), (ssize_t)(sizeof reqs - 1));
    static char reply[8192];
    read_all(fd, reply, sizeof reply);
    close(fd);
    static const char *const want[] = {"HTTP/1.1 200",       "{\"url\": \"/get\"}", "HTTP/1.1 200",
                                       "{\"delay_ms\": 50}", "HTTP/1.1 200",        "abcde",
                                       "HTTP/1.1 404",       "{\"status\": 404}",   "HTTP/1.1 200",
                                       "{\"url\": \"/get\"}"};
    const char *at = reply;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *next = strstr(at, want[i]);
        if (!next)
            fail_msg("pipelined reply %zu: no '%s' after offset %ld in:\n%s", i / 2 + 1, want[i],
                     (long)(at - reply), reply);
        at = next + strlen(want[i]);
    }
    assert_null(strstr(at, "HTTP/1.1"));
}

/* A client that half-closes right after its requests (as `printf ... | nc -N` does) gets every
 * answer and then the end of the connection at once, not after the 120 s idle timeout. */
static void test_half_close(void **unused)
{
    (void)unused;
    static const struct {
        const char *reqs;
        int answers;
    } cases[] = {
        {"GET /get HTTP/1.1\r\nHost: x\r\n\r\n", 1},
        {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 1},
        {"HEAD /get HTTP/1.1\r\nHost: x\r\n\r\n", 1},
        {"GET /delay/30 HTTP/1.1\r\nHost: x\r\n\r\n", 1},
        {"GET /get HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n"
         "GET /delay/20 HTTP/1.1\r\nHost: x\r\n\r\n",
         3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = connect_to(port);
        size_t len = strlen(cases[i].reqs);
        assert_int_equal(write(fd, cases[i].reqs, len), (ssize_t)len);
        shutdown(fd, SHUT_WR);
        double t0 = now_s();
        static char reply[4096];
        read_all(fd, reply, sizeof reply);
        double took = now_s() - t0;
        close(fd);
        int answers = 0;
        for (const char *p = reply; (p = strstr(p, "HTTP/1.1 ")); p++)
            answers++;
        if (answers != cases[i].answers || took > 5.0)
            fail_msg("case %zu: %d answers of %d, closed after %.2f s", i, answers,
                     cases[i].answers, took);
    }
}

/* Keys in UTF-8 come back as their characters (\u escapes); bytes that are not UTF-8 as U+FFFD. */
static void test_json_utf8(void **unused)
{
    (void)unused;
    static const struct {
        const char *key, *json;
    } cases[] = {
        {"\xc3\xbc", "\\u00fc"}, /* ü */
        {"a\xe2\x82\xac"
         "b",
         "a\\u20acb"},                                        /* € */
        {"\xf0\x9f\x98\x80", "\\ud83d\\ude00"},               /* an emoji: a surrogate pair */
        {"\xff", "\\ufffd"},                                  /* never in UTF-8 */
        {"\xc3", "\\ufffd"},                                  /* cut short */
        {"\xc0\xaf", "\\ufffd\\ufffd"},                       /* overlong */
        {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},            /* a surrogate */
        {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* beyond U+10FFFF */
        {"q\"\\\x01\x7f", "q\\\"\\\\\\u0001\\u007f"},         /* escapes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], want[160], buf[512];
        snprintf(path, sizeof path, "/flaky/%s", cases[i].key);
        struct cv_httpd_query q = {.fail = "0"};
        struct cv_httpd_route rt;
        cv_httpd_route("GET", path, &q, &rt);
        assert_int_equal(rt.kind, CV_HTTPD_FLAKY);
        assert_int_equal(cv_httpd_json(&rt, 1, buf, sizeof buf), 200);
        snprintf(want, sizeof want, "{\"key\": \"%s\", \"attempt\": 1}", cases[i].json);
        if (strcmp(buf, want) != 0)
            fail_msg("key %zu: %s, not %s", i, buf, want);
    }
    /* and over the wire: "ü" %-encoded */
    struct body b;
    assert_int_equal(get("/flaky/%C3%BCber?fail=0", &b), 200);
    assert_string_equal(b.buf, "{\"key\": \"\\u00fcber\", \"attempt\": 1}");
}

/* The reasons given for a 400 spell their numbers out plainly (once "60000u ms"). */
static void test_messages(void **unused)
{
    (void)unused;
    static const char *const bad[] = {"/delay/x",        "/bytes/x",    "/status/x", "/stall/x",
                                      "/flaky/k?fail=x", "/status/150", "/nope"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct body b;
        long code = get(bad[i], &b);
        assert_true(code == 400 || code == 404);
        for (const char *p = b.buf; *p; p++)
            if (p[0] >= '0' && p[0] <= '9' && (p[1] == 'u' || p[1] == 'U'))
                fail_msg("%s: %s", bad[i], b.buf);
        assert_non_null(strstr(b.buf, "\"error\": \""));
    }
    struct body b;
    get("/stall/x", &b);
    assert_string_equal(b.buf, "{\"error\": \"/stall/MS takes 0 to 60000 ms\"}");
}

/* A server that cannot start says what failed: a busy port is a bind that failed. */
static void test_start_failure(void **unused)
{
    (void)unused;
    struct cv_httpd *h = NULL, *again = NULL;
    char *cause = NULL;
    assert_int_equal(cv_httpd_start(0, &h, NULL), CV_OK);
    uint16_t busy = cv_httpd_port(h);
    assert_int_equal(cv_httpd_start(busy, &again, &cause), CV_ERR_RUNTIME);
    assert_null(again);
    assert_non_null(cause);
    print_message("%s\n", cause);
    char want[96];
    snprintf(want, sizeof want, "cannot start the HTTP server on 127.0.0.1:%u: ", busy);
    assert_memory_equal(cause, want, strlen(want));
    assert_non_null(strstr(cause, "bind"));
    assert_non_null(strstr(cause, strerror(EADDRINUSE)));
    assert_null(strchr(cause, '\n'));
    free(cause);
    /* and from a server process of its own, the same reason */
    struct cv_httpd_proc p;
    cause = NULL;
    assert_int_equal(cv_httpd_spawn(busy, &p, &cause), CV_ERR_RUNTIME);
    assert_non_null(cause);
    assert_memory_equal(cause, want, strlen(want));
    assert_non_null(strstr(cause, strerror(EADDRINUSE)));
    free(cause);
    cv_httpd_stop(h);
}

/* A server process killed: seen gone by anyone at once, and reaped with its signal. */
static void test_server_death(void **unused)
{
    (void)unused;
    struct cv_httpd_proc p;
    assert_int_equal(cv_httpd_spawn(0, &p, NULL), CV_OK);
    pid_t spawned = p.pid, pid = 0;
    int status = 0;
    assert_false(cv_httpd_gone(&p));
    assert_false(cv_httpd_exited(&p, false, &pid, &status));
    long st;
    assert_int_equal(get_at(p.port, "/get", 10000, &st), CURLE_OK);
    assert_int_equal(kill(p.pid, SIGKILL), 0);
    /* a request to it now fails, and the server is seen gone by then */
    CURLcode rc = get_at(p.port, "/get", 10000, &st);
    assert_int_not_equal(rc, CURLE_OK);
    assert_true(cv_httpd_gone(&p));
    assert_true(cv_httpd_exited(&p, true, &pid, &status));
    assert_int_equal(pid, spawned);
    assert_int_equal(p.pid, -1);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_true(cv_httpd_gone(&p)); /* reaped */
    cv_httpd_reap(&p);              /* nothing left to do, and no harm */
    /* the server has a process group of its own: a signal to the caller's group misses it */
    assert_int_equal(cv_httpd_spawn(0, &p, NULL), CV_OK);
    assert_int_equal(getpgid(p.pid), p.pid);
    cv_httpd_reap(&p);
}

static struct cv_httpd_proc server;

static int start_server(void **unused)
{
    (void)unused;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *cause = NULL;
    if (cv_httpd_spawn(0, &server, &cause) != CV_OK) {
        fprintf(stderr, "%s\n", cause);
        return -1;
    }
    port = server.port;
    return 0;
}

static int stop_server(void **unused)
{
    (void)unused;
    cv_httpd_reap(&server);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),           cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_fault_routes),        cmocka_unit_test(test_route_faults),
        cmocka_unit_test(test_stall_capped),        cmocka_unit_test(test_parse_faults),
        cmocka_unit_test(test_fault_shares),        cmocka_unit_test(test_stop_ends_stalls),
        cmocka_unit_test(test_bytes_body),          cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_pipelining),          cmocka_unit_test(test_half_close),
        cmocka_unit_test(test_json_utf8),           cmocka_unit_test(test_messages),
        cmocka_unit_test(test_start_failure),       cmocka_unit_test(test_server_death),
        cmocka_unit_test(test_ten_thousand_delays),
    };
    int failed = cmocka_run_group_tests(tests, start_server, stop_server);
    return failed ? failed : skipped ? 77 : 0;
}

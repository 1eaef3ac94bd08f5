/*
 * The embedded test server on libmicrohttpd: one internal epoll thread serves every connection;
 * a delayed request is suspended and parked in a heap ordered by due time, and a timer thread
 * resumes it when it is due, so 10,000 waiting requests hold no thread each. A stall is parked
 * the same way, and resumed only to be closed without an answer. A reset is the handler saying
 * no: libmicrohttpd closes the connection at once, without an answer (it shuts the socket down
 * for writing first, so the client reads an end of file: curl's "Empty reply from server").
 *
 * Connections are kept alive (HTTP/1.1 keep-alive, and pipelined requests answered in order):
 * every request is answered on the handler's second call, once the request is whole, as
 * libmicrohttpd closes the connection after a reply queued on the first. Two kinds of reply close
 * it anyway: those of /flaky, and every reply while shares of faults are set. A client that sees
 * a reused connection closed before any answer takes it for an idle connection the server closed
 * and sends the request again, unseen (curl does, as HTTP allows for a GET): a reset or a stall
 * would then be counted twice by the server and once by the client. So a request that may fail
 * comes, as far as the server can see to it, on a fresh connection.
 */
#include "concviz/httpd.h"
#include "concviz/clock.h"
#include "concviz/concviz.h"
#include "core/heap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLAKY_KEYS      4096
/* Connections at once; each holds a socket. Enough for c10k's 10,000 and its retries. */
#define MAX_CONNECTIONS 19000u
/* Descriptors besides the connections and what the process already has open: the listening
 * socket, epoll, MHD's inter-thread pipe, and a margin. */
#define FD_RESERVE      16u
#define TEXT_(x)        #x
#define TEXT(x)         TEXT_(x)
/* why a request is refused (400) */
#define DELAY_USAGE     "/delay/MS takes 0 to " TEXT(CV_HTTPD_MAX_DELAY_MS) " ms"
#define BYTES_USAGE     "/bytes/N takes 0 to " TEXT(CV_HTTPD_MAX_BYTES)
#define FLAKY_USAGE                                                                             \
    "/flaky/KEY?fail=N&mode=M&stall=MS: a key under " TEXT(                                     \
        CV_HTTPD_FLAKY_KEY_MAX) " bytes, N a whole number, M 500 to 599, reset or stall (or a " \
                                "list), MS 0 to " TEXT(CV_STALL_MAX_MS)
#define STALL_USAGE "/stall/MS takes 0 to " TEXT(CV_STALL_MAX_MS) " ms"
#define STATUS_USAGE \
    "/status/CODE takes 200 to 599 (a 1xx is not a final answer, and the server sends no other)"
/* /bytes/N: the body is made as it is sent, this many bytes at a time per connection */
#define BYTES_BLOCK 32768

/* Each connection's memory pool: the request's headers and the reply's. libmicrohttpd's default,
 * 32 KB, of which a connection touched about 21 KB: 10,000 connections held 213 MB; with 4 KB,
 * 54 MB. Requests with more than about 3.5 KB of headers get 431 (test_serve). */
#define CONNECTION_MEMORY 4096

/* Per-request state (libmicrohttpd's con_cls). */
struct req {
    struct MHD_Connection *conn;
    uint64_t due_ns; /* delayed requests: when to answer */
    bool parked;     /* suspended, waiting in the heap */
    bool resumed;
    bool stall; /* parked only to be closed without an answer */
    bool close; /* the reply closes the connection (see the top of the file) */
    int share;  /* the fault the shares gave this request, or 0 */
    unsigned long share_stall_ms;
};

struct flaky {
    char key[CV_HTTPD_FLAKY_KEY_MAX];
    uint32_t seen;
};

struct cv_httpd {
    struct MHD_Daemon *daemon;
    uint16_t port;
    _Atomic uint64_t requests;          /* completed */
    _Atomic unsigned long max_delay_ms; /* the longest a /delay request is held */

    pthread_t timer;
    pthread_mutex_t mu;  /* protects the heap and `stopping` */
    pthread_cond_t wake; /* a new earliest delay, or stopping */
    struct req **heap;   /* parked requests, earliest due first */
    size_t n, cap;
    bool stopping;

    pthread_mutex_t flaky_mu; /* protects flaky, nflaky, faults and credit */
    struct flaky *flaky;
    size_t nflaky;
    struct cv_httpd_faults faults;
    uint32_t credit[CV_FAULT_MAX_MODES]; /* parts per million */
    _Atomic uint64_t fault_status, fault_resets, fault_stalls;
    struct cv_httpd_tally *_Atomic tally; /* a copy of the counts for the parent, or NULL */

    pthread_mutex_t log_mu; /* protects started and why */
    bool started;           /* libmicrohttpd's messages after its start are not kept */
    char why[160];          /* its last message while starting: why it could not */
};

/* Heap of parked requests, earliest due first (mu held) */

#define REQ_DUE(ctx, r) ((r)->due_ns)
CV_HEAP_DEFINE(parked, struct req *, void *, REQ_DUE, CV_HEAP_UNTRACKED)

static void heap_push(struct cv_httpd *h, struct req *r)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->heap = cv_xrealloc(h->heap, h->cap * sizeof *h->heap);
    }
    h->heap[h->n] = r;
    parked_up(h->heap, h->n, NULL);
    h->n++;
}

static struct req *heap_pop(struct cv_httpd *h)
{
    struct req *top = h->heap[0];
    if (--h->n) {
        h->heap[0] = h->heap[h->n];
        parked_down(h->heap, h->n, 0, NULL);
    }
    return top;
}

static void *timer_main(void *arg)
{
    struct cv_httpd *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        if (h->n == 0 && h->stopping)
            break;
        if (h->n == 0) {
            pthread_cond_wait(&h->wake, &h->mu);
            continue;
        }
        uint64_t due = h->heap[0]->due_ns;
        if (!h->stopping && due > cv_clock_mono_ns()) {
            struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
            pthread_cond_timedwait(&h->wake, &h->mu, &ts);
            continue;
        }
        struct req *r = heap_pop(h);
        r->parked = false;
        r->resumed = true;
        /* Resume outside our lock: libmicrohttpd takes its own. */
        pthread_mutex_unlock(&h->mu);
        MHD_resume_connection(r->conn);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Responses */

/* A client that half-closed right after its request (`printf ... | nc -N`, the fuzz target):
 * libmicrohttpd 0.9.75 takes a read shorter than its buffer for "nothing more to read" and, its
 * epoll being edge-triggered, is never told of the end of file that came with the request; the
 * kept-alive connection then waits for its 120 s timeout once the reply is sent. When the end is
 * already there, the connection is suspended and resumed at once: a resumed connection is read
 * again, so once its reply (and any request still in its buffer) is done, libmicrohttpd reads the
 * end of file and closes, as it does when the end comes later. */
static void notice_eof(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    char b;
    if (ci && recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
        MHD_suspend_connection(c);
        MHD_resume_connection(c);
    }
}

/* Queues res (and lets go of it), closing the connection after it when close. A request that
 * was parked (a delay) has been resumed, and so is read again anyway: no need to look for an end
 * of file (notice_eof). */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned code, const char *type,
                             struct MHD_Response *res, bool close, bool resumed)
{
    if (!res)
        return MHD_NO;
    MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (close)
        MHD_add_response_header(res, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(c, code, res);
    MHD_destroy_response(res);
    if (r == MHD_YES && !close && !resumed)
        notice_eof(c);
    return r;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, const struct req *r, unsigned code,
                                  const char *body)
{
    struct MHD_Response *res =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    return queue(c, code, "application/json", res, r->close, r->resumed);
}

/* The alphabet over and over, so that any stretch of /bytes/N is one copy from it. */
static char alphabet[BYTES_BLOCK + 26];
static pthread_once_t alphabet_once = PTHREAD_ONCE_INIT;

static void alphabet_fill(void)
{
    for (size_t i = 0; i < sizeof alphabet; i++)
        alphabet[i] = (char)('a' + i % 26);
}

/* libmicrohttpd asks for the body of /bytes/N a block at a time: byte i is 'a' + i % 26, made as
 * it is sent, so a slow client of 16 MiB holds one block, not 16 MiB. cls is N. */
static ssize_t bytes_block(void *cls, uint64_t pos, char *buf, size_t max)
{
    uint64_t n = (uint64_t)(uintptr_t)cls;
    if (pos >= n)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t k = n - pos < max ? (size_t)(n - pos) : max;
    if (k > BYTES_BLOCK)
        k = BYTES_BLOCK;
    memcpy(buf, alphabet + pos % 26, k);
    return (ssize_t)k;
}

/* Parses a whole decimal number in [lo, hi] from s (up to a '/' or the end). */
static bool number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (!*s || *s == '/')
        return false;
    unsigned long v = 0;
    for (; *s && *s != '/'; s++) {
        if (*s < '0' || *s > '9' || v > hi)
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static uint32_t flaky_count(struct cv_httpd *h, const char *key)
{
    pthread_mutex_lock(&h->flaky_mu);
    struct flaky *f = NULL;
    for (size_t i = 0; i < h->nflaky && !f; i++)
        if (!strcmp(h->flaky[i].key, key))
            f = &h->flaky[i];
    if (!f) {
        /* bounded: when full, the oldest key is forgotten */
        if (h->nflaky == FLAKY_KEYS) {
            memmove(h->flaky, h->flaky + 1, (FLAKY_KEYS - 1) * sizeof *h->flaky);
            h->nflaky--;
        }
        f = &h->flaky[h->nflaky++];
        snprintf(f->key, sizeof f->key, "%s", key);
        f->seen = 0;
    }
    uint32_t n = f->seen++;
    pthread_mutex_unlock(&h->flaky_mu);
    return n;
}

/* Suspends the request until `ms` from now (a stall: then closes it), `ms` cut to the server's
 * max_delay_ms. False when the server is stopping: the caller answers (or closes) at once, as
 * the timer thread may be gone. */
static bool park(struct cv_httpd *h, struct MHD_Connection *c, struct req *r, unsigned long ms,
                 bool stall)
{
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        return false;
    }
    unsigned long cap = atomic_load(&h->max_delay_ms);
    r->due_ns = cv_clock_mono_ns() + (ms < cap ? ms : cap) * 1000000u;
    r->parked = true;
    r->stall = stall;
    MHD_suspend_connection(c);
    heap_push(h, r);
    if (h->heap[0] == r)
        pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    return true;
}

/* Counts a fault served in `mode`, also in the parent's copy when there is one. */
static void count_fault(struct cv_httpd *h, int mode)
{
    struct cv_httpd_tally *t = atomic_load_explicit(&h->tally, memory_order_acquire);
    if (mode == CV_FAULT_RESET) {
        atomic_fetch_add(&h->fault_resets, 1);
        if (t)
            atomic_fetch_add(&t->resets, 1);
    } else if (mode == CV_FAULT_STALL) {
        atomic_fetch_add(&h->fault_stalls, 1);
        if (t)
            atomic_fetch_add(&t->stalls, 1);
    } else {
        atomic_fetch_add(&h->fault_status, 1);
        if (t)
            atomic_fetch_add(&t->status, 1);
    }
}

/* Fails the request in `mode`. */
static enum MHD_Result fault(struct cv_httpd *h, struct MHD_Connection *c, struct req *r, int mode,
                             unsigned long stall_ms)
{
    count_fault(h, mode);
    if (mode == CV_FAULT_RESET)
        return MHD_NO; /* closes the connection */
    if (mode == CV_FAULT_STALL)
        return park(h, c, r, stall_ms, true) ? MHD_YES : MHD_NO;
    char body[32];
    snprintf(body, sizeof body, "{\"fault\": %d}", mode);
    return reply_json(c, r, (unsigned)mode, body);
}

int cv_httpd_fault_mode(const char *name)
{
    if (!strcmp(name, "reset"))
        return CV_FAULT_RESET;
    if (!strcmp(name, "stall"))
        return CV_FAULT_STALL;
    unsigned long v;
    if (number(name, 500, 599, &v) && !strchr(name, '/'))
        return (int)v;
    return 0;
}

unsigned cv_httpd_fault_list(const char *text, int *modes)
{
    unsigned n = 0;
    char buf[128];
    if (strlen(text) >= sizeof buf)
        return 0;
    snprintf(buf, sizeof buf, "%s", text);
    char *rest = buf;
    for (char *t; (t = strsep(&rest, ","));) {
        int m = cv_httpd_fault_mode(t);
        if (!m || n == CV_FAULT_MAX_MODES)
            return 0;
        modes[n++] = m;
    }
    return n;
}

int cv_httpd_parse_faults(const char *spec, struct cv_httpd_faults *out, char **cause)
{
    memset(out, 0, sizeof *out);
    out->stall_ms = CV_STALL_DEFAULT;
    char *copy = cv_strdup(spec), *rest = copy;
    uint64_t total = 0;
    int rc = CV_OK;
    for (char *t; rc == CV_OK && *spec && (t = strsep(&rest, ","));) {
        char *colon = strchr(t, ':'), *end = NULL;
        int mode = 0;
        double share = 0;
        if (colon) {
            *colon = 0;
            mode = cv_httpd_fault_mode(t);
            share = strtod(colon + 1, &end);
        }
        if (!colon || !mode || !colon[1] || *end || !(share >= 1e-6 && share <= 1)) {
            if (colon)
                *colon = ':';
            if (cause)
                *cause = cv_strdup_printf("--fault: '%s' is not MODE:SHARE (MODE 500 to 599, "
                                          "reset or stall; SHARE from 0.000001 to 1)",
                                          t);
            rc = CV_ERR_USAGE;
        } else if (out->n == CV_FAULT_MAX_MODES) {
            if (cause)
                *cause = cv_strdup_printf("--fault: at most %d modes", CV_FAULT_MAX_MODES);
            rc = CV_ERR_USAGE;
        } else {
            out->mode[out->n] = mode;
            out->ppm[out->n] = (uint32_t)(share * 1e6 + 0.5);
            total += out->ppm[out->n++];
        }
    }
    if (rc == CV_OK && out->n == 0) {
        if (cause)
            *cause = cv_strdup("--fault needs MODE:SHARE[,MODE:SHARE...], e.g. 500:0.2,reset:0.1");
        rc = CV_ERR_USAGE;
    }
    if (rc == CV_OK && total > 1000000) {
        if (cause)
            *cause = cv_strdup_printf("--fault: the shares add up to %.6g, more than 1",
                                      (double)total / 1e6);
        rc = CV_ERR_USAGE;
    }
    free(copy);
    return rc;
}

void cv_httpd_set_faults(struct cv_httpd *h, const struct cv_httpd_faults *f)
{
    pthread_mutex_lock(&h->flaky_mu);
    h->faults = *f;
    if (h->faults.n > CV_FAULT_MAX_MODES)
        h->faults.n = CV_FAULT_MAX_MODES;
    if (h->faults.stall_ms > CV_STALL_MAX_MS)
        h->faults.stall_ms = CV_STALL_MAX_MS;
    memset(h->credit, 0, sizeof h->credit);
    pthread_mutex_unlock(&h->flaky_mu);
}

void cv_httpd_fault_counts(struct cv_httpd *h, uint64_t *status, uint64_t *resets, uint64_t *stalls)
{
    *status = atomic_load(&h->fault_status);
    *resets = atomic_load(&h->fault_resets);
    *stalls = atomic_load(&h->fault_stalls);
}

/* The fault this request gets from the shares, or 0; *stall_ms says how long a stall lasts,
 * *any whether shares are set at all. */
static int share_fault(struct cv_httpd *h, unsigned long *stall_ms, bool *any)
{
    int mode = 0;
    pthread_mutex_lock(&h->flaky_mu);
    *any = h->faults.n > 0;
    for (unsigned i = 0; i < h->faults.n; i++)
        h->credit[i] += h->faults.ppm[i];
    for (unsigned i = 0; i < h->faults.n && !mode; i++) {
        if (h->credit[i] >= 1000000) {
            h->credit[i] -= 1000000;
            mode = h->faults.mode[i];
        }
    }
    *stall_ms = h->faults.stall_ms;
    pthread_mutex_unlock(&h->flaky_mu);
    return mode;
}

static void bad(struct cv_httpd_route *rt, unsigned status, const char *error)
{
    rt->kind = CV_HTTPD_BAD;
    rt->status = status;
    rt->error = error;
}

void cv_httpd_route(const char *method, const char *url, const struct cv_httpd_query *q,
                    struct cv_httpd_route *rt)
{
    static const struct cv_httpd_query none;
    if (!q)
        q = &none;
    *rt = (struct cv_httpd_route){.kind = CV_HTTPD_GET, .status = MHD_HTTP_OK};
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        bad(rt, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
        return;
    }
    if (!strcmp(url, "/get"))
        return;
    if (!strncmp(url, "/delay/", 7)) {
        rt->kind = CV_HTTPD_DELAY;
        if (!number(url + 7, 0, CV_HTTPD_MAX_DELAY_MS, &rt->n) || strchr(url + 7, '/'))
            bad(rt, MHD_HTTP_BAD_REQUEST, DELAY_USAGE);
        return;
    }
    if (!strcmp(url, "/reset")) {
        rt->kind = CV_HTTPD_RESET;
        return;
    }
    if (!strncmp(url, "/stall/", 7)) {
        rt->kind = CV_HTTPD_STALL;
        if (!number(url + 7, 0, CV_STALL_MAX_MS, &rt->n) || strchr(url + 7, '/'))
            bad(rt, MHD_HTTP_BAD_REQUEST, STALL_USAGE);
        return;
    }
    if (!strncmp(url, "/bytes/", 7)) {
        rt->kind = CV_HTTPD_BYTES;
        if (!number(url + 7, 0, CV_HTTPD_MAX_BYTES, &rt->n) || strchr(url + 7, '/'))
            bad(rt, MHD_HTTP_BAD_REQUEST, BYTES_USAGE);
        return;
    }
    if (!strncmp(url, "/status/", 8)) {
        rt->kind = CV_HTTPD_STATUS;
        if (!number(url + 8, 200, 599, &rt->n) || strchr(url + 8, '/'))
            bad(rt, MHD_HTTP_BAD_REQUEST, STATUS_USAGE);
        else
            rt->status = (unsigned)rt->n;
        return;
    }
    if (!strncmp(url, "/flaky/", 7)) {
        rt->kind = CV_HTTPD_FLAKY;
        rt->key = url + 7;
        rt->n = 1; /* fail defaults to 1, failing with 503 */
        rt->modes[0] = MHD_HTTP_SERVICE_UNAVAILABLE;
        rt->nmodes = q->mode ? cv_httpd_fault_list(q->mode, rt->modes) : 1;
        rt->stall_ms = CV_STALL_DEFAULT;
        if (!*rt->key || strlen(rt->key) >= CV_HTTPD_FLAKY_KEY_MAX || strchr(rt->key, '/') ||
            (q->fail && !number(q->fail, 0, 1000000, &rt->n)) || !rt->nmodes ||
            (q->stall && !number(q->stall, 0, CV_STALL_MAX_MS, &rt->stall_ms)))
            bad(rt, MHD_HTTP_BAD_REQUEST, FLAKY_USAGE);
        return;
    }
    bad(rt, MHD_HTTP_NOT_FOUND,
        "unknown path; try /get, /delay/MS, /bytes/N, /status/CODE, /flaky/KEY?fail=N, /reset, "
        "/stall/MS");
}

/* The code point of the UTF-8 sequence at s (from a lead byte 0xc2 to 0xf4), its length in *len;
 * -1 when it is not one: cut short, overlong, a surrogate or beyond U+10FFFF. */
static long utf8_point(const unsigned char *s, unsigned *len)
{
    unsigned c = s[0], n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
    if (!n || c > 0xf4)
        return -1;
    long cp = (long)(c & (0x3fu >> n));
    for (unsigned i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* a NUL ends the text here too */
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *len = n + 1;
    return cp;
}

/* s as the inside of a JSON string, in ASCII: quotes and backslashes escaped, every character
 * outside printable ASCII as \uXXXX (beyond U+FFFF a surrogate pair), so "ü" (C3 BC in the URL)
 * is \u00fc. A key is whatever bytes the URL held: a byte that is not part of valid UTF-8 is
 * U+FFFD, the replacement character, and the text stays valid JSON. */
static void json_text(char *out, size_t n, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t k = 0;
    while (*s && k + 13 < n) {
        unsigned len = 1;
        long cp = *s;
        if (cp >= 0x80 && (cp = utf8_point(s, &len)) < 0) {
            cp = 0xfffd;
            len = 1;
        }
        if (cp == '"' || cp == '\\') {
            out[k++] = '\\';
            out[k++] = (char)cp;
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            k += (size_t)snprintf(out + k, n - k, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
                                  0xdc00 + (cp & 0x3ff));
        } else if (cp < 0x20 || cp > 0x7e) {
            k += (size_t)snprintf(out + k, n - k, "\\u%04lx", cp);
        } else {
            out[k++] = (char)cp;
        }
        s += len;
    }
    out[k] = 0;
}

int cv_httpd_flaky_mode(const struct cv_httpd_route *rt, uint32_t attempt)
{
    if (rt->kind != CV_HTTPD_FLAKY || attempt == 0 || attempt > rt->n || rt->nmodes == 0)
        return 0;
    return rt->modes[(attempt - 1) % rt->nmodes];
}

unsigned cv_httpd_json(const struct cv_httpd_route *rt, uint32_t attempt, char *buf, size_t size)
{
    unsigned status = rt->status;
    char key[6 * CV_HTTPD_FLAKY_KEY_MAX + 14]; /* 6 per byte at most, and json_text's margin */
    int n = 0;
    switch (rt->kind) {
    case CV_HTTPD_GET:
        n = snprintf(buf, size, "{\"url\": \"/get\"}");
        break;
    case CV_HTTPD_DELAY:
        n = snprintf(buf, size, "{\"delay_ms\": %lu}", rt->n);
        break;
    case CV_HTTPD_BYTES:
        n = snprintf(buf, size, "{\"bytes\": %lu}", rt->n);
        break;
    case CV_HTTPD_STATUS:
        n = snprintf(buf, size, "{\"status\": %lu}", rt->n);
        break;
    case CV_HTTPD_FLAKY:
        json_text(key, sizeof key, rt->key);
        if (attempt <= rt->n) {
            int mode = cv_httpd_flaky_mode(rt, attempt);
            status = mode > 0 ? (unsigned)mode : MHD_HTTP_SERVICE_UNAVAILABLE;
            n = snprintf(buf, size, "{\"key\": \"%s\", \"attempt\": %u, \"fail\": %lu}", key,
                         attempt, rt->n);
        } else {
            n = snprintf(buf, size, "{\"key\": \"%s\", \"attempt\": %u}", key, attempt);
        }
        break;
    case CV_HTTPD_RESET:
        n = snprintf(buf, size, "{\"fault\": \"reset\"}");
        break;
    case CV_HTTPD_STALL:
        n = snprintf(buf, size, "{\"stall_ms\": %lu}", rt->n);
        break;
    case CV_HTTPD_BAD:
        n = snprintf(buf, size, "{\"error\": \"%s\"}", rt->error);
        break;
    }
    /* too long (never in 512 bytes): an empty object rather than half of one */
    if (n < 0 || (size_t)n >= size)
        snprintf(buf, size, "%s", size >= 3 ? "{}" : "");
    return status;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    struct cv_httpd *h = cls;
    struct req *r = *con_cls;
    if (!r) {
        /* First call: headers are in. Keep state for the request's life, and answer on a later
         * call: a reply queued now would close the connection (see the top of the file). */
        r = cv_xcalloc(1, sizeof *r);
        r->conn = c;
        *con_cls = r;
        r->share = share_fault(h, &r->share_stall_ms, &r->close);
        return MHD_YES;
    }
    if (r->stall) /* resumed at the stall's end (or the server's stop): no answer */
        return MHD_NO;
    if (*upload_size) {
        *upload_size = 0; /* bodies are ignored */
        return MHD_YES;
    }
    if (r->share) {
        int mode = r->share;
        r->share = 0;
        return fault(h, c, r, mode, r->share_stall_ms);
    }
    struct cv_httpd_query q = {
        .fail = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fail"),
        .mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode"),
        .stall = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "stall"),
    };
    struct cv_httpd_route rt;
    cv_httpd_route(method, url, &q, &rt);
    uint32_t attempt = 0;
    switch (rt.kind) {
    case CV_HTTPD_DELAY:
        if (!r->resumed && rt.n > 0 && (r->parked || park(h, c, r, rt.n, false)))
            return MHD_YES;
        break;
    case CV_HTTPD_RESET:
        return fault(h, c, r, CV_FAULT_RESET, 0);
    case CV_HTTPD_STALL:
        return fault(h, c, r, CV_FAULT_STALL, rt.n);
    case CV_HTTPD_BYTES: {
        pthread_once(&alphabet_once, alphabet_fill);
        struct MHD_Response *res = MHD_create_response_from_callback(rt.n, BYTES_BLOCK, bytes_block,
                                                                     (void *)(uintptr_t)rt.n, NULL);
        return queue(c, MHD_HTTP_OK, "application/octet-stream", res, r->close, r->resumed);
    }
    case CV_HTTPD_FLAKY: {
        r->close = true; /* the key's next request may reset: on a fresh connection */
        attempt = flaky_count(h, rt.key) + 1;
        int mode = cv_httpd_flaky_mode(&rt, attempt);
        if (mode < 0)
            return fault(h, c, r, mode, rt.stall_ms);
        if (mode > 0)
            count_fault(h, mode);
        break;
    }
    default:
        break;
    }
    char buf[512];
    unsigned status = cv_httpd_json(&rt, attempt, buf, sizeof buf);
    return reply_json(c, r, status, buf);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode why)
{
    (void)c;
    (void)why;
    struct cv_httpd *h = cls;
    if (*con_cls)
        atomic_fetch_add(&h->requests, 1); /* answered (or abandoned by the client) */
    free(*con_cls);
    *con_cls = NULL;
}

/* How many connections this process can hold at once. A connection is a descriptor, so the
 * soft open-file limit is raised (within the hard one) to fit MAX_CONNECTIONS; where the hard
 * limit is lower, the connection limit is lowered to fit it instead, so that libmicrohttpd stops
 * accepting at its limit rather than at an accept() failing with EMFILE. Without the raise,
 * `concviz serve` from a shell with the usual 1,024 held about 1,000 connections while set up
 * for 19,000: the others waited in the listen backlog and, past it, on SYN retries. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    /* The reserve counts what is open now: a flat 64 held 448 connections under a limit of 512,
     * fewer than the 486 the run's own advice had promised, so a round of c10k took two. */
    rlim_t reserve = cv_open_descriptors() + FD_RESERVE;
    rlim_t want = MAX_CONNECTIONS + reserve;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return MAX_CONNECTIONS;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
        return MAX_CONNECTIONS;
    return rl.rlim_cur > 2 * reserve ? (unsigned)(rl.rlim_cur - reserve)
                                     : (unsigned)(rl.rlim_cur / 2);
}

/* libmicrohttpd's error log: while it starts, its last message is kept, which says what failed
 * (a socket, a bind, epoll, a thread), for the one line that says why the server did not start. */
__attribute__((format(printf, 2, 0))) static void log_message(void *cls, const char *fmt,
                                                              va_list ap)
{
    struct cv_httpd *h = cls;
    pthread_mutex_lock(&h->log_mu);
    if (!h->started)
        vsnprintf(h->why, sizeof h->why, fmt, ap);
    pthread_mutex_unlock(&h->log_mu);
}

/* Why the server did not start, from libmicrohttpd's message: "cannot start the HTTP server on
 * 127.0.0.1:8080: failed to bind to port 8080: Address already in use". */
static char *start_failure(struct cv_httpd *h, uint16_t port, int err)
{
    char why[sizeof h->why + 96], where[32] = "";
    pthread_mutex_lock(&h->log_mu);
    snprintf(why, sizeof why, "%s", h->why);
    pthread_mutex_unlock(&h->log_mu);
    size_t n = strlen(why);
    while (n && (why[n - 1] == '\n' || why[n - 1] == '.' || why[n - 1] == ' '))
        why[--n] = 0;
    for (size_t i = 0; i < n; i++) /* one line, whatever the library wrote */
        if (why[i] == '\n' || why[i] == '\r' || why[i] == '\t')
            why[i] = ' ';
    if (why[0] >= 'A' && why[0] <= 'Z' && !(why[1] >= 'A' && why[1] <= 'Z'))
        why[0] = (char)(why[0] - 'A' + 'a');
    if (!n)
        snprintf(why, sizeof why, "%s", err ? strerror(err) : "libmicrohttpd gave no reason");
    struct rlimit rl;
    if ((strstr(why, "open files") || err == EMFILE) && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY)
        snprintf(why + strlen(why), sizeof why - strlen(why), " (the open-file limit is %llu)",
                 (unsigned long long)rl.rlim_cur);
    if (port)
        snprintf(where, sizeof where, ":%u", port);
    return cv_strdup_printf("cannot start the HTTP server on 127.0.0.1%s: %s", where, why);
}

static void free_server(struct cv_httpd *h)
{
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->flaky_mu);
    pthread_mutex_destroy(&h->log_mu);
    pthread_cond_destroy(&h->wake);
    free(h->heap);
    free(h->flaky);
    free(h);
}

int cv_httpd_start(uint16_t port, struct cv_httpd **out, char **cause)
{
    *out = NULL;
    struct cv_httpd *h = cv_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->flaky_mu, NULL);
    pthread_mutex_init(&h->log_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    h->flaky = cv_xcalloc(FLAKY_KEYS, sizeof *h->flaky);
    atomic_init(&h->max_delay_ms, CV_HTTPD_MAX_DELAY_MS);

    unsigned limit = connection_limit();
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    errno = 0;
    h->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, port, NULL,
        NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, log_message, h, MHD_OPTION_END);
    if (!h->daemon) {
        int err = errno;
        if (cause)
            *cause = start_failure(h, port, err);
        free_server(h);
        return CV_ERR_RUNTIME;
    }
    pthread_mutex_lock(&h->log_mu);
    h->started = true;
    pthread_mutex_unlock(&h->log_mu);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    int err = pthread_create(&h->timer, NULL, timer_main, h);
    if (err) {
        MHD_stop_daemon(h->daemon);
        free_server(h);
        if (cause)
            *cause =
                cv_strdup_printf("cannot start the HTTP server's timer thread: %s", strerror(err));
        return CV_ERR_RUNTIME;
    }
    *out = h;
    return CV_OK;
}

uint16_t cv_httpd_port(const struct cv_httpd *h)
{
    return h->port;
}

void cv_httpd_set_max_delay(struct cv_httpd *h, unsigned long ms)
{
    atomic_store(&h->max_delay_ms, ms);
}

uint64_t cv_httpd_requests(const struct cv_httpd *h)
{
    return atomic_load(&((struct cv_httpd *)h)->requests);
}

void cv_httpd_stop(struct cv_httpd *h)
{
    if (!h)
        return;
    /* Answer every parked request now (and end every stall): a suspended connection would block
     * the shutdown. */
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->timer, NULL);
    MHD_stop_daemon(h->daemon);
    free_server(h);
}

/* The server in its own process */

static void unshare_tally(struct cv_httpd_proc *p)
{
    if (p->tally)
        munmap(p->tally, sizeof *p->tally);
    p->tally = NULL;
}

int cv_httpd_spawn(uint16_t port, struct cv_httpd_proc *out, char **cause)
{
    int ready[2], control[2];
    out->pid = out->spawned = -1;
    out->control = -1;
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(control, O_CLOEXEC) != 0) {
        if (cause)
            *cause = cv_strdup_printf("cannot start the HTTP server: %s", strerror(errno));
        return CV_ERR_RUNTIME;
    }
    /* the fault counts, shared with the child (zeroed by mmap); a run goes on without them */
    out->tally =
        mmap(NULL, sizeof *out->tally, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (out->tally == MAP_FAILED)
        out->tally = NULL;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, "cv:httpd");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        /* A process group of its own: a signal to the run's group (a terminal's Ctrl-C or
         * hang-up, `timeout`, kill -- -PGID) is the run's to handle, and the run then stops the
         * server; any other death of the server is an error of the run (cv_httpd_exited). */
        setpgid(0, 0);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(ready[0]);
        close(control[1]);
        struct cv_httpd *h = NULL;
        char *why = NULL;
        uint16_t got = 0;
        if (cv_httpd_start(port, &h, &why) == CV_OK) {
            got = cv_httpd_port(h);
            atomic_store_explicit(&h->tally, out->tally, memory_order_release);
        }
        if (write(ready[1], &got, sizeof got) != (ssize_t)sizeof got)
            _exit(1);
        if (!h) { /* the reason follows the 0 */
            if (why && write(ready[1], why, strlen(why)) < 0)
                _exit(1);
            _exit(1);
        }
        close(ready[1]);
        /* Serve until the parent closes the control pipe (or dies). */
        char b;
        while (read(control[0], &b, 1) < 0 && errno == EINTR)
            ;
        cv_httpd_stop(h);
        _exit(0);
    }
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(ready[1]);
    close(control[0]);
    if (pid < 0) {
        close(ready[0]);
        close(control[1]);
        unshare_tally(out);
        if (cause)
            *cause = cv_strdup_printf("cannot start the HTTP server process: %s", strerror(err));
        return CV_ERR_RUNTIME;
    }
    uint16_t got = 0;
    ssize_t n;
    while ((n = read(ready[0], &got, sizeof got)) < 0 && errno == EINTR)
        ;
    char why[256] = "";
    size_t have = 0;
    for (ssize_t k = 1; n == (ssize_t)sizeof got && got == 0 && k != 0 && have < sizeof why - 1;) {
        k = read(ready[0], why + have, sizeof why - 1 - have);
        if (k < 0 && errno != EINTR)
            break;
        have += k > 0 ? (size_t)k : 0;
    }
    why[have] = 0;
    close(ready[0]);
    out->pid = out->spawned = pid;
    out->control = control[1];
    if (n != (ssize_t)sizeof got || got == 0) {
        cv_httpd_reap(out);
        if (cause)
            *cause = *why ? cv_strdup(why)
                          : cv_strdup_printf("cannot start the HTTP server process on 127.0.0.1:%u "
                                             "(it ended before it said why)",
                                             port);
        return CV_ERR_RUNTIME;
    }
    out->port = got;
    return CV_OK;
}

void cv_httpd_reap(struct cv_httpd_proc *p)
{
    if (p->control >= 0) {
        close(p->control);
        p->control = -1;
    }
    if (p->pid > 0) {
        /* It answers what is parked and exits; a stuck one is killed after 2 s. */
        for (int i = 0; i < 200; i++) {
            if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
                p->pid = -1;
                return;
            }
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = -1;
    }
    unshare_tally(p);
}

bool cv_httpd_gone(const struct cv_httpd_proc *p)
{
    /* the pid as spawned: `pid` is the parent's to clear when it reaps the server, and other
     * threads may be asking meanwhile */
    pid_t pid = p->spawned;
    if (pid <= 0)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    /* "pid (comm) state ppid pgrp session tty tpgid flags ...": comm may hold anything, so the
     * fields are counted from its closing parenthesis */
    char *at = strrchr(buf, ')'), state = 0;
    unsigned long flags = 0;
    if (!at || sscanf(at + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
        /* no such process (reaped, even between the open and the read), or no /proc to read */
        return kill(pid, 0) != 0 && errno == ESRCH;
    return state == 'Z' || state == 'X' || (flags & 0x4); /* PF_EXITING */
}

bool cv_httpd_exited(struct cv_httpd_proc *p, bool wait_exiting, pid_t *pid, int *status)
{
    if (p->pid <= 0)
        return false;
    pid_t r = waitpid(p->pid, status, WNOHANG);
    for (int i = 0; r == 0 && wait_exiting && i < 2000 && cv_httpd_gone(p); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        r = waitpid(p->pid, status, WNOHANG);
    }
    if (r != p->pid)
        return false;
    *pid = p->pid;
    p->pid = -1;
    return true;
}

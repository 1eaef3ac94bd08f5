/*
 * The embedded test server on libmicrohttpd: one internal epoll thread serves every connection;
 * a delayed request is suspended and parked in a heap ordered by due time, and a timer thread
 * resumes it when it is due, so 10,000 waiting requests hold no thread each. A stall is parked
 * the same way, and resumed only to be closed without an answer. A reset is the handler saying
 * no: libmicrohttpd closes the connection at once, without an answer (it shuts the socket down
 * for writing first, so the client reads an end of file: curl's "Empty reply from server").
 */
#include "concviz/httpd.h"
#include "concviz/clock.h"
#include "concviz/concviz.h"

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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_DELAY_MS  60000
#define MAX_BYTES     (16u << 20)
#define FLAKY_KEYS    4096
#define FLAKY_KEY_MAX 64

/* Per-request state (libmicrohttpd's con_cls). */
struct req {
    struct MHD_Connection *conn;
    uint64_t due_ns; /* delayed requests: when to answer */
    bool parked;     /* suspended, waiting in the heap */
    bool resumed;
    bool stall; /* parked only to be closed without an answer */
};

struct flaky {
    char key[FLAKY_KEY_MAX];
    uint32_t seen;
};

struct cv_httpd {
    struct MHD_Daemon *daemon;
    uint16_t port;
    _Atomic uint64_t requests; /* completed */

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
};

/* Heap of parked requests (mu held) */

static void heap_push(struct cv_httpd *h, struct req *r)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->heap = cv_xrealloc(h->heap, h->cap * sizeof *h->heap);
    }
    size_t k = h->n++;
    while (k > 0 && h->heap[(k - 1) / 2]->due_ns > r->due_ns) {
        h->heap[k] = h->heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    h->heap[k] = r;
}

static struct req *heap_pop(struct cv_httpd *h)
{
    struct req *top = h->heap[0], *last = h->heap[--h->n];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->heap[c + 1]->due_ns < h->heap[c]->due_ns)
            c++;
        if (h->heap[c]->due_ns >= last->due_ns)
            break;
        h->heap[k] = h->heap[c];
        k = c;
    }
    if (h->n)
        h->heap[k] = last;
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

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, void *body,
                             size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *res = MHD_create_response_from_buffer(len, body, mode);
    if (!res)
        return MHD_NO;
    MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result r = MHD_queue_response(c, code, res);
    MHD_destroy_response(res);
    return r;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    return reply(c, code, "application/json", buf, (size_t)n, MHD_RESPMEM_MUST_COPY);
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

/* Suspends the request until `ms` from now (a stall: then closes it). False when the server is
 * stopping: the caller answers (or closes) at once, as the timer thread may be gone. */
static bool park(struct cv_httpd *h, struct MHD_Connection *c, struct req *r, unsigned long ms,
                 bool stall)
{
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        return false;
    }
    r->due_ns = cv_clock_mono_ns() + ms * 1000000u;
    r->parked = true;
    r->stall = stall;
    MHD_suspend_connection(c);
    heap_push(h, r);
    if (h->heap[0] == r)
        pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    return true;
}

/* Fails the request in `mode`. */
static enum MHD_Result fault(struct cv_httpd *h, struct MHD_Connection *c, struct req *r, int mode,
                             unsigned long stall_ms)
{
    if (mode == CV_FAULT_RESET) {
        atomic_fetch_add(&h->fault_resets, 1);
        return MHD_NO; /* closes the connection */
    }
    if (mode == CV_FAULT_STALL) {
        atomic_fetch_add(&h->fault_stalls, 1);
        return park(h, c, r, stall_ms, true) ? MHD_YES : MHD_NO;
    }
    atomic_fetch_add(&h->fault_status, 1);
    return reply_json(c, (unsigned)mode, "{\"fault\": %d}", mode);
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

/* The fault this request gets from the shares, or 0; *stall_ms says how long a stall lasts. */
static int share_fault(struct cv_httpd *h, unsigned long *stall_ms)
{
    int mode = 0;
    pthread_mutex_lock(&h->flaky_mu);
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    struct cv_httpd *h = cls;
    struct req *r = *con_cls;
    unsigned long v;
    if (!r) {
        /* First call: headers are in. Keep state for the request's life. */
        r = cv_xcalloc(1, sizeof *r);
        r->conn = c;
        *con_cls = r;
        int mode = share_fault(h, &v);
        if (mode)
            return fault(h, c, r, mode, v);
    }
    if (r->stall) /* resumed at the stall's end (or the server's stop): no answer */
        return MHD_NO;
    if (*upload_size) {
        *upload_size = 0; /* bodies are ignored */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_json(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\": \"only GET and HEAD\"}");

    if (!strcmp(url, "/get"))
        return reply_json(c, MHD_HTTP_OK, "{\"url\": \"/get\"}");
    if (!strncmp(url, "/delay/", 7)) {
        if (!number(url + 7, 0, MAX_DELAY_MS, &v) || strchr(url + 7, '/'))
            return reply_json(c, MHD_HTTP_BAD_REQUEST,
                              "{\"error\": \"/delay/MS takes 0 to %d ms\"}", MAX_DELAY_MS);
        if (r->resumed || v == 0 || (!r->parked && !park(h, c, r, v, false)))
            return reply_json(c, MHD_HTTP_OK, "{\"delay_ms\": %lu}", v);
        return MHD_YES;
    }
    if (!strcmp(url, "/reset"))
        return fault(h, c, r, CV_FAULT_RESET, 0);
    if (!strncmp(url, "/stall/", 7)) {
        if (!number(url + 7, 0, CV_STALL_MAX_MS, &v) || strchr(url + 7, '/'))
            return reply_json(c, MHD_HTTP_BAD_REQUEST,
                              "{\"error\": \"/stall/MS takes 0 to %u ms\"}", CV_STALL_MAX_MS);
        return fault(h, c, r, CV_FAULT_STALL, v);
    }
    if (!strncmp(url, "/bytes/", 7)) {
        if (!number(url + 7, 0, MAX_BYTES, &v) || strchr(url + 7, '/'))
            return reply_json(c, MHD_HTTP_BAD_REQUEST, "{\"error\": \"/bytes/N takes 0 to %u\"}",
                              MAX_BYTES);
        char *body = malloc(v ? v : 1);
        if (!body)
            return MHD_NO;
        for (unsigned long i = 0; i < v; i++)
            body[i] = (char)('a' + i % 26);
        return reply(c, MHD_HTTP_OK, "application/octet-stream", body, v, MHD_RESPMEM_MUST_FREE);
    }
    if (!strncmp(url, "/status/", 8)) {
        if (!number(url + 8, 100, 599, &v) || strchr(url + 8, '/'))
            return reply_json(c, MHD_HTTP_BAD_REQUEST,
                              "{\"error\": \"/status/CODE takes 100 to 599\"}");
        return reply_json(c, (unsigned)v, "{\"status\": %lu}", v);
    }
    if (!strncmp(url, "/flaky/", 7)) {
        const char *key = url + 7;
        const char *fail = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fail");
        const char *mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
        const char *stall = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "stall");
        unsigned long fails = 1, stall_ms = CV_STALL_DEFAULT;
        int modes[CV_FAULT_MAX_MODES] = {MHD_HTTP_SERVICE_UNAVAILABLE};
        unsigned nmodes = mode ? cv_httpd_fault_list(mode, modes) : 1;
        if (!*key || strlen(key) >= FLAKY_KEY_MAX || strchr(key, '/') ||
            (fail && !number(fail, 0, 1000000, &fails)) || !nmodes ||
            (stall && !number(stall, 0, CV_STALL_MAX_MS, &stall_ms)))
            return reply_json(c, MHD_HTTP_BAD_REQUEST,
                              "{\"error\": \"/flaky/KEY?fail=N&mode=M&stall=MS: a key under %d "
                              "bytes, N a whole number, M 500 to 599, reset or stall (or a "
                              "list), MS 0 to %u\"}",
                              FLAKY_KEY_MAX, CV_STALL_MAX_MS);
        uint32_t seen = flaky_count(h, key);
        if (seen < fails) {
            int m = modes[seen % nmodes];
            if (m > 0) { /* a status: say which attempt it was */
                atomic_fetch_add(&h->fault_status, 1);
                return reply_json(c, (unsigned)m,
                                  "{\"key\": \"%s\", \"attempt\": %u, \"fail\": %lu}", key,
                                  seen + 1, fails);
            }
            return fault(h, c, r, m, stall_ms);
        }
        return reply_json(c, MHD_HTTP_OK, "{\"key\": \"%s\", \"attempt\": %u}", key, seen + 1);
    }
    return reply_json(c, MHD_HTTP_NOT_FOUND,
                      "{\"error\": \"unknown path; try /get, /delay/MS, /bytes/N, /status/CODE, "
                      "/flaky/KEY?fail=N, /reset, /stall/MS\"}");
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

int cv_httpd_start(uint16_t port, struct cv_httpd **out, char **cause)
{
    *out = NULL;
    struct cv_httpd *h = cv_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->flaky_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    h->flaky = cv_xcalloc(FLAKY_KEYS, sizeof *h->flaky);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->daemon = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, port,
                                 NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
                                 (unsigned)19000, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                 MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_END);
    if (!h->daemon) {
        if (cause)
            *cause = cv_strdup_printf("cannot start the HTTP server on 127.0.0.1:%u%s", port,
                                      port ? " (port in use?)" : "");
        free(h->flaky);
        free(h);
        return CV_ERR_RUNTIME;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    if (pthread_create(&h->timer, NULL, timer_main, h) != 0) {
        MHD_stop_daemon(h->daemon);
        free(h->flaky);
        free(h);
        if (cause)
            *cause = cv_strdup("cannot start the HTTP server's timer thread");
        return CV_ERR_RUNTIME;
    }
    *out = h;
    return CV_OK;
}

uint16_t cv_httpd_port(const struct cv_httpd *h)
{
    return h->port;
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
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->flaky_mu);
    pthread_cond_destroy(&h->wake);
    free(h->heap);
    free(h->flaky);
    free(h);
}

/* The server in its own process */

int cv_httpd_spawn(uint16_t port, struct cv_httpd_proc *out, char **cause)
{
    int ready[2], control[2];
    out->pid = -1;
    out->control = -1;
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(control, O_CLOEXEC) != 0) {
        if (cause)
            *cause = cv_strdup_printf("cannot start the HTTP server: %s", strerror(errno));
        return CV_ERR_RUNTIME;
    }
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
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(ready[0]);
        close(control[1]);
        struct cv_httpd *h = NULL;
        uint16_t got = 0;
        if (cv_httpd_start(port, &h, NULL) == CV_OK)
            got = cv_httpd_port(h);
        if (write(ready[1], &got, sizeof got) != (ssize_t)sizeof got || !h)
            _exit(1);
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
        if (cause)
            *cause = cv_strdup_printf("cannot start the HTTP server process: %s", strerror(err));
        return CV_ERR_RUNTIME;
    }
    uint16_t got = 0;
    ssize_t n;
    while ((n = read(ready[0], &got, sizeof got)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    out->pid = pid;
    out->control = control[1];
    if (n != (ssize_t)sizeof got || got == 0) {
        cv_httpd_reap(out);
        if (cause)
            *cause = cv_strdup_printf("cannot start the HTTP server on 127.0.0.1:%u%s", port,
                                      port ? " (port in use?)" : "");
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
}

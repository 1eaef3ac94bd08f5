/*
 * The embedded loopback HTTP/1.1 server that I/O scenarios talk to, so everything works offline.
 * Built on libmicrohttpd; listens on 127.0.0.1 only. Endpoints:
 *   GET /get               200, a small JSON body
 *   GET /delay/MS          200 after MS milliseconds (0..60000); no thread is held while waiting
 *   GET /bytes/N           200 with N bytes (0..16 MiB)
 *   GET /status/CODE       that status (200..599; a 1xx is not a final answer: 400)
 *   GET /flaky/KEY?fail=N[&mode=M[,M...]][&stall=MS]
 *                          the first N requests of KEY fail (503 by default; the k-th failure
 *                          in mode k of the list, cycling), then 200
 *   GET /reset             no answer: the connection is closed at once
 *   GET /stall/MS          no answer for MS ms (0..60000), then the connection is closed
 * Anything else gets 404 (unknown path), 400 (bad number) or 405 (method other than GET/HEAD);
 * malformed HTTP gets 400 from the library, and the server keeps serving. Connections are kept
 * alive and pipelined requests answered in order, except after a reply of /flaky or while
 * shares of faults are set (see httpd.c). /bytes/N is made as it is sent: memory does not grow
 * with N.
 *
 * Faults: a fault mode is a status (500..599), `reset` or `stall`. A stall holds no thread (the
 * connection is suspended, like a delay) and is bounded: it ends after its time (30 s unless
 * given, at most 60 s) or when the server stops, whichever comes first, by closing the
 * connection without an answer.
 */
#ifndef CONCVIZ_HTTPD_H
#define CONCVIZ_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CV_HTTPD_MAX_DELAY_MS  60000    /* /delay/MS */
#define CV_HTTPD_MAX_BYTES     16777216 /* /bytes/N */
#define CV_HTTPD_FLAKY_KEY_MAX 64       /* /flaky/KEY: KEY is shorter */

struct cv_httpd;

/* Starts serving in this process on 127.0.0.1:port (0 = an ephemeral port). */
int cv_httpd_start(uint16_t port, struct cv_httpd **out, char **cause);
uint16_t cv_httpd_port(const struct cv_httpd *h);
/* Holds a /delay request at most `ms` (its reply still names the delay asked for), and a stall
 * too; the default is CV_HTTPD_MAX_DELAY_MS, so every delay is served as asked. The fuzz target
 * sets a few ms. */
void cv_httpd_set_max_delay(struct cv_httpd *h, unsigned long ms);
/* Requests completed so far. */
uint64_t cv_httpd_requests(const struct cv_httpd *h);
/* Answers every delayed request at once, ends every stall, then stops. */
void cv_httpd_stop(struct cv_httpd *h);

#define CV_FAULT_RESET     (-1)
#define CV_FAULT_STALL     (-2)
#define CV_FAULT_MAX_MODES 8
/* plain numbers, not 60000u: the server's messages spell them out with the preprocessor */
#define CV_STALL_MAX_MS    60000
#define CV_STALL_DEFAULT   30000
/* One fault mode by name: "500".."599", "reset" or "stall"; 0 if it is none of them. */
int cv_httpd_fault_mode(const char *name);
/* A comma list of modes ("500,reset,stall") into modes (CV_FAULT_MAX_MODES); returns how many,
 * 0 when the list is empty or one is bad. */
unsigned cv_httpd_fault_list(const char *text, int *modes);

/* Faults for every request, whatever its path: a share of the requests fails in each mode. The
 * shares are spread deterministically (a credit per mode grows by its share with each request;
 * a request fails in the first mode whose credit reached one, which pays one), so `500:0.25`
 * fails exactly every 4th request. */
struct cv_httpd_faults {
    unsigned n;
    int mode[CV_FAULT_MAX_MODES];
    uint32_t ppm[CV_FAULT_MAX_MODES]; /* share, parts per million */
    uint32_t stall_ms;                /* how long a stall holds the request */
};
/* Parses MODE:SHARE[,MODE:SHARE...] (SHARE from 0.000001 to 1, the shares adding up to at most 1);
 * on error returns CV_ERR_USAGE with a one-line *cause (caller frees). */
int cv_httpd_parse_faults(const char *spec, struct cv_httpd_faults *out, char **cause);
void cv_httpd_set_faults(struct cv_httpd *h, const struct cv_httpd_faults *f);
/* Faults served so far (by a route or by the shares): error statuses, resets and stalls. */
void cv_httpd_fault_counts(struct cv_httpd *h, uint64_t *status, uint64_t *resets,
                           uint64_t *stalls);

/*
 * What a request asks for, from its method, its path (decoded, without the query) and its query
 * arguments alone (each NULL if absent): no connection, no state. The server answers with it.
 */
struct cv_httpd_query {
    const char *fail;  /* /flaky: failures before 200 */
    const char *mode;  /* /flaky: the fault modes, a comma list */
    const char *stall; /* /flaky: how long a stall lasts, ms */
};
enum cv_httpd_kind {
    CV_HTTPD_GET,
    CV_HTTPD_DELAY,
    CV_HTTPD_BYTES,
    CV_HTTPD_STATUS,
    CV_HTTPD_FLAKY,
    CV_HTTPD_RESET, /* no answer: the connection is closed */
    CV_HTTPD_STALL, /* no answer for n ms, then the connection is closed */
    CV_HTTPD_BAD,   /* status says which: 400, 404 or 405 */
};
struct cv_httpd_route {
    enum cv_httpd_kind kind;
    unsigned status;   /* the reply's status (FLAKY: 200; a failure's, see cv_httpd_flaky_mode) */
    unsigned long n;   /* DELAY, STALL: ms; BYTES: length; STATUS: the code; FLAKY: failures */
    const char *key;   /* FLAKY: the key, pointing into the path */
    const char *error; /* BAD: why, for the JSON body */
    int modes[CV_FAULT_MAX_MODES]; /* FLAKY: how the k-th failure fails, cycling */
    unsigned nmodes;
    unsigned long stall_ms; /* FLAKY: a stall's length */
};
void cv_httpd_route(const char *method, const char *path, const struct cv_httpd_query *q,
                    struct cv_httpd_route *rt);
/* How a flaky request fails on its `attempt`-th request (from 1): a status, CV_FAULT_RESET or
 * CV_FAULT_STALL; 0 when it succeeds. */
int cv_httpd_flaky_mode(const struct cv_httpd_route *rt, uint32_t attempt);
/* The JSON body of the reply to rt into buf (size bytes: 512 hold any; in fewer, from 3 on, a
 * body too long is "{}"), `attempt` the count of the flaky key's requests, this one included;
 * returns the reply's status. A BYTES reply's body is its bytes, not this; RESET and STALL, and a
 * flaky attempt that resets or stalls, get no reply. */
unsigned cv_httpd_json(const struct cv_httpd_route *rt, uint32_t attempt, char *buf, size_t size);

/* The faults a server has served (error statuses, resets, stalls), counted as it serves them
 * in memory its parent shares, so a run can compare what its client saw with what was sent. */
struct cv_httpd_tally {
    _Atomic uint64_t status, resets, stalls;
};

/*
 * The server in a process of its own, so its sockets do not count against the engine's open-file
 * limit (10,000 client and 10,000 server sockets do not fit in one process here). The child dies
 * with its parent.
 */
struct cv_httpd_proc {
    pid_t pid;     /* -1 once reaped */
    pid_t spawned; /* its pid, kept */
    uint16_t port;
    int control;                  /* closing it stops the child */
    struct cv_httpd_tally *tally; /* the child's fault counts; NULL if they could not be shared */
};
int cv_httpd_spawn(uint16_t port, struct cv_httpd_proc *out, char **cause);
/* Stops the child and reaps it. */
void cv_httpd_reap(struct cv_httpd_proc *p);
/* Whether the server process is exiting or has ended, as any process can see it (/proc): a
 * request that failed because the server died then says so, rather than pass for a network
 * fault. The kernel marks a process exiting before it closes its sockets, so a client that saw
 * its connection reset by the dying server already sees it gone. */
bool cv_httpd_gone(const struct cv_httpd_proc *p);
/* For the parent: whether the server process ended, reaping it if so (then p->pid is -1, *pid
 * what it was, *status as waitpid gives it). With `wait_exiting`, a server that is exiting but not
 * yet ended is waited for (a few ms; at most 2 s). */
bool cv_httpd_exited(struct cv_httpd_proc *p, bool wait_exiting, pid_t *pid, int *status);

#endif

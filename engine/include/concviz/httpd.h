/*
 * The embedded loopback HTTP/1.1 server that I/O scenarios talk to, so everything works offline.
 * Built on libmicrohttpd; listens on 127.0.0.1 only. Endpoints:
 *   GET /get               200, a small JSON body
 *   GET /delay/MS          200 after MS milliseconds (0..60000); no thread is held while waiting
 *   GET /bytes/N           200 with N bytes (0..16 MiB)
 *   GET /status/CODE       that status (100..599)
 *   GET /flaky/KEY?fail=N  503 for the first N requests of KEY, then 200
 * Anything else gets 404 (unknown path), 400 (bad number) or 405 (method other than GET/HEAD);
 * malformed HTTP gets 400 from the library, and the server keeps serving.
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
/* Holds a /delay request at most `ms` (its reply still names the delay asked for); the default
 * is CV_HTTPD_MAX_DELAY_MS, so every delay is served as asked. The fuzz target sets a few ms. */
void cv_httpd_set_max_delay(struct cv_httpd *h, unsigned long ms);
/* Requests completed so far. */
uint64_t cv_httpd_requests(const struct cv_httpd *h);
/* Answers every delayed request at once, then stops. */
void cv_httpd_stop(struct cv_httpd *h);

/*
 * What a request asks for, from its method, its path (decoded, without the query) and its ?fail=
 * argument (NULL if absent) alone: no connection, no state. The server answers with it.
 */
enum cv_httpd_kind {
    CV_HTTPD_GET,
    CV_HTTPD_DELAY,
    CV_HTTPD_BYTES,
    CV_HTTPD_STATUS,
    CV_HTTPD_FLAKY,
    CV_HTTPD_BAD, /* status says which: 400, 404 or 405 */
};
struct cv_httpd_route {
    enum cv_httpd_kind kind;
    unsigned status;   /* the reply's status (FLAKY: 200; 503 while failing, see cv_httpd_json) */
    unsigned long n;   /* DELAY: ms; BYTES: length; STATUS: the code; FLAKY: failures before 200 */
    const char *key;   /* FLAKY: the key, pointing into the path */
    const char *error; /* BAD: why, for the JSON body */
};
void cv_httpd_route(const char *method, const char *path, const char *fail,
                    struct cv_httpd_route *rt);
/* The JSON body of the reply to rt into buf (size bytes: 512 hold any; in fewer, from 3 on, a
 * body too long is "{}"), `attempt` the count of the flaky key's requests, this one included;
 * returns the reply's status. A BYTES reply's body is its bytes, not this. */
unsigned cv_httpd_json(const struct cv_httpd_route *rt, uint32_t attempt, char *buf, size_t size);

/*
 * The server in a process of its own, so its sockets do not count against the engine's open-file
 * limit (10,000 client and 10,000 server sockets do not fit in one process here). The child dies
 * with its parent.
 */
struct cv_httpd_proc {
    pid_t pid;
    uint16_t port;
    int control; /* closing it stops the child */
};
int cv_httpd_spawn(uint16_t port, struct cv_httpd_proc *out, char **cause);
/* Stops the child and reaps it. */
void cv_httpd_reap(struct cv_httpd_proc *p);

#endif

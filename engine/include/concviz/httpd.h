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
#include <stdint.h>
#include <sys/types.h>

struct cv_httpd;

/* Starts serving in this process on 127.0.0.1:port (0 = an ephemeral port). */
int cv_httpd_start(uint16_t port, struct cv_httpd **out, char **cause);
uint16_t cv_httpd_port(const struct cv_httpd *h);
/* Requests completed so far. */
uint64_t cv_httpd_requests(const struct cv_httpd *h);
/* Answers every delayed request at once, then stops. */
void cv_httpd_stop(struct cv_httpd *h);

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

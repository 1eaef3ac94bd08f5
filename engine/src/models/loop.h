/* The event loop of the epoll and hybrid models, private to models/: one OS thread runs every
 * task as a coroutine (ucontext, its own small stack) and waits in epoll_wait between turns.
 * What each file holds, callers first; a file calls only those below it:
 *   hybrid.c      the hybrid model: the same loop plus an executor (its table only)
 *   epoll.c       the loop itself (run what is ready, poll, hand out what came in), the lanes'
 *                 layout, names and rings, the wait ops, and the epoll model
 *   executors.c   offload: a job handed to the executor, and the executor as threads
 *   xprocs.c      the executor as processes (offload = procs), watched as the procs pool is
 *   curl-multi.c  libcurl's multi interface on the loop's epoll: an HTTP GET suspends its task
 *   coro.c        coroutines: their stacks, a task's start and end, park (the switch back to
 *                 the loop, told to the sanitizers: fiber-san.h) and unpark
 *   timers.c      what runs next: the ready ring and the timer heap of timed parks
 * The one loop running (cv__g_loop, in coro.c) is how the wait ops, called with a lane's ctx,
 * find it. */
#ifndef CONCVIZ_MODELS_LOOP_H
#define CONCVIZ_MODELS_LOOP_H

#include "fiber-san.h"
#include "internal.h"
#include "run/watchdog.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <ucontext.h>

#define XARG_MAX 64 /* largest argument a job may carry to a process */

enum co_state { CO_NEW, CO_READY, CO_RUNNING, CO_PARKED, CO_DONE };

struct job {
    uint32_t lane, task;
    bool (*fn)(struct cv_ctx *, void *);
    void *arg;
    size_t argsz;
    bool ok;
    _Atomic int done;
    struct job *next;
};

/* What goes down the pipe; the function pointer is valid in the child (fork keeps the image). */
struct xmsg {
    bool (*fn)(struct cv_ctx *, void *);
    uint32_t lane, task, argsz, reserved;
    unsigned char arg[XARG_MAX];
};

/* hybrid with offload = procs: one executor process */
struct xproc {
    struct cv__worker w; /* its pid, lane, the task its job is for, its state */
    int to, from;        /* the loop's ends of its pipes, non-blocking, -1 when closed */
    struct job *job;     /* running there, NULL when idle */
    struct xmsg tx;      /* the job being sent */
    size_t tx_sent;      /* of tx; sizeof tx when sent */
    struct cv__inbuf rx; /* what has come in of the next reply */
};

struct co {
    ucontext_t uc;
    struct http_wait *http; /* the transfer it is suspended on */
    void *stack;
    unsigned stack_id; /* valgrind's id of the stack */
    uint32_t lane;
    enum co_state state;
    bool wake_pending; /* unparked while not parked: the next park returns at once */
    uint64_t deadline; /* timed park, CLOCK_MONOTONIC ns; 0 = none */
    size_t heap_at;    /* index in the timer heap + 1, 0 = not in it */
    uint64_t give_up;  /* wait_for: when the caller gives up on this task; 0 = never */
    struct san_fiber san;
};

struct loop {
    struct cv_run *run;
    pthread_t thread;
    ucontext_t loop_uc;
    struct san_fiber san; /* the loop's own stack, for the sanitizers */
    struct co *cos;       /* by lane; cos[0] unused */
    uint32_t ncos;
    struct co *current;
    uint32_t *ready; /* ring of lanes */
    size_t ready_head, ready_n;
    struct co **timers; /* min-heap on deadline */
    size_t ntimers;
    int epfd, evfd;
    _Atomic uint8_t *remote; /* per lane: woken from another thread */
    CURLM *multi;            /* every HTTP transfer of every task */
    uint32_t ntask_lanes;    /* lanes 1..ntask_lanes are coroutines */
    /* hybrid's executor: pool_mu protects jobs and closing */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    struct job *jobs, *jobs_tail;
    bool closing;
    pthread_t *pool;
    uint32_t npool;
    struct xproc *xprocs; /* offload = procs; then jobs is used by the loop thread alone */
    uint32_t nxprocs;
    bool failed;       /* an executor process died or refused work: the run fails */
    bool stop_after;   /* stop the run once the coroutines made ready have run */
    uint64_t xstop_at; /* when the loop saw the run stop, for the executor processes */
    uint64_t curl_due; /* libcurl's timer, CLOCK_MONOTONIC ns; 0 = none */
};

struct pool_arg {
    struct loop *L;
    uint32_t lane;
};

/* One run at a time per process uses the epoll model. Read by other threads (cv__co_unpark). */
extern struct loop *_Atomic cv__g_loop;

/* Tasks, or roles: each is one coroutine. */
static inline uint32_t task_count(const struct cv_run *run)
{
    return run->wl->shape == CV_SHAPE_ROLES ? run->nroles : run->ntasks;
}

/* Past this many tasks, each costs less memory at some cost in speed: a smaller event ring (see
 * cv__loop_ring_size) and a 1 KB receive buffer per HTTP transfer instead of libcurl's 16 KB
 * (10,000 transfers at once: 29 MB less; a 16 MB body then takes about six times the CPU). */
#define LOOP_MANY_TASKS 256u

static inline uint32_t offload_count(const struct cv_run *run)
{
    return run->ops->id == CV_MODEL_HYBRID ? run->workers : 0;
}

/* epoll.c: the loop, for the hybrid model's table */
uint32_t cv__loop_lanes(const struct cv_run *run);
int cv__loop_run(struct cv_run *run);
void cv__loop_lane_name(const struct cv_run *run, uint32_t lane, char *buf, size_t n);
size_t cv__loop_ring_size(const struct cv_run *run, uint32_t lane);
extern const struct cv_wait_ops cv__loop_wait;

/* executors.c */
bool cv__co_offload(struct cv_ctx *ctx, bool (*fn)(struct cv_ctx *, void *), void *arg,
                    size_t argsz);
int cv__pool_start(struct loop *L, struct pool_arg *args);
void cv__pool_stop(struct loop *L);

/* xprocs.c: everything there runs on the loop thread */
int cv__xproc_start(struct loop *L);
void cv__xproc_dispatch(struct loop *L);
void cv__xproc_readable(struct loop *L, uint32_t i);
void cv__xproc_watch(struct loop *L);
uint64_t cv__xproc_due(struct loop *L);
void cv__xproc_stop(struct loop *L);

/* curl-multi.c */
int cv__curl_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp);
int cv__curl_timer(CURLM *multi, long timeout_ms, void *user);
void cv__curl_done(struct loop *L);
bool cv__co_http_get(struct cv_ctx *ctx, const char *url, struct cv_http_result *res);
void cv__curl_start(struct loop *L, struct co *c);

/* coro.c */
void cv__co_park(struct cv_ctx *ctx, uint64_t deadline_ns);
void cv__co_unpark(struct cv_run *run, uint32_t lane);
int cv__co_start(struct loop *L, struct co *c);
void cv__co_free(struct co *c);

/* timers.c */
void cv__timer_add(struct loop *L, struct co *c);
void cv__co_make_ready(struct loop *L, struct co *c);
void cv__expire_timers(struct loop *L);

#endif

/*
 * epoll: one OS thread, like asyncio. Every task is a coroutine (ucontext, its own small stack)
 * started at once, as create_task does; at every wait (sleep, lock, semaphore, queue, barrier)
 * the task parks, which switches back to the loop. The loop runs ready tasks, then waits in
 * epoll_wait until the earliest timer or an I/O event. CPU work inside a task blocks the loop,
 * and the loop lane shows it: busy between polls, idle inside them.
 *
 * Lanes: lane 0 is the loop (it also submits), lanes 1..n are the tasks. Every lane is written by
 * this one thread. Another thread (or a signal handler) wakes a task by setting its flag and
 * writing the loop's eventfd.
 *
 * hybrid is the same loop plus an executor: `workers` offload lanes (n+1..n+w) that run
 * cv_offload_cpu work while the task that asked waits, as run_in_executor / to_thread do. With
 * `offload = threads` (the default) they are threads taking jobs from a list; with
 * `offload = procs` they are forked processes (a ProcessPoolExecutor): each job's function and
 * its flat argument go down a pipe, the result and the argument come back up another, every
 * byte counted as pickling would be, and the loop watches the return pipes with epoll. The loop
 * also watches the processes as the procs pool does (watchdog.h): one that is stopped is shown
 * stalled, one whose work has run past the task timeout is killed (its task timed out and
 * cancelled), and when the run stops a stopped one is killed at once. A process that dies fails
 * the task whose work it was running and, unless on_worker_death = continue, the run.
 */
#include "fiber-san.h"
#include "internal.h"
#include "core/heap.h"
#include "run/watchdog.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

/* Memcheck must be told about stacks we switch to, or it takes every coroutine switch for a
 * huge stack frame and every access on a coroutine stack for an invalid one. The client
 * requests are a few no-op instructions when not running under valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef VALGRIND_STACK_REGISTER
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id)   ((void)(id))
#endif

#define STACK_BYTES    (256u << 10) /* virtual; a task touches a few pages of it */
/* Events per task lane. A ring is touched only as far as its lane writes, so a big one costs
 * address space, not memory; thousands of tasks get smaller ones to keep even that modest. */
#define TASK_RING_MANY (1u << 14)
#define XARG_MAX       64                  /* largest argument a job may carry to a process */
#define XPROC_TAG      (UINT64_C(1) << 40) /* epoll data of an executor process's return pipe */

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

struct xreply {
    int32_t ok;
    uint32_t reserved;
    unsigned char arg[XARG_MAX];
};

struct http_wait {
    CURL *easy;
    struct cv_http_result *res;
    bool done;
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

/* One run at a time per process uses the epoll model. Read by other threads (co_unpark). */
static struct loop *_Atomic g_loop;

/* Tasks, or roles: each is one coroutine. */
static uint32_t task_count(const struct cv_run *run)
{
    return run->wl->shape == CV_SHAPE_ROLES ? run->nroles : run->ntasks;
}

static uint32_t offload_count(const struct cv_run *run)
{
    return run->ops->id == CV_MODEL_HYBRID ? run->workers : 0;
}

static uint32_t epoll_lanes(const struct cv_run *run)
{
    return 1 + task_count(run) + offload_count(run);
}

static void epoll_lane_name(const struct cv_run *run, uint32_t lane, char *buf, size_t n)
{
    if (lane == 0)
        snprintf(buf, n, "loop");
    else if (lane > task_count(run))
        snprintf(buf, n, "offload-%u", lane - task_count(run));
    else if (run->wl->shape == CV_SHAPE_ROLES && lane - 1 < run->nroles)
        snprintf(buf, n, "%s", run->role_names[lane - 1]);
    else
        snprintf(buf, n, "task-%u", lane - 1);
}

static size_t epoll_ring_size(const struct cv_run *run, uint32_t lane)
{
    if (lane == 0 || lane > task_count(run))
        return run->ring_capacity;
    return task_count(run) <= 256 ? run->ring_capacity : TASK_RING_MANY;
}

/* Timer heap: earliest deadline first; each coroutine knows its place (heap_at) */

#define CO_DEADLINE(L, c) ((c)->deadline)
#define CO_MOVED(L, c, i) ((c)->heap_at = (i) + 1)
CV_HEAP_DEFINE(timer_heap, struct co *, struct loop *, CO_DEADLINE, CO_MOVED)

static void heap_up(struct loop *L, size_t i)
{
    timer_heap_up(L->timers, i, L);
}

static void heap_down(struct loop *L, size_t i)
{
    timer_heap_down(L->timers, L->ntimers, i, L);
}

static void timer_add(struct loop *L, struct co *c)
{
    L->timers[L->ntimers++] = c;
    heap_up(L, L->ntimers - 1);
}

static void timer_remove(struct loop *L, struct co *c)
{
    if (!c->heap_at)
        return;
    size_t i = c->heap_at - 1;
    c->heap_at = 0;
    struct co *last = L->timers[--L->ntimers];
    if (i == L->ntimers)
        return;
    L->timers[i] = last;
    heap_up(L, i);
    heap_down(L, last->heap_at - 1);
}

static void make_ready(struct loop *L, struct co *c)
{
    if (c->state != CO_PARKED && c->state != CO_NEW)
        return;
    timer_remove(L, c);
    if (c->state == CO_PARKED)
        c->state = CO_READY;
    L->ready[(L->ready_head + L->ready_n) % L->ncos] = c->lane;
    L->ready_n++;
}

/* Wait ops */

static void co_park(struct cv_ctx *ctx, uint64_t deadline_ns)
{
    struct loop *L = g_loop;
    struct co *c = &L->cos[ctx->lane];
    if (c->wake_pending) {
        c->wake_pending = false;
        return;
    }
    c->state = CO_PARKED;
    c->deadline = deadline_ns;
    if (deadline_ns)
        timer_add(L, c);
    san_switch_begin(&c->san, &L->san);
    swapcontext(&c->uc, &L->loop_uc);
    san_switch_end(&c->san, &L->san);
    /* resumed by the loop: woken, or the deadline passed */
}

static void co_unpark(struct cv_run *run, uint32_t lane)
{
    struct loop *L = g_loop;
    if (!L || lane == 0 || lane > L->ntask_lanes)
        return;
    if (!pthread_equal(pthread_self(), L->thread)) {
        /* another thread or a signal handler: async-signal-safe hand-over */
        atomic_store(&L->remote[lane], 1);
        uint64_t one = 1;
        ssize_t w = write(L->evfd, &one, sizeof one);
        (void)w;
        return;
    }
    (void)run;
    struct co *c = &L->cos[lane];
    if (c->state == CO_PARKED)
        make_ready(L, c);
    else if (c->state != CO_DONE)
        c->wake_pending = true;
}

/* libcurl's multi socket interface on the loop's epoll */

static int curl_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp)
{
    (void)easy;
    (void)socketp;
    struct loop *L = user;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.u64 = (uint64_t)fd};
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(L->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

static int curl_timer(CURLM *multi, long timeout_ms, void *user)
{
    (void)multi;
    struct loop *L = user;
    L->curl_due = timeout_ms < 0 ? 0 : cv_clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    return 0;
}

/* Finished transfers wake their tasks. */
static void curl_done(struct loop *L)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(L->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct co *c = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (!c || !c->http)
            continue;
        cv__http_fill(c->http->res, msg->easy_handle, (int)msg->data.result);
        c->http->done = true;
        if (c->state == CO_PARKED)
            make_ready(L, c);
        else
            c->wake_pending = true;
    }
}

static bool co_http_get(struct cv_ctx *ctx, const char *url, struct cv_http_result *res)
{
    struct loop *L = g_loop;
    struct co *c = &L->cos[ctx->lane];
    CURL *easy = curl_easy_init();
    if (!easy) {
        res->error = CURLE_OUT_OF_MEMORY;
        snprintf(res->message, sizeof res->message, "cannot create a libcurl handle");
        return false;
    }
    cv__http_easy_options(easy, ctx);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, c);
    /* Debian's libcurl 7.88 searches its connection pool linearly: thousands of concurrent
     * transfers are far faster on fresh connections. */
    cv__http_one_shot(easy);
    struct http_wait w = {easy, res, false};
    c->http = &w;
    curl_multi_add_handle(L->multi, easy);
    while (!w.done && !cv_stopping(ctx))
        co_park(ctx, 0);
    if (!w.done) {
        res->error = CURLE_ABORTED_BY_CALLBACK;
        snprintf(res->message, sizeof res->message, "stopped");
    }
    c->http = NULL;
    curl_multi_remove_handle(L->multi, easy);
    curl_easy_cleanup(easy);
    return w.done && res->error == 0;
}

/* The executor */

static void xproc_dispatch(struct loop *L);

static bool co_offload(struct cv_ctx *ctx, bool (*fn)(struct cv_ctx *, void *), void *arg,
                       size_t argsz)
{
    struct loop *L = g_loop;
    if (!L->npool && !L->nxprocs)
        return fn(ctx, arg); /* plain epoll: on the loop itself */
    struct job j = {.lane = ctx->lane, .task = ctx->task, .fn = fn, .arg = arg, .argsz = argsz};
    bool threads = !L->nxprocs; /* else only this thread touches the list */
    if (!threads && (!argsz || argsz > XARG_MAX)) {
        cv_run_error(L->run,
                     "task %u: this work (file I/O) holds pointers and cannot be sent to an "
                     "executor process; use --set offload=threads",
                     ctx->task);
        L->failed = true;
        cv_run_stop(L->run);
        return false;
    }
    if (threads)
        pthread_mutex_lock(&L->pool_mu);
    if (L->jobs_tail)
        L->jobs_tail->next = &j;
    else
        L->jobs = &j;
    L->jobs_tail = &j;
    if (threads) {
        pthread_cond_signal(&L->pool_cv);
        pthread_mutex_unlock(&L->pool_mu);
    } else {
        xproc_dispatch(L);
    }
    /* The job lives on this stack: wait for it even when stopping (it stops at a checkpoint). */
    while (!atomic_load(&j.done))
        co_park(ctx, 0);
    return j.ok;
}

/* The executor as processes (offload = procs). Everything here runs on the loop thread. */

static void xproc_child(struct cv_run *run, uint32_t lane, int in, int out)
{
    struct cv_ctx *ctx = &run->ctxs[lane];
    ctx->wait = &cv__wait_block; /* no loop in here: a wait blocks this process */
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    struct xmsg m;
    while (cv__read_all(in, &m, sizeof m) == 1) {
        struct xreply r = {0};
        ctx->task = m.task;
        cv_emit(ctx, CV_EV_JOB_START, CV_NO_OBJ, m.lane);
        r.ok = m.fn(ctx, m.arg);
        cv_emit(ctx, CV_EV_JOB_END, CV_NO_OBJ, m.lane);
        ctx->task = CV_NO_TASK;
        memcpy(r.arg, m.arg, sizeof r.arg);
        if (cv__write_all(out, &r, sizeof r) != 0)
            break;
    }
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    _exit(0);
}

/* Forks the executor processes before the loop makes its own descriptors. */
static int xproc_start(struct loop *L)
{
    struct cv_run *run = L->run;
    uint32_t n = offload_count(run);
    L->xprocs = cv_xcalloc(n, sizeof *L->xprocs);
    for (uint32_t i = 0; i < n; i++) {
        struct xproc *x = &L->xprocs[i];
        uint32_t lane = L->ntask_lanes + 1 + i;
        x->to = x->from = -1;
        x->tx_sent = sizeof x->tx; /* nothing to send */
        int down[2], up[2];
        if (pipe2(down, O_CLOEXEC) != 0)
            goto fail;
        if (pipe2(up, O_CLOEXEC) != 0) {
            close(down[0]);
            close(down[1]);
            goto fail;
        }
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        pid_t parent = getpid();
        pid_t pid = cv__fork_worker(run);
        if (pid == 0) {
            cv__child_setup(run, lane, parent, &old);
            for (uint32_t k = 0; k < i; k++) {
                close(L->xprocs[k].to);
                close(L->xprocs[k].from);
            }
            close(down[1]);
            close(up[0]);
            xproc_child(run, lane, down[0], up[1]);
        }
        int err = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        close(down[0]);
        close(up[1]);
        if (pid < 0) {
            close(down[1]);
            close(up[0]);
            errno = err;
            goto fail;
        }
        cv__worker_init(&x->w, pid, lane, false);
        x->to = down[1];
        x->from = up[0];
        cv__set_nonblock(x->to);
        cv__set_nonblock(x->from);
        L->nxprocs++;
    }
    return 0;
fail:
    cv_run_error(run, "cannot start executor process %u: %s", L->nxprocs + 1, strerror(errno));
    return -1;
}

static void job_finish(struct loop *L, struct job *j, bool ok)
{
    j->ok = ok;
    atomic_store(&j->done, 1);
    co_unpark(L->run, j->lane); /* j may be gone after this */
}

/* Sends what the pipe takes of the job being sent. A job is far smaller than a pipe's buffer
 * and a process holds one at a time, so it goes at once; a stopped process cannot make the loop
 * wait for it either way. A failed write means the process died: its pipe's end of file says
 * so. */
static void xproc_flush(struct xproc *x)
{
    while (x->to >= 0 && x->tx_sent < sizeof x->tx) {
        ssize_t w =
            cv__pipe_put(x->to, (const char *)&x->tx + x->tx_sent, sizeof x->tx - x->tx_sent);
        if (w <= 0) {
            if (w < 0)
                x->tx_sent = sizeof x->tx;
            return;
        }
        x->tx_sent += (size_t)w;
    }
}

static bool xproc_usable(const struct xproc *x)
{
    return !x->w.reaped && x->w.killed == CV__ALIVE && x->to >= 0;
}

/* Hands queued jobs to idle executor processes; fails them when none is left, or once the run
 * stops (a job not started is cancelled). */
static void xproc_dispatch(struct loop *L)
{
    uint32_t alive = 0;
    bool stopping = cv_stopping(&L->run->ctxs[0]);
    for (uint32_t i = 0; i < L->nxprocs && !stopping; i++) {
        struct xproc *x = &L->xprocs[i];
        if (!xproc_usable(x))
            continue;
        alive++;
        if (x->job || !L->jobs)
            continue;
        struct job *j = L->jobs;
        L->jobs = j->next;
        if (!L->jobs)
            L->jobs_tail = NULL;
        x->tx = (struct xmsg){
            .fn = j->fn, .lane = j->lane, .task = j->task, .argsz = (uint32_t)j->argsz};
        memcpy(x->tx.arg, j->arg, j->argsz);
        x->tx_sent = 0;
        x->job = j;
        cv__worker_set_task(&x->w, j->task);
        L->run->bytes_copied += sizeof x->tx;
        xproc_flush(x);
    }
    while (!alive && L->jobs) {
        struct job *j = L->jobs;
        L->jobs = j->next;
        if (!L->jobs)
            L->jobs_tail = NULL;
        job_finish(L, j, false);
    }
}

/* An executor process is gone (its pipe's end of file): reaps it, reports how it ended (one
 * line if it died, as a procs worker's death) and fails or cancels the job it held. */
static void xproc_gone(struct loop *L, struct xproc *x)
{
    struct cv_run *run = L->run;
    epoll_ctl(L->epfd, EPOLL_CTL_DEL, x->from, NULL);
    cv__close_fd(&x->from);
    cv__close_fd(&x->to);
    int status = 0;
    while (waitpid(x->w.pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* the child is gone: the loop may write its lane */
    if (cv__worker_reaped(run, &x->w, status, false) != 0 && !run->sc->survive_death) {
        L->failed = true;
        /* after the task whose work died has seen its job fail: it failed, not cancelled */
        L->stop_after = true;
    }
    if (x->job) {
        struct job *j = x->job;
        x->job = NULL;
        job_finish(L, j, false);
    }
    xproc_dispatch(L);
}

/* An executor process's return pipe is readable: results, or its end. */
static void xproc_readable(struct loop *L, uint32_t i)
{
    struct xproc *x = &L->xprocs[i];
    int open = cv__pipe_take(x->from, &x->rx);
    struct xreply r;
    while (x->rx.len >= sizeof r) {
        memcpy(&r, x->rx.p, sizeof r);
        cv__inbuf_drop(&x->rx, sizeof r);
        struct job *j = x->job;
        if (!j)
            continue; /* not asked for: nothing waits for it */
        x->job = NULL;
        cv__worker_set_task(&x->w, CV_NONE);
        L->run->bytes_copied += sizeof r;
        memcpy(j->arg, r.arg, j->argsz);
        job_finish(L, j, r.ok != 0);
    }
    if (!open)
        xproc_gone(L, x);
    else
        xproc_dispatch(L);
}

/* The watchdog's turn over the executor processes (watchdog.h), at every turn of the loop. */
static void xproc_watch(struct loop *L)
{
    struct cv_run *run = L->run;
    uint64_t now = cv_clock_mono_ns();
    if (!L->nxprocs)
        return;
    if (!L->xstop_at && cv_stopping(&run->ctxs[0])) {
        L->xstop_at = now;
        xproc_dispatch(L); /* cancels the jobs not started */
    }
    for (uint32_t i = 0; i < L->nxprocs; i++) {
        struct xproc *x = &L->xprocs[i];
        xproc_flush(x);
        if (cv__worker_watch(run, &x->w, now, L->xstop_at != 0) && x->job) {
            /* its work ran past the task timeout: the task timed out (unless the loop already
             * gave up on it) and is cancelled, as a procs worker's task is */
            struct co *c = &L->cos[x->job->lane];
            if (c->give_up) {
                c->give_up = 0;
                cv_ring_record(run->ctxs[c->lane].ring, CV_EV_TASK_TIMEOUT, (uint16_t)c->lane,
                               x->job->task, CV_NO_OBJ, 0);
            }
            atomic_fetch_or(&run->task_flags[x->job->task], CV__TASK_CANCEL);
        }
        if (L->xstop_at)
            cv__worker_stopping(&x->w, L->xstop_at, now);
    }
}

/* When the watchdog next needs a turn, 0 for never. */
static uint64_t xproc_due(struct loop *L)
{
    uint64_t due = 0;
    for (uint32_t i = 0; i < L->nxprocs; i++) {
        uint64_t d = cv__worker_due(L->run, &L->xprocs[i].w, L->xstop_at);
        if (d && (!due || d < due))
            due = d;
    }
    return due;
}

/* Closes the job pipes (each process then leaves) and reaps every process: one that is stopped
 * is killed at once (it cannot leave by itself), any other after the grace period. */
static void xproc_stop(struct loop *L)
{
    struct cv_run *run = L->run;
    for (uint32_t i = 0; i < L->nxprocs; i++) {
        cv__close_fd(&L->xprocs[i].to);
        L->xprocs[i].w.retiring = true;
    }
    uint64_t start = cv_clock_mono_ns();
    for (;;) {
        bool left = false;
        uint64_t now = cv_clock_mono_ns();
        for (uint32_t i = 0; i < L->nxprocs; i++) {
            struct xproc *x = &L->xprocs[i];
            if (x->w.reaped)
                continue;
            int status = 0;
            pid_t r = waitpid(x->w.pid, &status, WNOHANG);
            if (r == x->w.pid) {
                if (cv__worker_reaped(run, &x->w, status, false) != 0 && !run->sc->survive_death)
                    L->failed = true;
                continue;
            }
            if (r < 0 && errno != EINTR) {
                x->w.reaped = true; /* not ours any more: nothing to wait for */
                continue;
            }
            left = true;
            cv__worker_watch(run, &x->w, now, true);
            cv__worker_stopping(&x->w, start, now);
        }
        if (!left)
            break;
        usleep(1000);
    }
    for (uint32_t i = 0; i < L->nxprocs; i++) {
        cv__close_fd(&L->xprocs[i].from);
        free(L->xprocs[i].rx.p);
    }
    free(L->xprocs);
    L->xprocs = NULL;
    L->nxprocs = 0;
}

struct pool_arg {
    struct loop *L;
    uint32_t lane;
};

static void *pool_main(void *p)
{
    struct pool_arg *a = p;
    struct loop *L = a->L;
    struct cv_ctx *ctx = &L->run->ctxs[a->lane];
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    pthread_mutex_lock(&L->pool_mu);
    for (;;) {
        while (!L->jobs && !L->closing)
            pthread_cond_wait(&L->pool_cv, &L->pool_mu);
        if (!L->jobs)
            break;
        struct job *j = L->jobs;
        L->jobs = j->next;
        if (!L->jobs)
            L->jobs_tail = NULL;
        pthread_mutex_unlock(&L->pool_mu);
        ctx->task = j->task;
        if (cv_stopping(ctx)) {
            j->ok = false; /* the run stopped: a job not started is cancelled */
        } else {
            cv_emit(ctx, CV_EV_JOB_START, CV_NO_OBJ, j->lane);
            j->ok = j->fn(ctx, j->arg);
            cv_emit(ctx, CV_EV_JOB_END, CV_NO_OBJ, j->lane);
        }
        ctx->task = CV_NO_TASK;
        uint32_t lane = j->lane;
        atomic_store(&j->done, 1); /* j may be gone after this */
        co_unpark(L->run, lane);
        pthread_mutex_lock(&L->pool_mu);
    }
    pthread_mutex_unlock(&L->pool_mu);
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    return NULL;
}

static int pool_start(struct loop *L, struct pool_arg *args)
{
    uint32_t n = offload_count(L->run);
    L->pool = cv_xcalloc(n ? n : 1, sizeof *L->pool);
    for (uint32_t i = 0; i < n; i++) {
        args[i] = (struct pool_arg){L, L->ntask_lanes + 1 + i};
        int err = pthread_create(&L->pool[i], NULL, pool_main, &args[i]);
        if (err) {
            cv_run_error(L->run, "cannot start executor thread %u: %s", i + 1, strerror(err));
            return -1;
        }
        L->npool++;
    }
    return 0;
}

static void pool_stop(struct loop *L)
{
    pthread_mutex_lock(&L->pool_mu);
    L->closing = true;
    pthread_cond_broadcast(&L->pool_cv);
    pthread_mutex_unlock(&L->pool_mu);
    for (uint32_t i = 0; i < L->npool; i++)
        pthread_join(L->pool[i], NULL);
    free(L->pool);
    L->pool = NULL;
    L->npool = 0;
}

static const struct cv_wait_ops wait_co = {
    .park = co_park, .unpark = co_unpark, .http_get = co_http_get, .offload = co_offload};

/* Coroutines */

static void co_main(void)
{
    struct loop *L = g_loop;
    struct co *c = L->current;
    san_switch_end(&c->san, &L->san);
    struct cv_ctx *ctx = &L->run->ctxs[c->lane];
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    cv__run_task(ctx, c->lane - 1);
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    c->state = CO_DONE;
    san_switch_begin(NULL, &L->san); /* this stack is never switched to again */
    setcontext(&L->loop_uc);
}

static int co_start(struct loop *L, struct co *c)
{
    c->stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (c->stack == MAP_FAILED) {
        c->stack = NULL;
        return -errno;
    }
    mprotect(c->stack, 4096, PROT_NONE); /* guard page: an overflow faults, not corrupts */
    c->stack_id = VALGRIND_STACK_REGISTER(c->stack, (char *)c->stack + STACK_BYTES);
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = c->stack;
    c->uc.uc_stack.ss_size = STACK_BYTES;
    c->uc.uc_link = &L->loop_uc;
    makecontext(&c->uc, co_main, 0);
    san_fiber_create(&c->san, c->stack, STACK_BYTES);
    return 0;
}

static void co_free(struct co *c)
{
    if (c->stack) {
        san_fiber_destroy(&c->san);
        VALGRIND_STACK_DEREGISTER(c->stack_id);
        munmap(c->stack, STACK_BYTES);
    }
    c->stack = NULL;
}

/* The loop */

static void take_remote(struct loop *L)
{
    uint64_t n;
    while (read(L->evfd, &n, sizeof n) < 0 && errno == EINTR)
        ;
    bool stopping = cv_stopping(&L->run->ctxs[0]);
    for (uint32_t lane = 1; lane <= L->ntask_lanes; lane++) {
        struct co *c = &L->cos[lane];
        if (atomic_exchange(&L->remote[lane], 0) || (stopping && c->state == CO_PARKED)) {
            if (c->state == CO_PARKED)
                make_ready(L, c);
            else if (c->state != CO_DONE)
                c->wake_pending = true;
        }
    }
}

static void expire_timers(struct loop *L)
{
    uint64_t now = cv_clock_mono_ns();
    while (L->ntimers && L->timers[0]->deadline <= now)
        make_ready(L, L->timers[0]);
}

/* wait_for: a task still running past its time is reported and cancelled at its wait. */
static uint64_t give_up_tasks(struct loop *L)
{
    if (!L->run->task_timeout_ns)
        return 0;
    uint64_t now = cv_clock_mono_ns(), next = 0;
    for (uint32_t lane = 1; lane <= L->ntask_lanes; lane++) {
        struct co *c = &L->cos[lane];
        if (!c->give_up || c->state == CO_DONE)
            continue;
        if (c->give_up > now) {
            if (!next || c->give_up < next)
                next = c->give_up;
            continue;
        }
        c->give_up = 0;
        struct cv_ctx *ctx = &L->run->ctxs[lane];
        cv_ring_record(ctx->ring, CV_EV_TASK_TIMEOUT, (uint16_t)lane, lane - 1, CV_NO_OBJ, 0);
        atomic_fetch_or(&L->run->task_flags[lane - 1], CV__TASK_CANCEL);
        if (c->state == CO_PARKED)
            make_ready(L, c);
        else
            c->wake_pending = true;
    }
    return next;
}

static int poll_timeout_ms(struct loop *L)
{
    if (L->ready_n)
        return 0;
    uint64_t due = L->ntimers ? L->timers[0]->deadline : 0;
    uint64_t give_up = give_up_tasks(L);
    if (give_up && (!due || give_up < due))
        due = give_up;
    if (L->curl_due && (!due || L->curl_due < due))
        due = L->curl_due;
    uint64_t watch = xproc_due(L);
    if (watch && (!due || watch < due))
        due = watch;
    if (!due)
        return 1000; /* nothing scheduled: wake now and then to notice a stop */
    uint64_t now = cv_clock_mono_ns();
    if (due <= now)
        return 0;
    uint64_t ms = (due - now + 999999) / 1000000;
    return ms > 1000 ? 1000 : (int)ms;
}

static int epoll_run(struct cv_run *run)
{
    struct loop L = {
        .run = run, .thread = pthread_self(), .ncos = run->nlanes, .ntask_lanes = task_count(run)};
    struct pool_arg *pool_args = cv_xcalloc(offload_count(run) + 1, sizeof *pool_args);
    pthread_mutex_init(&L.pool_mu, NULL);
    pthread_cond_init(&L.pool_cv, NULL);
    struct cv_ctx *loop_ctx = &run->ctxs[0];
    int rc = 0;
    L.cos = cv_xcalloc(L.ncos, sizeof *L.cos);
    san_fiber_init_current(&L.san);
    L.ready = cv_xcalloc(L.ncos, sizeof *L.ready);
    L.timers = cv_xcalloc(L.ncos, sizeof *L.timers);
    L.remote = cv_xcalloc(L.ncos, sizeof *L.remote);
    L.epfd = L.evfd = -1;
    /* the first task whose stack could not be made, and why: reported once the loop has freed
     * every stack, since short of memory, the message itself could not be allocated before */
    uint32_t stack_fail = UINT32_MAX;
    int stack_err = 0;
    bool xprocs = run->ops->id == CV_MODEL_HYBRID && !strcmp(cv_param_str(run, "offload"), "procs");
    if (xprocs) {
        /* a write to a dead executor process's pipe must fail with EPIPE, not end concviz */
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    }
    if (xprocs && xproc_start(&L) != 0) {
        rc = -1;
        goto out;
    }
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    L.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (L.epfd < 0 || L.evfd < 0) {
        cv_run_error(run, "cannot create the event loop: %s", strerror(errno));
        rc = -1;
        goto out;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.evfd, &ev);
    for (uint32_t i = 0; i < L.nxprocs; i++) {
        struct epoll_event xev = {.events = EPOLLIN, .data.u64 = XPROC_TAG + i};
        epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.xprocs[i].from, &xev);
    }
    L.multi = curl_multi_init();
    if (!L.multi) {
        cv_run_error(run, "cannot start libcurl's multi interface");
        rc = -1;
        goto out;
    }
    curl_multi_setopt(L.multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
    curl_multi_setopt(L.multi, CURLMOPT_SOCKETDATA, &L);
    curl_multi_setopt(L.multi, CURLMOPT_TIMERFUNCTION, curl_timer);
    curl_multi_setopt(L.multi, CURLMOPT_TIMERDATA, &L);
    g_loop = &L;
    if (!xprocs && pool_start(&L, pool_args) != 0) {
        rc = -1;
        cv_run_stop(run);
    }
    run->os_threads = 1 + L.npool + L.nxprocs;
    run->os_processes = 1 + L.nxprocs;

    cv__submit_all(run);
    uint32_t ntasks = task_count(run);
    /* create_task for every task: each starts at the loop's next turn */
    uint32_t done = 0;
    for (uint32_t lane = 1; lane <= L.ntask_lanes; lane++) {
        L.cos[lane].lane = lane;
        L.cos[lane].state = CO_NEW;
        make_ready(&L, &L.cos[lane]);
    }
    while (done < ntasks) {
        /* run what is ready, in order */
        size_t n = L.ready_n;
        for (size_t k = 0; k < n; k++) {
            struct co *c = &L.cos[L.ready[L.ready_head]];
            L.ready_head = (L.ready_head + 1) % L.ncos;
            L.ready_n--;
            if (c->state == CO_NEW && cv_stopping(loop_ctx)) {
                /* the run stopped before this task started: cancelled, never run */
                cv_ring_record(loop_ctx->ring, CV_EV_TASK_CANCEL, 0, c->lane - 1, CV_NO_OBJ, 0);
                c->state = CO_DONE;
                done++;
                continue;
            }
            int err;
            if (c->state == CO_NEW && (err = co_start(&L, c)) != 0) {
                cv_ring_record(loop_ctx->ring, CV_EV_TASK_CANCEL, 0, c->lane - 1, CV_NO_OBJ, 0);
                if (stack_fail == UINT32_MAX) {
                    stack_fail = c->lane - 1;
                    stack_err = -err;
                }
                c->state = CO_DONE;
                done++;
                rc = -1;
                cv_run_stop(run);
                continue;
            }
            if (c->state == CO_NEW && run->task_timeout_ns)
                c->give_up = cv_clock_mono_ns() + run->task_timeout_ns;
            c->state = CO_RUNNING;
            L.current = c;
            san_switch_begin(&L.san, &c->san);
            swapcontext(&L.loop_uc, &c->uc);
            san_switch_end(&L.san, NULL);
            L.current = NULL;
            if (c->state == CO_DONE) {
                co_free(c);
                done++;
            }
        }
        if (L.stop_after) {
            L.stop_after = false;
            cv_run_stop(run);
        }
        if (done == ntasks)
            break;
        int timeout = poll_timeout_ms(&L);
        struct epoll_event evs[64];
        cv_emit(loop_ctx, CV_EV_LOOP_POLL_BEGIN, CV_NO_OBJ, (uint64_t)timeout);
        int got = epoll_wait(L.epfd, evs, 64, timeout);
        cv_emit(loop_ctx, CV_EV_LOOP_POLL_END, CV_NO_OBJ, got > 0 ? (uint64_t)got : 0);
        if (got < 0 && errno != EINTR) {
            cv_run_error(run, "epoll_wait: %s", strerror(errno));
            rc = -1;
            break;
        }
        int running;
        for (int i = 0; i < got; i++) {
            if (evs[i].data.u64 == UINT64_MAX) {
                take_remote(&L);
                continue;
            }
            if (evs[i].data.u64 >= XPROC_TAG) {
                xproc_readable(&L, (uint32_t)(evs[i].data.u64 - XPROC_TAG));
                continue;
            }
            int what = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(L.multi, (curl_socket_t)evs[i].data.u64, what, &running);
        }
        if (L.curl_due && L.curl_due <= cv_clock_mono_ns()) {
            L.curl_due = 0;
            curl_multi_socket_action(L.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        curl_done(&L);
        if (cv_stopping(loop_ctx))
            take_remote(&L);
        expire_timers(&L);
        give_up_tasks(&L);
        xproc_watch(&L);
    }
    cv_emit(loop_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
out:
    pool_stop(&L);
    xproc_stop(&L);
    if (L.failed)
        rc = -1;
    free(pool_args);
    if (L.multi)
        curl_multi_cleanup(L.multi);
    g_loop = NULL;
    for (uint32_t lane = 1; lane < L.ncos; lane++)
        co_free(&L.cos[lane]);
    if (L.epfd >= 0)
        close(L.epfd);
    if (L.evfd >= 0)
        close(L.evfd);
    pthread_mutex_destroy(&L.pool_mu);
    pthread_cond_destroy(&L.pool_cv);
    free(L.cos);
    free(L.ready);
    free(L.timers);
    free((void *)L.remote);
    if (stack_fail != UINT32_MAX)
        cv_run_error(run, "out of memory: cannot allocate a stack for task %u: %s", stack_fail,
                     strerror(stack_err));
    return rc;
}

const struct cv_model_ops cv__model_epoll = {
    .id = CV_MODEL_EPOLL,
    .lanes = epoll_lanes,
    .run = epoll_run,
    .wait = &wait_co,
    .lane_name = epoll_lane_name,
    .ring_size = epoll_ring_size,
};

const struct cv_model_ops cv__model_hybrid = {
    .id = CV_MODEL_HYBRID,
    .lanes = epoll_lanes,
    .run = epoll_run,
    .wait = &wait_co,
    .lane_name = epoll_lane_name,
    .ring_size = epoll_ring_size,
};

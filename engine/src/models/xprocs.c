/* hybrid's executor as processes (offload = procs, a ProcessPoolExecutor): each job's function
 * and its flat argument go down a pipe, the result and the argument come back up another, every
 * byte counted as pickling would be, and the loop watches the return pipes with epoll. The loop
 * also watches the processes as the procs pool does (watchdog.h): one that is stopped is shown
 * stalled, one whose work has run past the task timeout is killed (its task timed out and
 * cancelled), and when the run stops a stopped one is killed at once. A process that dies fails
 * the task whose work it was running and, unless on_worker_death = continue, the run.
 * Everything here runs on the loop thread. */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

struct xreply {
    int32_t ok;
    uint32_t reserved;
    unsigned char arg[XARG_MAX];
};

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
int cv__xproc_start(struct loop *L)
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
    cv__co_unpark(L->run, j->lane); /* j may be gone after this */
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
void cv__xproc_dispatch(struct loop *L)
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
    cv__xproc_dispatch(L);
}

/* An executor process's return pipe is readable: results, or its end. */
void cv__xproc_readable(struct loop *L, uint32_t i)
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
        cv__xproc_dispatch(L);
}

/* The watchdog's turn over the executor processes (watchdog.h), at every turn of the loop. */
void cv__xproc_watch(struct loop *L)
{
    struct cv_run *run = L->run;
    uint64_t now = cv_clock_mono_ns();
    if (!L->nxprocs)
        return;
    if (!L->xstop_at && cv_stopping(&run->ctxs[0])) {
        L->xstop_at = now;
        cv__xproc_dispatch(L); /* cancels the jobs not started */
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
uint64_t cv__xproc_due(struct loop *L)
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
void cv__xproc_stop(struct loop *L)
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

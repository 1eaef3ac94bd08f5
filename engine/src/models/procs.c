/*
 * procs: forked worker processes. Task-shaped workloads run in a pool (ProcessPoolExecutor):
 * each worker gets a task id and its argument through a pipe, and sends the result back through
 * another; every byte that crosses is counted, as pickling would be. Role-shaped workloads get one
 * process per role (multiprocessing.Process). Everything the workers share lives in the shared
 * mapping made before the fork.
 *
 * The parent's pipe ends are non-blocking (watchdog.h): a worker stopped halfway through a
 * message must not block the parent, which watches the workers and must stay able to stop the
 * run.
 *
 * A worker that dies (crash, kill -9) is seen at once as end-of-file on its pipe (pool) or by
 * waitpid (roles): its lane is marked dead, its task failed with the signal, and the run stops.
 * Stopping closes the task pipes; workers still running after a grace period are killed (their
 * tasks are cancelled: the stop asked for it). Every child is reaped; each child also dies with
 * its parent (PR_SET_PDEATHSIG).
 *
 * The watchdog (watchdog.h): a stopped worker is shown stalled; one whose task has run past the
 * task timeout is killed, so the task does not run on: it is reported timed out and cancelled,
 * and the worker's death is handled as any other (the run stops, unless on_worker_death =
 * continue). A stopped worker with nothing left to do would hold up the run's end: after the
 * task timeout it is killed too, which loses no task (a warning). The parent wakes at the
 * nearest deadline, so a timeout of a few milliseconds is kept to the millisecond.
 */
#include "internal.h"
#include "run/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_STOP  UINT32_MAX
#define ROLE_TURN 5000000ull /* how often role processes are looked at, at most */

struct msg_task {
    uint32_t task;
    uint32_t len;
};

struct msg_result {
    uint32_t task;
    int32_t rc;
    uint32_t len;
    uint32_t reserved;
};

struct child {
    struct cv__worker w;      /* its task in flight (w.task), its state */
    int to_child, from_child; /* the parent's ends, -1 when closed */
    bool cut;                 /* the stop closed its pipe halfway through sending it a task */
    /* the message being sent: its header, then the task's argument */
    struct msg_task tx_head;
    const unsigned char *tx_arg;
    size_t tx_len, tx_sent; /* tx_len = 0: nothing to send */
    struct cv__inbuf rx;    /* what has come in of the next result */
};

static uint32_t procs_lanes(const struct cv_run *run)
{
    return 1 + run->workers;
}

static void pool_child(struct cv_run *run, uint32_t lane, int in, int out)
{
    struct cv_ctx *ctx = &run->ctxs[lane];
    char *buf = NULL;
    size_t cap = 0;
    cv__lane_ready(run, lane);
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    for (;;) {
        struct msg_task m;
        if (cv__read_all(in, &m, sizeof m) != 1 || m.task == MSG_STOP)
            break;
        if (m.len > cap) {
            buf = cv_xrealloc(buf, m.len);
            cap = m.len;
        }
        if (m.len && cv__read_all(in, buf, m.len) != 1)
            break;
        int rc = cv__run_task_arg(ctx, m.task, buf, m.len);
        struct msg_result r = {m.task, rc, (uint32_t)ctx->out_len, 0};
        if (cv__write_all(out, &r, sizeof r) != 0 ||
            (ctx->out_len && cv__write_all(out, ctx->out, ctx->out_len) != 0))
            break;
        ctx->out_len = 0;
    }
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    _exit(0);
}

static void role_child(struct cv_run *run, uint32_t lane)
{
    struct cv_ctx *ctx = &run->ctxs[lane];
    cv__lane_ready(run, lane);
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    int rc = cv__run_task(ctx, lane - 1);
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    _exit(rc == 0 ? 0 : 1);
}

/* Forks the worker for `lane`; pool workers get a pipe pair. Returns 0 or -1. */
static int spawn(struct cv_run *run, struct child *c, uint32_t lane, bool pool, struct child *all,
                 uint32_t n)
{
    int down[2] = {-1, -1}, up[2] = {-1, -1};
    if (pool && (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0)) {
        cv_run_error(run, "cannot make pipes for worker %u: %s", lane, strerror(errno));
        return -1;
    }
    sigset_t all_sigs, old;
    sigfillset(&all_sigs);
    pthread_sigmask(SIG_BLOCK, &all_sigs, &old);
    pid_t parent = getpid();
    cv__lane_spawning(run, lane);
    pid_t pid = cv__fork_worker(run);
    if (pid == 0) {
        cv__child_setup(run, lane, parent, &old);
        for (uint32_t i = 0; i < n; i++) { /* other workers' pipe ends */
            if (all[i].to_child >= 0)
                close(all[i].to_child);
            if (all[i].from_child >= 0)
                close(all[i].from_child);
        }
        if (pool) {
            close(down[1]);
            close(up[0]);
            pool_child(run, lane, down[0], up[1]);
        }
        role_child(run, lane);
    }
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        cv_run_error(run, "cannot start worker process %u: %s", lane, strerror(err));
        if (pool) {
            close(down[0]);
            close(down[1]);
            close(up[0]);
            close(up[1]);
        }
        return -1;
    }
    cv__worker_init(&c->w, pid, lane, true);
    c->to_child = c->from_child = -1;
    if (pool) {
        close(down[0]);
        close(up[1]);
        c->to_child = down[1];
        c->from_child = up[0];
        cv__set_nonblock(c->to_child);
        cv__set_nonblock(c->from_child);
    }
    return 0;
}

/* Writes what the pipe takes of the message being sent. A failed write means the worker died;
 * its pipe's end-of-file reports that. */
static void flush_task(struct child *c)
{
    while (c->tx_sent < c->tx_len && c->to_child >= 0) {
        size_t head = sizeof c->tx_head;
        const unsigned char *p = c->tx_sent < head ? (const unsigned char *)&c->tx_head + c->tx_sent
                                                   : c->tx_arg + (c->tx_sent - head);
        size_t n = c->tx_sent < head ? head - c->tx_sent : c->tx_len - c->tx_sent;
        ssize_t w = cv__pipe_put(c->to_child, p, n);
        if (w < 0)
            c->tx_len = 0; /* gone */
        if (w <= 0)
            return;
        c->tx_sent += (size_t)w;
    }
    c->tx_len = c->tx_sent = 0;
}

static void send_task(struct cv_run *run, struct child *c, uint32_t task)
{
    const void *arg = NULL;
    size_t len = 0;
    if (run->wl->task_arg)
        len = run->wl->task_arg(run, task, &arg);
    c->tx_head = (struct msg_task){task, (uint32_t)len};
    c->tx_arg = arg;
    c->tx_len = sizeof c->tx_head + len;
    c->tx_sent = 0;
    cv__worker_set_task(&c->w, task);
    run->bytes_copied += c->tx_len;
    flush_task(c);
}

/* The next whole result in the buffer, if there is one: its header in *r, its bytes at
 * c->rx.p + sizeof *r. */
static bool whole_result(const struct child *c, struct msg_result *r)
{
    if (c->rx.len < sizeof *r)
        return false;
    memcpy(r, c->rx.p, sizeof *r);
    return c->rx.len - sizeof *r >= r->len;
}

/* The watchdog's turn over every worker (watchdog.h); returns when it next needs one. */
static uint64_t watch(struct cv_run *run, struct child *kids, uint32_t n, uint64_t stop_at)
{
    uint64_t now = cv_clock_mono_ns(), due = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct cv__worker *w = &kids[i].w;
        w->retiring = kids[i].to_child < 0;
        if (cv__worker_watch(run, w, now, stop_at != 0))
            cv_ring_record(run->ctxs[0].ring, CV_EV_TASK_TIMEOUT, 0, w->overdue, CV_NO_OBJ, 0);
        if (stop_at)
            cv__worker_stopping(w, stop_at, now);
        uint64_t d = cv__worker_due(run, w, stop_at);
        if (d && (!due || d < due))
            due = d;
    }
    return due;
}

/* Milliseconds from now until `due` (rounded up, so the wait does not end just before it), at
 * most `max`. */
static int ms_until(uint64_t due, int max)
{
    uint64_t now = cv_clock_mono_ns();
    if (!due)
        return max;
    if (due <= now)
        return 0;
    uint64_t ms = (due - now + 999999) / 1000000;
    return ms < (uint64_t)max ? (int)ms : max;
}

static int run_pool(struct cv_run *run, struct child *kids, uint32_t n)
{
    int rc = 0;
    uint32_t next = 0;
    uint64_t stop_at = 0;
    struct pollfd *pfd = cv_xcalloc(2 * (size_t)n, sizeof *pfd); /* results, then task pipes */
    for (uint32_t i = 0; i < n && next < run->ntasks; i++)
        send_task(run, &kids[i], next++);
    for (uint32_t i = 0; i < n; i++)
        if (kids[i].w.task == CV_NONE)
            cv__close_fd(&kids[i].to_child);
    for (;;) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            pfd[i].fd = c->w.reaped ? -1 : c->from_child;
            pfd[i].events = POLLIN;
            pfd[n + i].fd = !c->w.reaped && c->tx_len ? c->to_child : -1;
            pfd[n + i].events = POLLOUT;
            live += !c->w.reaped;
        }
        if (!live)
            break;
        if (cv_stopping(&run->ctxs[0]) && !stop_at) {
            stop_at = cv_clock_mono_ns();
            for (uint32_t i = 0; i < n; i++) {
                cv__close_fd(&kids[i].to_child);
                kids[i].cut = kids[i].tx_len > 0; /* it will not get its task: cancelled */
                kids[i].tx_len = 0;
            }
        }
        /* At every turn, after the results that came in: it sleeps until the nearest deadline,
         * at most 50 ms (a stop is seen by looking). */
        uint64_t due = watch(run, kids, n, stop_at);
        if (poll(pfd, 2 * (nfds_t)n, ms_until(due, 50)) < 0 && errno != EINTR)
            break;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            if (!c->w.reaped && (pfd[n + i].revents & (POLLOUT | POLLERR | POLLHUP)))
                flush_task(c);
            if (c->w.reaped || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int open = cv__pipe_take(c->from_child, &c->rx);
            struct msg_result r;
            while (whole_result(c, &r)) {
                run->bytes_copied += sizeof r + r.len;
                if (r.rc == 0 && run->wl->task_done)
                    run->wl->task_done(run, r.task, c->rx.p + sizeof r, r.len);
                cv__inbuf_drop(&c->rx, sizeof r + r.len);
                cv__worker_set_task(&c->w, CV_NONE);
                if (!stop_at && next < run->ntasks && c->w.killed == CV__ALIVE)
                    send_task(run, c, next++);
                else
                    cv__close_fd(&c->to_child);
            }
            if (open)
                continue;
            /* End of file: the worker is gone (a piece of a result left over is lost). */
            int status = 0;
            while (waitpid(c->w.pid, &status, 0) < 0 && errno == EINTR)
                ;
            cv__close_fd(&c->from_child);
            cv__close_fd(&c->to_child);
            if (cv__worker_reaped(run, &c->w, status, c->cut) != 0 && !run->sc->survive_death &&
                rc == 0) {
                rc = -1;
                cv_run_stop(run);
            }
        }
    }
    /* Tasks never handed out. */
    for (uint32_t t = next; t < run->ntasks; t++)
        cv_ring_record(run->ctxs[0].ring, CV_EV_TASK_CANCEL, 0, t, CV_NO_OBJ, 0);
    for (uint32_t i = 0; i < n; i++)
        free(kids[i].rx.p);
    free(pfd);
    return rc;
}

static int run_roles(struct cv_run *run, struct child *kids, uint32_t n)
{
    int rc = 0;
    uint64_t stop_at = 0;
    for (uint32_t i = 0; i < n; i++)
        kids[i].w.task = i; /* each role is its task until the process exits */
    for (;;) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            if (c->w.reaped)
                continue;
            int status;
            pid_t p = waitpid(c->w.pid, &status, WNOHANG);
            if (p == c->w.pid) {
                if (WIFEXITED(status))
                    c->w.task = CV_NONE;
                if (cv__worker_reaped(run, &c->w, status, false) != 0 && !run->sc->survive_death &&
                    rc == 0) {
                    rc = -1;
                    cv_run_stop(run);
                }
            } else {
                live++;
            }
        }
        if (!live)
            break;
        if (cv_stopping(&run->ctxs[0]) && !stop_at)
            stop_at = cv_clock_mono_ns();
        /* turns of 5 ms (an exit is seen by looking), shorter to meet the nearest deadline */
        uint64_t due = watch(run, kids, n, stop_at), now = cv_clock_mono_ns();
        uint64_t nap = due > now && due - now < ROLE_TURN ? due - now : ROLE_TURN;
        if (due && due <= now)
            nap = 0;
        struct timespec ts = {0, (long)nap};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static int procs_run(struct cv_run *run)
{
    struct cv_ctx *main_ctx = &run->ctxs[0];
    bool pool = run->wl->shape == CV_SHAPE_TASKS;
    uint32_t n = run->workers;
    struct child *kids = cv_xcalloc(n, sizeof *kids);
    for (uint32_t i = 0; i < n; i++)
        kids[i].to_child = kids[i].from_child = -1;
    /* Writes to a dead worker's pipe must fail with EPIPE, not kill the process. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);

    cv__submit_all(run);
    uint32_t started = 0;
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (spawn(run, &kids[i], i + 1, pool, kids, i) != 0) {
            rc = -1;
            cv_run_stop(run);
            break;
        }
        started++;
    }
    run->os_processes = 1 + started;
    run->os_threads = 1 + started;
    int rc2 = pool ? run_pool(run, kids, started) : run_roles(run, kids, started);
    if (rc == 0)
        rc = rc2;
    cv_emit(main_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    free(kids);
    return rc;
}

const struct cv_model_ops cv__model_procs = {
    .id = CV_MODEL_PROCS,
    .lanes = procs_lanes,
    .run = procs_run,
    .wait = &cv__wait_block,
};

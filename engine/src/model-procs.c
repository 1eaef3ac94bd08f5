/*
 * procs: forked worker processes. Task-shaped workloads run in a pool (ProcessPoolExecutor):
 * each worker gets a task id and its argument through a pipe, and sends the result back through
 * another; every byte that crosses is counted, as pickling would be. Role-shaped workloads get one
 * process per role (multiprocessing.Process). Everything the workers share lives in the shared
 * mapping made before the fork.
 *
 * A worker that dies (crash, kill -9) is seen at once as end-of-file on its pipe (pool) or by
 * waitpid (roles): its lane is marked dead, its task failed with the signal, and the run stops.
 * Stopping closes the task pipes; workers still running after a grace period are killed. Every
 * child is reaped; each child also dies with its parent (PR_SET_PDEATHSIG).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_STOP      UINT32_MAX
#define STOP_GRACE_NS 2000000000ull /* then stragglers are killed */

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
    pid_t pid;
    int to_child, from_child; /* the parent's ends, -1 when closed */
    uint32_t lane;
    uint32_t task; /* in flight, CV_NONE when idle */
    bool reaped;
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
    pid_t pid = fork();
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
    c->pid = pid;
    c->lane = lane;
    c->task = CV_NONE;
    c->reaped = false;
    c->to_child = c->from_child = -1;
    if (pool) {
        close(down[0]);
        close(up[1]);
        c->to_child = down[1];
        c->from_child = up[0];
    }
    return 0;
}

/* Records a worker's end; returns -1 if it died (crash, signal, or left a task unfinished). */
static int reaped(struct cv_run *run, struct child *c, int status)
{
    c->reaped = true;
    bool died = WIFSIGNALED(status) ||
                (WIFEXITED(status) && WEXITSTATUS(status) != 0 && run->wl->shape != CV_SHAPE_ROLES);
    if (!died && c->task == CV_NONE)
        return 0;
    if (!died && WIFEXITED(status) && run->wl->shape == CV_SHAPE_ROLES)
        return 0; /* a role that returned an error reported it as a failed task itself */
    /* The child is gone, so the parent may write its lane's ring. */
    struct cv_ctx *ctx = &run->ctxs[c->lane];
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    uint64_t code = sig ? 128u + (uint64_t)sig : (uint64_t)WEXITSTATUS(status);
    if (c->task != CV_NONE) {
        ctx->task = c->task;
        cv_emit(ctx, CV_EV_TASK_FAIL, CV_NO_OBJ, code);
        ctx->task = CV_NO_TASK;
    }
    cv_emit(ctx, CV_EV_WORKER_DEAD, CV_NO_OBJ, (uint64_t)sig);
    char what[96];
    if (sig)
        snprintf(what, sizeof what, "was killed by signal %d (SIG%s)", sig, cv__signal_name(sig));
    else
        snprintf(what, sizeof what, "exited with status %d", WEXITSTATUS(status));
    if (c->task != CV_NONE)
        cv_run_error(run, "%s (pid %d) %s while running task %u", run->lanes[c->lane].name,
                     (int)c->pid, what, c->task);
    else
        cv_run_error(run, "%s (pid %d) %s", run->lanes[c->lane].name, (int)c->pid, what);
    c->task = CV_NONE;
    return -1;
}

static void send_task(struct cv_run *run, struct child *c, uint32_t task)
{
    const void *arg = NULL;
    size_t len = 0;
    if (run->wl->task_arg)
        len = run->wl->task_arg(run, task, &arg);
    struct msg_task m = {task, (uint32_t)len};
    c->task = task;
    run->bytes_copied += sizeof m + len;
    /* A failed write means the worker died; its pipe's end-of-file reports that. */
    if (cv__write_all(c->to_child, &m, sizeof m) == 0 && len)
        cv__write_all(c->to_child, arg, len);
}

/* Kills whatever is still running after the grace period. */
static void kill_stragglers(struct child *kids, uint32_t n, uint64_t stop_at)
{
    if (!stop_at || cv_clock_mono_ns() - stop_at < STOP_GRACE_NS)
        return;
    for (uint32_t i = 0; i < n; i++)
        if (!kids[i].reaped)
            kill(kids[i].pid, SIGKILL);
}

static int run_pool(struct cv_run *run, struct child *kids, uint32_t n)
{
    int rc = 0;
    uint32_t next = 0;
    uint64_t stop_at = 0;
    struct pollfd *pfd = cv_xcalloc(n, sizeof *pfd);
    void *buf = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < n && next < run->ntasks; i++)
        send_task(run, &kids[i], next++);
    for (uint32_t i = 0; i < n; i++)
        if (kids[i].task == CV_NONE)
            cv__close_fd(&kids[i].to_child);
    for (;;) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < n; i++) {
            pfd[i].fd = kids[i].reaped ? -1 : kids[i].from_child;
            pfd[i].events = POLLIN;
            live += !kids[i].reaped;
        }
        if (!live)
            break;
        if (cv_stopping(&run->ctxs[0]) && !stop_at) {
            stop_at = cv_clock_mono_ns();
            for (uint32_t i = 0; i < n; i++)
                cv__close_fd(&kids[i].to_child);
        }
        kill_stragglers(kids, n, stop_at);
        if (poll(pfd, n, 50) < 0 && errno != EINTR)
            break;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            if (c->reaped || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct msg_result r;
            int got = cv__read_all(c->from_child, &r, sizeof r);
            if (got == 1 && r.len > cap) {
                buf = cv_xrealloc(buf, r.len);
                cap = r.len;
            }
            if (got == 1 && r.len && cv__read_all(c->from_child, buf, r.len) != 1)
                got = -1;
            if (got == 1) {
                run->bytes_copied += sizeof r + r.len;
                if (r.rc == 0 && run->wl->task_done)
                    run->wl->task_done(run, r.task, buf, r.len);
                c->task = CV_NONE;
                if (!stop_at && next < run->ntasks)
                    send_task(run, c, next++);
                else
                    cv__close_fd(&c->to_child);
                continue;
            }
            /* End of file: the worker is gone. */
            int status = 0;
            while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
                ;
            cv__close_fd(&c->from_child);
            cv__close_fd(&c->to_child);
            if (reaped(run, c, status) != 0 && !run->sc->survive_death && rc == 0) {
                rc = -1;
                cv_run_stop(run);
            }
        }
    }
    /* Tasks never handed out. */
    for (uint32_t t = next; t < run->ntasks; t++)
        cv_ring_record(run->ctxs[0].ring, CV_EV_TASK_CANCEL, 0, t, CV_NO_OBJ, 0);
    free(pfd);
    free(buf);
    return rc;
}

static int run_roles(struct cv_run *run, struct child *kids, uint32_t n)
{
    int rc = 0;
    uint64_t stop_at = 0;
    for (uint32_t i = 0; i < n; i++)
        kids[i].task = i; /* each role is its task until the process exits */
    for (;;) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            if (c->reaped)
                continue;
            int status;
            pid_t p = waitpid(c->pid, &status, WNOHANG);
            if (p == c->pid) {
                if (WIFEXITED(status))
                    c->task = CV_NONE;
                if (reaped(run, c, status) != 0 && !run->sc->survive_death && rc == 0) {
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
        kill_stragglers(kids, n, stop_at);
        struct timespec ts = {0, 5000000};
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

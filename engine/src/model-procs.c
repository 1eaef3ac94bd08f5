/*
 * procs: forked worker processes. Task-shaped workloads run in a pool (ProcessPoolExecutor):
 * each worker gets a task id and its argument through a pipe, and sends the result back through
 * another; every byte that crosses is counted, as pickling would be. Role-shaped workloads get one
 * process per role (multiprocessing.Process). Everything the workers share lives in the shared
 * mapping made before the fork.
 *
 * The parent's pipe ends are non-blocking, and a message is sent or taken in as many pieces as
 * the pipe allows: a worker stopped halfway through a message must not block the parent, which
 * watches the workers and must stay able to stop the run.
 *
 * A worker that dies (crash, kill -9) is seen at once as end-of-file on its pipe (pool) or by
 * waitpid (roles): its lane is marked dead, its task failed with the signal, and the run stops.
 * Stopping closes the task pipes; workers still running after a grace period are killed (their
 * tasks are cancelled: the stop asked for it). Every child is reaped; each child also dies with
 * its parent (PR_SET_PDEATHSIG).
 *
 * The watchdog: at every turn the parent looks at each worker. One that is stopped (SIGSTOP, a
 * debugger: state T in /proc) is shown stalled until it runs again; one whose task has run past
 * the task timeout is killed. A process, unlike a thread, can be ended from outside, so the task
 * does not run on: it is reported timed out and cancelled, and the worker's death is handled as
 * any other (the run stops, unless on_worker_death = continue). A stopped worker with nothing
 * left to do would hold up the run's end: after the task timeout it is killed too, which loses
 * no task (a warning).
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
#define WATCH_NS      50000000ull   /* how often the watchdog looks at the workers */

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
    uint32_t task;  /* in flight, CV_NONE when idle */
    uint64_t since; /* when it got its task, or went idle (CLOCK_MONOTONIC ns) */
    bool reaped;
    bool stalled; /* seen stopped, and shown so */
    enum {
        ALIVE,
        KILLED_TIMEOUT, /* by the watchdog, running task `overdue` */
        KILLED_IDLE,    /* by the watchdog, stopped with nothing left to do */
        KILLED_STOP,    /* the run stopped and it did not */
    } killed;
    uint32_t overdue;
    bool cut; /* the stop closed its pipe halfway through sending it a task */
    /* the message being sent: its header, then the task's argument */
    struct msg_task tx_head;
    const unsigned char *tx_arg;
    size_t tx_len, tx_sent; /* tx_len = 0: nothing to send */
    /* what has come in of the next result */
    unsigned char *rx;
    size_t rx_len, rx_cap;
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
    c->since = cv_clock_mono_ns();
    c->reaped = false;
    c->to_child = c->from_child = -1;
    if (pool) {
        close(down[0]);
        close(up[1]);
        c->to_child = down[1];
        c->from_child = up[0];
        fcntl(c->to_child, F_SETFL, fcntl(c->to_child, F_GETFL) | O_NONBLOCK);
        fcntl(c->from_child, F_SETFL, fcntl(c->from_child, F_GETFL) | O_NONBLOCK);
    }
    return 0;
}

static void fmt_timeout(char *buf, size_t n, uint64_t ns)
{
    double s = (double)ns / 1e9;
    if (s >= 1)
        snprintf(buf, n, "%g s", s);
    else
        snprintf(buf, n, "%g ms", s * 1e3);
}

/* Records the end of a worker the parent killed (or whose task the stop cut short): its task
 * was cancelled, not failed. Returns -1 when a task timed out (a death the run reports), else 0.
 */
static int reaped_killed(struct cv_run *run, struct child *c, int status)
{
    struct cv_ctx *ctx = &run->ctxs[c->lane];
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (c->task != CV_NONE) {
        ctx->task = c->task;
        cv_emit(ctx, CV_EV_TASK_CANCEL, CV_NO_OBJ, 0);
        ctx->task = CV_NO_TASK;
    }
    if (WIFSIGNALED(status))
        cv_emit(ctx, CV_EV_WORKER_DEAD, CV_NO_OBJ, (uint64_t)sig);
    c->task = CV_NONE;
    char t[32];
    fmt_timeout(t, sizeof t, run->task_timeout_ns);
    if (c->killed == KILLED_IDLE)
        cv_run_error(run,
                     "%s (pid %d) stalled (the process was stopped) with no task left; killed it "
                     "after %s (SIG%s)",
                     run->lanes[c->lane].name, (int)c->pid, t,
                     cv__signal_name(sig ? sig : SIGKILL));
    if (c->killed != KILLED_TIMEOUT)
        return 0;
    cv_run_error(run, "%s (pid %d) %s: task %u timed out after %s; killed the worker (SIG%s)",
                 run->lanes[c->lane].name, (int)c->pid,
                 c->stalled ? "stalled (the process was stopped)" : "overran", c->overdue, t,
                 cv__signal_name(sig ? sig : SIGKILL));
    return -1;
}

/* Records a worker's end; returns -1 if it died (crash, signal, or left a task unfinished). */
static int reaped(struct cv_run *run, struct child *c, int status)
{
    c->reaped = true;
    if (c->killed != ALIVE || (c->cut && WIFEXITED(status)))
        return reaped_killed(run, c, status);
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

/* Writes what the pipe takes of the message being sent. A failed write means the worker died;
 * its pipe's end-of-file reports that. */
static void flush_task(struct child *c)
{
    while (c->tx_sent < c->tx_len && c->to_child >= 0) {
        size_t head = sizeof c->tx_head;
        const unsigned char *p = c->tx_sent < head ? (const unsigned char *)&c->tx_head + c->tx_sent
                                                   : c->tx_arg + (c->tx_sent - head);
        size_t n = c->tx_sent < head ? head - c->tx_sent : c->tx_len - c->tx_sent;
        ssize_t w = write(c->to_child, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
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
    c->task = task;
    c->since = cv_clock_mono_ns();
    run->bytes_copied += c->tx_len;
    flush_task(c);
}

/* Reads what the pipe holds into the worker's buffer. Returns 1 while it is open, 0 at its
 * end-of-file (or an error: the worker is gone either way). */
static int take_in(struct child *c)
{
    for (;;) {
        if (c->rx_cap - c->rx_len < 4096) {
            c->rx_cap = c->rx_cap ? 2 * c->rx_cap : 65536;
            c->rx = cv_xrealloc(c->rx, c->rx_cap);
        }
        ssize_t r = read(c->from_child, c->rx + c->rx_len, c->rx_cap - c->rx_len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 1;
        if (r <= 0)
            return 0;
        c->rx_len += (size_t)r;
    }
}

/* The next whole result in the buffer, if there is one: its header in *r, its bytes at
 * c->rx + sizeof *r; the caller drops it with drop_result. */
static bool whole_result(const struct child *c, struct msg_result *r)
{
    if (c->rx_len < sizeof *r)
        return false;
    memcpy(r, c->rx, sizeof *r);
    return c->rx_len - sizeof *r >= r->len;
}

static void drop_result(struct child *c, const struct msg_result *r)
{
    size_t n = sizeof *r + r->len;
    memmove(c->rx, c->rx + n, c->rx_len - n);
    c->rx_len -= n;
}

/* Kills whatever is still running after the grace period, and at once a stopped worker, which
 * cannot stop by itself. */
static void kill_stragglers(struct child *kids, uint32_t n, uint64_t stop_at)
{
    if (!stop_at)
        return;
    bool late = cv_clock_mono_ns() - stop_at >= STOP_GRACE_NS;
    for (uint32_t i = 0; i < n; i++) {
        if (!kids[i].reaped && kids[i].killed == ALIVE && (late || kids[i].stalled)) {
            kids[i].killed = KILLED_STOP;
            kill(kids[i].pid, SIGKILL);
        }
    }
}

/* A process's state letter from /proc/PID/stat (R, S, D, T, t, Z, ...), or 0. */
static char proc_state(pid_t pid)
{
    char path[48], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* after the name, which may hold anything */
    return p && p[1] == ' ' ? p[2] : 0;
}

/* The watchdog (see the top): stalls shown on the main lane's ring (the worker's own ring has
 * one producer, the worker), overdue tasks timed out and their workers killed. */
static void watch(struct cv_run *run, struct child *kids, uint32_t n, uint64_t stop_at)
{
    struct cv_ring *ring = run->ctxs[0].ring;
    uint64_t now = cv_clock_mono_ns(), limit = run->task_timeout_ns;
    for (uint32_t i = 0; i < n; i++) {
        struct child *c = &kids[i];
        /* a worker that just got a task or sent a result is not stopped: no need to look */
        if (c->reaped || c->killed != ALIVE || (now - c->since < WATCH_NS && !c->stalled))
            continue;
        char st = proc_state(c->pid);
        bool stopped = st == 'T' || st == 't';
        if (stopped != c->stalled) {
            c->stalled = stopped;
            cv_ring_record(ring, stopped ? CV_EV_WORKER_STALL : CV_EV_WORKER_RESUME, 0, c->task,
                           c->lane, 0);
        }
        if (!limit || stop_at || now - c->since < limit)
            continue;
        if (c->task != CV_NONE) {
            cv_ring_record(ring, CV_EV_TASK_TIMEOUT, 0, c->task, CV_NO_OBJ, 0);
            c->killed = KILLED_TIMEOUT;
            c->overdue = c->task;
            kill(c->pid, SIGKILL);                  /* even a stopped process dies of it */
        } else if (c->stalled && c->to_child < 0) { /* retiring, but stopped */
            c->killed = KILLED_IDLE;
            kill(c->pid, SIGKILL);
        }
    }
}

static int run_pool(struct cv_run *run, struct child *kids, uint32_t n)
{
    int rc = 0;
    uint32_t next = 0;
    uint64_t stop_at = 0, watched = 0;
    struct pollfd *pfd = cv_xcalloc(2 * (size_t)n, sizeof *pfd); /* results, then task pipes */
    for (uint32_t i = 0; i < n && next < run->ntasks; i++)
        send_task(run, &kids[i], next++);
    for (uint32_t i = 0; i < n; i++)
        if (kids[i].task == CV_NONE)
            cv__close_fd(&kids[i].to_child);
    for (;;) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            pfd[i].fd = c->reaped ? -1 : c->from_child;
            pfd[i].events = POLLIN;
            pfd[n + i].fd = !c->reaped && c->tx_len ? c->to_child : -1;
            pfd[n + i].events = POLLOUT;
            live += !c->reaped;
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
        kill_stragglers(kids, n, stop_at);
        uint64_t now = cv_clock_mono_ns();
        if (now - watched >= WATCH_NS) { /* not at every result: tiny tasks come by the 100,000 */
            watch(run, kids, n, stop_at);
            watched = now;
        }
        if (poll(pfd, 2 * (nfds_t)n, 50) < 0 && errno != EINTR)
            break;
        for (uint32_t i = 0; i < n; i++) {
            struct child *c = &kids[i];
            if (!c->reaped && (pfd[n + i].revents & (POLLOUT | POLLERR | POLLHUP)))
                flush_task(c);
            if (c->reaped || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int open = take_in(c);
            struct msg_result r;
            while (whole_result(c, &r)) {
                run->bytes_copied += sizeof r + r.len;
                if (r.rc == 0 && run->wl->task_done)
                    run->wl->task_done(run, r.task, c->rx + sizeof r, r.len);
                drop_result(c, &r);
                c->task = CV_NONE;
                c->since = cv_clock_mono_ns();
                if (!stop_at && next < run->ntasks && c->killed == ALIVE)
                    send_task(run, c, next++);
                else
                    cv__close_fd(&c->to_child);
            }
            if (open)
                continue;
            /* End of file: the worker is gone (a piece of a result left over is lost). */
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
    for (uint32_t i = 0; i < n; i++)
        free(kids[i].rx);
    free(pfd);
    return rc;
}

static int run_roles(struct cv_run *run, struct child *kids, uint32_t n)
{
    int rc = 0;
    uint64_t stop_at = 0, turns = 0;
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
        if (++turns % (WATCH_NS / 5000000) == 0) /* the turns are 5 ms */
            watch(run, kids, n, stop_at);
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

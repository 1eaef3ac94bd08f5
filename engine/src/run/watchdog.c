/* Watching forked workers, for the procs pool and hybrid's executor of processes: see
 * watchdog.h. */
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void cv__worker_init(struct cv__worker *w, pid_t pid, uint32_t lane, bool runs_tasks)
{
    *w = (struct cv__worker){.pid = pid, .lane = lane, .task = CV_NONE, .runs_tasks = runs_tasks};
    w->since = cv_clock_mono_ns();
}

void cv__worker_set_task(struct cv__worker *w, uint32_t task)
{
    w->task = task;
    w->since = cv_clock_mono_ns();
}

char cv__proc_state(pid_t pid)
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

bool cv__worker_watch(struct cv_run *run, struct cv__worker *w, uint64_t now, bool stopping)
{
    if (w->reaped || w->killed != CV__ALIVE)
        return false;
    /* A worker that just got work or sent a result is not stopped: no need to look. Stalls are
     * shown on the main lane's ring: the worker's own ring has one producer, the worker. */
    if (now - w->looked >= CV__WATCH_NS && (w->stalled || now - w->since >= CV__WATCH_NS)) {
        w->looked = now;
        char st = cv__proc_state(w->pid);
        bool stopped = st == 'T' || st == 't';
        if (stopped != w->stalled) {
            w->stalled = stopped;
            cv_ring_record(run->ctxs[0].ring, stopped ? CV_EV_WORKER_STALL : CV_EV_WORKER_RESUME, 0,
                           w->task, w->lane, 0);
        }
    }
    uint64_t limit = run->task_timeout_ns;
    if (!limit || stopping || now - w->since < limit)
        return false;
    if (w->task != CV_NONE) {
        w->killed = CV__KILLED_TIMEOUT;
        w->overdue = w->task;
        kill(w->pid, SIGKILL); /* even a stopped process dies of it */
        return true;
    }
    if (w->stalled && w->retiring) {
        w->killed = CV__KILLED_IDLE;
        kill(w->pid, SIGKILL);
    }
    return false;
}

void cv__worker_stopping(struct cv__worker *w, uint64_t stop_at, uint64_t now)
{
    if (w->reaped || w->killed != CV__ALIVE)
        return;
    if (w->stalled || now - stop_at >= CV__STOP_GRACE_NS) {
        w->killed = CV__KILLED_STOP;
        kill(w->pid, SIGKILL);
    }
}

uint64_t cv__worker_due(const struct cv_run *run, const struct cv__worker *w, uint64_t stop_at)
{
    if (w->reaped || w->killed != CV__ALIVE)
        return 0; /* its pipe's end of file comes next */
    uint64_t due = (w->stalled || w->looked > w->since ? w->looked : w->since) + CV__WATCH_NS;
    uint64_t limit = run->task_timeout_ns;
    if (stop_at) {
        if (stop_at + CV__STOP_GRACE_NS < due)
            due = stop_at + CV__STOP_GRACE_NS;
    } else if (limit && (w->task != CV_NONE || (w->stalled && w->retiring))) {
        if (w->since + limit < due)
            due = w->since + limit;
    }
    return due;
}

static void fmt_timeout(char *buf, size_t n, uint64_t ns)
{
    double s = (double)ns / 1e9;
    if (s >= 1)
        snprintf(buf, n, "%g s", s);
    else
        snprintf(buf, n, "%g ms", s * 1e3);
}

static const char *work_of(const struct cv__worker *w)
{
    return w->runs_tasks ? "task" : "work for task";
}

/* The task the worker held that has not ended, or CV_NONE. A worker ends its task on its lane
 * (the event, the task's DONE flag) before it sends the result: one killed or stopped between
 * the two leaves a task that has ended but whose result never came. Its end is recorded
 * already; a second one would count it twice. */
static uint32_t unended(struct cv_run *run, const struct cv__worker *w)
{
    if (w->task == CV_NONE || !w->runs_tasks)
        return w->task;
    return atomic_load(&run->task_flags[w->task]) & CV__TASK_DONE ? CV_NONE : w->task;
}

/* The end of a worker the parent killed (or whose task the stop cut short): its task was
 * cancelled, not failed. Returns -1 when its work timed out (a death the run reports), else 0. */
static int reaped_killed(struct cv_run *run, struct cv__worker *w, int status)
{
    struct cv_ctx *ctx = &run->ctxs[w->lane];
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (w->runs_tasks && unended(run, w) != CV_NONE) {
        ctx->task = w->task;
        cv_emit(ctx, CV_EV_TASK_CANCEL, CV_NO_OBJ, 0);
        ctx->task = CV_NO_TASK;
    }
    if (WIFSIGNALED(status))
        cv_emit(ctx, CV_EV_WORKER_DEAD, CV_NO_OBJ, (uint64_t)sig);
    w->task = CV_NONE;
    char t[32];
    fmt_timeout(t, sizeof t, run->task_timeout_ns);
    if (w->killed == CV__KILLED_IDLE)
        cv_run_error(run,
                     "%s (pid %d) stalled (the process was stopped) with no task left; killed it "
                     "after %s (SIG%s)",
                     run->lanes[w->lane].name, (int)w->pid, t,
                     cv__signal_name(sig ? sig : SIGKILL));
    if (w->killed != CV__KILLED_TIMEOUT)
        return 0;
    cv_run_error(run, "%s (pid %d) %s: %s %u timed out after %s; killed the worker (SIG%s)",
                 run->lanes[w->lane].name, (int)w->pid,
                 w->stalled ? "stalled (the process was stopped)" : "overran", work_of(w),
                 w->overdue, t, cv__signal_name(sig ? sig : SIGKILL));
    return -1;
}

int cv__worker_reaped(struct cv_run *run, struct cv__worker *w, int status, bool cut)
{
    w->reaped = true;
    if (w->killed != CV__ALIVE || (cut && WIFEXITED(status)))
        return reaped_killed(run, w, status);
    /* a role process that returned an error reported it as a failed task itself */
    bool role = w->runs_tasks && run->wl->shape == CV_SHAPE_ROLES;
    bool died = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 && !role);
    w->task = unended(run, w);
    if (!died && (w->task == CV_NONE || role))
        return 0;
    /* The child is gone, so the parent may write its lane's ring. */
    struct cv_ctx *ctx = &run->ctxs[w->lane];
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    uint64_t code = sig ? 128u + (uint64_t)sig : (uint64_t)WEXITSTATUS(status);
    if (w->runs_tasks && w->task != CV_NONE) {
        ctx->task = w->task;
        cv_emit(ctx, CV_EV_TASK_FAIL, CV_NO_OBJ, code);
        if (w->task < run->ntasks)
            atomic_fetch_or(&run->task_flags[w->task], CV__TASK_DONE | CV__TASK_FAILED);
        ctx->task = CV_NO_TASK;
    }
    cv_emit(ctx, CV_EV_WORKER_DEAD, CV_NO_OBJ, (uint64_t)sig);
    char what[96];
    if (sig)
        snprintf(what, sizeof what, "was killed by signal %d (SIG%s)", sig, cv__signal_name(sig));
    else
        snprintf(what, sizeof what, "exited with status %d", WEXITSTATUS(status));
    if (w->task != CV_NONE)
        cv_run_error(run, "%s (pid %d) %s while running %s %u", run->lanes[w->lane].name,
                     (int)w->pid, what, work_of(w), w->task);
    else
        cv_run_error(run, "%s (pid %d) %s", run->lanes[w->lane].name, (int)w->pid, what);
    w->task = CV_NONE;
    return -1;
}

void cv__set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

ssize_t cv__pipe_put(int fd, const void *p, size_t n)
{
    for (;;) {
        ssize_t w = write(fd, p, n);
        if (w >= 0)
            return w;
        if (errno != EINTR)
            return errno == EAGAIN ? 0 : -1;
    }
}

int cv__pipe_take(int fd, struct cv__inbuf *b)
{
    for (;;) {
        if (b->cap - b->len < 4096) {
            b->cap = b->cap ? 2 * b->cap : 65536;
            b->p = cv_xrealloc(b->p, b->cap);
        }
        ssize_t r = read(fd, b->p + b->len, b->cap - b->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 1;
        if (r <= 0)
            return 0;
        b->len += (size_t)r;
    }
}

void cv__inbuf_drop(struct cv__inbuf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

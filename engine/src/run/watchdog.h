/* Watching forked workers: what the procs pool (models/procs.c) and hybrid's executor of
 * processes (models/epoll.c) share. The parent alone touches these records, from one thread.
 *
 * At every turn of its loop the parent passes each worker to cv__worker_watch: a worker that is
 * stopped (SIGSTOP, a debugger: state T in /proc) is shown stalled until it runs again; one whose
 * work has run past the task timeout is killed (a process, unlike a thread, can be ended from
 * outside); one stopped with nothing left to do is killed after the task timeout too. Once the
 * run stops, cv__worker_stopping kills a stopped worker at once (it cannot stop by itself) and
 * any other after a grace period. When a worker's pipe reaches its end, the parent reaps it and
 * cv__worker_reaped records how it ended, with one line naming it, its pid and its task.
 *
 * The parent's pipe ends are non-blocking and messages are sent and taken in pieces: a worker
 * stopped halfway through a message must not block the parent, which must stay able to stop
 * the run.
 */
#ifndef CONCVIZ_WATCHDOG_H
#define CONCVIZ_WATCHDOG_H

#include "internal.h"

#define CV__WATCH_NS      50000000ull   /* how often a worker's state is read from /proc */
#define CV__STOP_GRACE_NS 2000000000ull /* after a stop, then workers still running are killed */

enum cv__kill {
    CV__ALIVE,
    CV__KILLED_TIMEOUT, /* by the watchdog, its work for task `overdue` ran too long */
    CV__KILLED_IDLE,    /* by the watchdog, stopped with nothing left to do */
    CV__KILLED_STOP,    /* the run stopped and it did not */
};

struct cv__worker {
    pid_t pid;
    uint32_t lane;
    uint32_t task;   /* whose work it runs, CV_NONE when idle */
    uint64_t since;  /* when it got that work, or went idle (CLOCK_MONOTONIC ns) */
    uint64_t looked; /* when its state was last read */
    bool runs_tasks; /* its tasks run on its lane (procs), not work for a task elsewhere */
    bool reaped;
    bool stalled;  /* seen stopped, and shown so */
    bool retiring; /* it gets nothing more to do */
    enum cv__kill killed;
    uint32_t overdue;
};

/* What a non-blocking pipe has brought in so far. */
struct cv__inbuf {
    unsigned char *p;
    size_t len, cap;
};

void cv__worker_init(struct cv__worker *w, pid_t pid, uint32_t lane, bool runs_tasks);
/* It got work for `task` (CV_NONE: it went idle). */
void cv__worker_set_task(struct cv__worker *w, uint32_t task);
/* One look (see the top). Returns true when it killed the worker for an overdue task; the
 * caller records the timeout. */
bool cv__worker_watch(struct cv_run *run, struct cv__worker *w, uint64_t now, bool stopping);
/* After a stop at stop_at: kills the worker if it is stopped or the grace period is over. */
void cv__worker_stopping(struct cv__worker *w, uint64_t stop_at, uint64_t now);
/* When the worker next needs a look (CLOCK_MONOTONIC ns), 0 for never. */
uint64_t cv__worker_due(const struct cv_run *run, const struct cv__worker *w, uint64_t stop_at);
/* Records the end of a reaped worker (its lane's events, one line in the errors). `cut`: the
 * stop closed its pipe halfway through sending it a task. Returns -1 if it died (crash, signal,
 * work left unfinished, killed for a timeout), else 0. */
int cv__worker_reaped(struct cv_run *run, struct cv__worker *w, int status, bool cut);

/* A process's state letter from /proc/PID/stat (R, S, D, T, t, Z, ...), or 0. */
char cv__proc_state(pid_t pid);
/* Makes fd non-blocking. */
void cv__set_nonblock(int fd);
/* Writes what a non-blocking pipe takes of p[0..n): the bytes written (0 when full), or -1
 * when the reader is gone. */
ssize_t cv__pipe_put(int fd, const void *p, size_t n);
/* Reads what a non-blocking pipe holds into b. Returns 1 while it is open, 0 at its end of file
 * (or an error: the writer is gone either way). */
int cv__pipe_take(int fd, struct cv__inbuf *b);
/* Drops the first n bytes of b. */
void cv__inbuf_drop(struct cv__inbuf *b, size_t n);

#endif

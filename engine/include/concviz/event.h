/* The event: one fixed-size POD that every model and primitive emits. */
#ifndef CONCVIZ_EVENT_H
#define CONCVIZ_EVENT_H

#include <stdint.h>

/*
 * Kinds and their names, one table. The meaning of obj and arg per kind:
 *   task.*          obj = 0, arg = kind-specific (fail: error code, retry: attempt)
 *   lock/sem/queue/barrier/gil/counter   obj = object id
 *   queue.push/pop  arg = depth after the operation
 *   io.begin/end    arg = enum cv_io_kind (io.end: the HTTP status for http); io.begin's obj
 *                   is a text id (the URL fetched, cv_snapshot.strings) or CV_NONE
 *   counter.value   arg = the value
 *   drops           arg = events lost on this lane since the previous drops event
 *   job.start/end   an executor lane runs work for task `task` (hybrid's offload pool)
 *   worker.stall/resume  recorded by the parent on the main lane: worker lane `obj` (running task
 *                   `task`) is stopped (SIGSTOP, a debugger), or runs again
 *   wait.timeout    obj = the object waited for: the wait ended without it (a timed lock or
 *                   semaphore wait that timed out, a lock call that failed, a queue put, get
 *                   or join whose timeout passed)
 *   gap             written by a ring's producer when it records again after its ring was full:
 *                   arg = the events it lost; what the lane did in between is not known
 *   task.fact       recorded by the run at its end, on the main lane, for a task whose own end
 *                   event was lost: task `task` ended, obj = 0 done, 1 failed, 2 cancelled
 *   queue.task_done arg = the queue's unfinished tasks after it
 *   queue.join_wait arg = the unfinished tasks when the join began to wait; queue.join: the
 *                   join returned, every task done (a join that gave up ends in wait.timeout)
 *   lock.pair       an uncontended acquisition and its release in one event, recorded at the
 *                   release: ts = the release, arg = the hold (ns once drained, clock ticks in a
 *                   ring); the acquisition was at ts - arg. Recorded only when the lane recorded
 *                   nothing else while it held the lock: it stands for lock.acquire at ts - arg
 *                   then lock.release at ts, in the lane's order. A recording that has it is not
 *                   read by a concviz from before the kind (an unknown kind is an error there)
 *   lock.held       an uncontended acquisition recorded late, when the lane records something
 *                   else while it still holds the lock (or holds it long): acquired at ts - arg
 *                   (arg as for lock.pair); its release is a lock.release
 * New kinds go at the end: recordings store kinds by number.
 */
#define CV_EVENT_KINDS(X)                   \
    X(WORKER_START, "worker.start")         \
    X(WORKER_EXIT, "worker.exit")           \
    X(WORKER_DEAD, "worker.dead")           \
    X(TASK_SUBMIT, "task.submit")           \
    X(TASK_START, "task.start")             \
    X(TASK_END, "task.end")                 \
    X(TASK_FAIL, "task.fail")               \
    X(TASK_CANCEL, "task.cancel")           \
    X(TASK_TIMEOUT, "task.timeout")         \
    X(TASK_RETRY, "task.retry")             \
    X(LOCK_WAIT, "lock.wait")               \
    X(LOCK_ACQUIRE, "lock.acquire")         \
    X(LOCK_RELEASE, "lock.release")         \
    X(SEM_WAIT, "sem.wait")                 \
    X(SEM_ACQUIRE, "sem.acquire")           \
    X(SEM_RELEASE, "sem.release")           \
    X(QUEUE_PUSH_WAIT, "queue.push_wait")   \
    X(QUEUE_PUSH, "queue.push")             \
    X(QUEUE_POP_WAIT, "queue.pop_wait")     \
    X(QUEUE_POP, "queue.pop")               \
    X(IO_BEGIN, "io.begin")                 \
    X(IO_END, "io.end")                     \
    X(BARRIER_WAIT, "barrier.wait")         \
    X(BARRIER_RELEASE, "barrier.release")   \
    X(GIL_WAIT, "gil.wait")                 \
    X(GIL_ACQUIRE, "gil.acquire")           \
    X(GIL_RELEASE, "gil.release")           \
    X(GIL_DROP_REQUEST, "gil.drop_request") \
    X(COUNTER_VALUE, "counter.value")       \
    X(LOOP_POLL_BEGIN, "loop.poll_begin")   \
    X(LOOP_POLL_END, "loop.poll_end")       \
    X(DEADLOCK, "deadlock")                 \
    X(JOB_START, "job.start")               \
    X(JOB_END, "job.end")                   \
    X(DROPS, "drops")                       \
    X(WORKER_STALL, "worker.stall")         \
    X(WORKER_RESUME, "worker.resume")       \
    X(WAIT_TIMEOUT, "wait.timeout")         \
    X(GAP, "gap")                           \
    X(TASK_FACT, "task.fact")               \
    X(EVENT_WAIT, "event.wait")             \
    X(EVENT_SET, "event.set")               \
    X(EVENT_CLEAR, "event.clear")           \
    X(EVENT_WAKE, "event.wake")             \
    X(COND_WAIT, "cond.wait")               \
    X(COND_NOTIFY, "cond.notify")           \
    X(COND_WAKE, "cond.wake")               \
    X(QUEUE_TASK_DONE, "queue.task_done")   \
    X(QUEUE_JOIN_WAIT, "queue.join_wait")   \
    X(QUEUE_JOIN, "queue.join")             \
    X(LOCK_PAIR, "lock.pair")               \
    X(LOCK_HELD, "lock.held")

enum cv_event_kind {
#define CV_X_ENUM(name, str) CV_EV_##name,
    CV_EVENT_KINDS(CV_X_ENUM)
#undef CV_X_ENUM
        CV_EV__COUNT
};

#define CV_IO_KINDS(X)    \
    X(SLEEP, "sleep")     \
    X(HTTP, "http")       \
    X(FILE, "file")       \
    X(OFFLOAD, "offload") \
    X(FD, "fd")           \
    X(WAIT, "wait")

enum cv_io_kind {
#define CV_X_ENUM(name, str) CV_IO_##name,
    CV_IO_KINDS(CV_X_ENUM)
#undef CV_X_ENUM
        CV_IO__COUNT
};

/*
 * 32 bytes. In a ring, ts holds raw clock ticks; once drained it holds ns since the run's start.
 */
struct cv_event {
    uint64_t ts;
    uint64_t arg;
    uint32_t task;
    uint32_t obj;
    uint16_t lane;
    uint16_t kind;
    uint32_t reserved;
};

#define CV_NO_TASK UINT32_MAX

const char *cv_event_kind_name(unsigned kind);
/* Returns the kind for a name, or -1. */
int cv_event_kind_from_name(const char *name);
const char *cv_io_kind_name(unsigned io);

#endif

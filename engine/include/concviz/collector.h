/*
 * The collector: drains the rings (or any event source, such as a recording) into a bounded
 * timeline store plus aggregates, and serves them as a snapshot of plain read-only data.
 */
#ifndef CONCVIZ_COLLECTOR_H
#define CONCVIZ_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "concviz/event.h"
#include "concviz/ring.h"

/* Lane states, in the order panels show them, with everything that shows them (the one table;
 * the collector, the live view, its help, the terminal's colours and the SVG read it):
 *   X(ID, name, letter, label, svg_label, fg, bg, bg256, fill, text, meaning)
 * name: in JSON, CSV and recordings; letter: drawn without colour; label: the live view's
 * legend and lane details; svg_label: the SVG's legend; fg, bg: the terminal's basic colours
 * (curses COLOR_ names without the prefix) where it has 8; bg256: the xterm-256 background where
 * it has 256; fill, text: that background and the text on it as RGB (the SVG); meaning: the help
 * screen's line. OFF (a lane not yet or no longer there) is never drawn. */
#define CV_LANE_STATES(X)                                                                       \
    X(RUNNING, "running", 'R', "running", "running", BLACK, GREEN, 40, "#00d700", "#000000",    \
      "running: on a CPU doing the task's work")                                                \
    X(IO, "io", 'I', "I/O", "I/O", WHITE, BLUE, 33, "#0087ff", "#ffffff",                       \
      "I/O: sleeping, waiting for HTTP, a file or an executor")                                 \
    X(LOCK_WAIT, "lock_wait", 'L', "lock", "lock wait", WHITE, RED, 160, "#d70000", "#ffffff",  \
      "lock: waiting to acquire a mutex")                                                       \
    X(QUEUE_WAIT, "queue_wait", 'Q', "queue", "queue wait", BLACK, YELLOW, 220, "#ffd700",      \
      "#000000", "queue: waiting to put into a full / get from an empty / join")                \
    X(SEM_WAIT, "sem_wait", 'S', "semaphore", "semaphore wait", WHITE, MAGENTA, 127, "#af00af", \
      "#ffffff", "semaphore: waiting for a permit")                                             \
    X(GIL_WAIT, "gil_wait", 'G', "GIL", "GIL wait", BLACK, YELLOW, 208, "#ff8700", "#000000",   \
      "GIL: waiting for the (emulated) interpreter lock")                                       \
    X(BARRIER, "barrier", 'B', "barrier", "barrier", BLACK, CYAN, 44, "#00d7d7", "#000000",     \
      "barrier: waiting for the others to arrive")                                              \
    X(EVENT_WAIT, "event_wait", 'E', "event", "event wait", WHITE, GREEN, 22, "#005f00",        \
      "#ffffff", "event: waiting for an Event to be set")                                       \
    X(COND_WAIT, "cond_wait", 'C', "condition", "condition wait", WHITE, CYAN, 61, "#5f5faf",   \
      "#ffffff", "condition: waiting on a Condition for a notify")                              \
    X(IDLE, "idle", '.', "idle", "idle", WHITE, BLACK, 238, "#444444", "#ffffff",               \
      "idle: no task (pool worker waiting for work)")                                           \
    X(STALLED, "stalled", 'T', "stalled", "stalled", BLACK, WHITE, 250, "#bcbcbc", "#000000",   \
      "stalled: the worker process is stopped (SIGSTOP, a debugger)")                           \
    X(DEAD, "dead", 'X', "dead", "dead", WHITE, RED, 88, "#870000", "#ffffff",                  \
      "dead: the worker process died (or the task timeout killed it)")                          \
    X(LOST, "lost", '?', "lost", "events lost", BLACK, MAGENTA, 201, "#ff00ff", "#000000",      \
      "lost: events were lost here (a full ring): what the lane did is not known")              \
    X(OFF, "off", ' ', "off", "off", NONE, NONE, -1, NULL, NULL, "off")

enum cv_lane_state {
#define CV_X_ENUM(id, ...) CV_LANE_##id,
    CV_LANE_STATES(CV_X_ENUM)
#undef CV_X_ENUM
        CV_LANE__COUNT
};
const char *cv_lane_state_name(unsigned state);

#define CV_OBJECT_KINDS(X)    \
    X(MUTEX, "mutex")         \
    X(SEMAPHORE, "semaphore") \
    X(QUEUE, "queue")         \
    X(BARRIER, "barrier")     \
    X(COUNTER, "counter")     \
    X(GIL, "gil")             \
    X(EVENT, "event")         \
    X(CONDITION, "condition")

enum cv_object_kind {
#define CV_X_ENUM(name, str) CV_OBJ_##name,
    CV_OBJECT_KINDS(CV_X_ENUM)
#undef CV_X_ENUM
        CV_OBJ__COUNT
};
const char *cv_object_kind_name(unsigned kind);

enum cv_lane_role { CV_ROLE_MAIN, CV_ROLE_WORKER };

#define CV_NAME_MAX     32
#define CV_TIMELINE_MAX 4096 /* buckets per lane; their width doubles to stay within */
#define CV_NONE         UINT32_MAX

/* A task's time on a lane, from its start to its end (UINT64_MAX while it runs). */
struct cv_task_span {
    uint64_t start_ns, end_ns;
    uint32_t task;
};
#define CV_SPANS_MAX 16384 /* per lane: the latest ones are kept */

struct cv_lane_stats {
    char name[CV_NAME_MAX];
    enum cv_lane_role role;
    int32_t pid; /* the process it is a thread of, where the run knows it (a trace); else 0 */
    enum cv_lane_state state; /* now */
    uint64_t since_ns;        /* in this state since */
    uint64_t state_ns[CV_LANE__COUNT];
    uint32_t tasks;        /* tasks started here */
    uint32_t current_task; /* CV_NONE when between tasks */
    uint32_t waiting_on;   /* object id it waits on, or CV_NONE */
    uint32_t io_text;      /* during I/O: a text id (cv_snapshot.strings) saying what, or CV_NONE */
    uint64_t events;
    uint64_t drops;
    /* The timeline: the state of each closed bucket (enum cv_lane_state, the one the lane spent
     * most of it in), for absolute buckets [timeline_first, timeline_first + timeline_n) of
     * cv_snapshot.timeline_bucket_ns each; after that, up to now, `state`. */
    const uint8_t *timeline;
    uint64_t timeline_first;
    uint32_t timeline_n;
    /* The tasks it ran, oldest first (at most CV_SPANS_MAX, the latest). */
    const struct cv_task_span *spans;
    uint32_t nspans;
};

/* Mutexes, semaphores, barriers and the GIL. */
struct cv_lock_stats {
    uint32_t obj;
    enum cv_object_kind kind;
    char name[CV_NAME_MAX];
    uint64_t acquisitions;
    uint64_t contended; /* acquisitions that had to wait, and waits a deadlock left open */
    uint64_t wait_ns_total;
    uint64_t wait_ns_max;
    uint64_t hold_ns_total;
    uint32_t holder;  /* lane holding it (the last one for a semaphore), or CV_NONE */
    uint32_t holders; /* lanes holding it now */
    uint32_t waiters; /* lanes waiting now */
    uint32_t handoff_from, handoff_to; /* the latest contended hand-over, lanes or CV_NONE */
    uint64_t handoffs;                 /* acquisitions by a lane other than the previous holder */
    /* Events and conditions (acquisitions, contended and the wait times count the waits that
     * ended woken): */
    uint64_t waits;    /* waits that blocked */
    uint64_t signals;  /* event.set / cond.notify calls */
    uint64_t clears;   /* event.clear calls */
    uint64_t timeouts; /* waits that ended without a wake (timeout, stop) */
};

struct cv_depth_point {
    uint64_t ts;
    uint32_t depth;
};

struct cv_queue_stats {
    uint32_t obj;
    char name[CV_NAME_MAX];
    uint32_t capacity;
    uint32_t depth;
    uint32_t max_depth;
    uint64_t pushed, popped;
    uint64_t push_blocked, pop_blocked; /* operations that had to wait */
    uint32_t producers_waiting, consumers_waiting;
    /* queue.Queue's timeouts and task accounting: puts that raised Full, gets that raised Empty,
     * joins that gave up; joins that had to wait; items put and not marked done (task_done) */
    uint64_t put_timeouts, get_timeouts, join_timeouts, join_waits;
    uint32_t unfinished, joiners_waiting;
    const struct cv_depth_point *series; /* bounded history, oldest first */
    size_t nseries;
};

struct cv_counter_stats {
    uint32_t obj;
    char name[CV_NAME_MAX];
    uint64_t value; /* last sampled */
    uint64_t samples;
};

struct cv_task_counts {
    uint64_t submitted, started, completed, failed, cancelled, timed_out, retried;
};

struct cv_snapshot {
    uint64_t now_ns;
    size_t nlanes;
    const struct cv_lane_stats *lanes;
    size_t nlocks;
    const struct cv_lock_stats *locks;
    size_t nqueues;
    const struct cv_queue_stats *queues;
    size_t ncounters;
    const struct cv_counter_stats *counters;
    struct cv_task_counts tasks;
    uint32_t inflight, inflight_max;
    const uint32_t *completion_order;
    size_t ncompleted;
    uint32_t completed_unseen; /* tasks whose end was in events lost: not in the order above */
    uint64_t events_recorded;  /* events the collector has processed */
    uint64_t events_dropped;   /* events lost to full rings */
    uint64_t store_evicted;    /* oldest events the bounded store let go */
    uint64_t gil_switches, gil_drop_requests;
    bool deadlock;
    uint64_t timeline_bucket_ns; /* starts at 1 ms, doubles as the run grows */
    const char *const *strings;  /* texts by id (NULL where none), nstrings ids */
    size_t nstrings;
};

struct cv_collector;

/* store_capacity: events kept for the timeline (0 = default, 1 M events). Aborts when memory
 * is short; cv_collector_try_create returns NULL instead (the store is 32 bytes an event). */
struct cv_collector *cv_collector_create(size_t store_capacity);
struct cv_collector *cv_collector_try_create(size_t store_capacity);
void cv_collector_destroy(struct cv_collector *c);

/* Lanes and objects must be declared before events name them (ids are dense, from 0). */
void cv_collector_add_lane(struct cv_collector *c, uint32_t lane, const char *name,
                           enum cv_lane_role role);
void cv_collector_add_object(struct cv_collector *c, uint32_t obj, enum cv_object_kind kind,
                             const char *name, uint32_t capacity);

/* An object as declared. */
struct cv_object_decl {
    uint32_t id;
    enum cv_object_kind kind;
    const char *name;
    uint32_t capacity;
};
/* Called when an event names a lock object not declared yet (a traced program's, made as it
 * runs): declares it (cv_collector_add_object), if it can, before the event is taken in. */
typedef void (*cv_resolve_fn)(void *ctx, struct cv_collector *c, uint32_t obj);
void cv_collector_set_resolver(struct cv_collector *c, cv_resolve_fn fn, void *ctx);
/* Lanes so far (declared, or named by an event), and a lane's name and role. */
size_t cv_collector_nlanes(const struct cv_collector *c);
bool cv_collector_lane(const struct cv_collector *c, uint32_t lane, const char **name,
                       enum cv_lane_role *role);
/* Whether the collector saw task `task` end (done, failed or cancelled); true for a task it
 * cannot track. The run asks at its end, when events were lost, and records task.fact for the
 * others. */
bool cv_collector_task_ended(struct cv_collector *c, uint32_t task);
/* A lane's process (a traced program's: each process a group of lanes); 0 when not known. */
void cv_collector_set_lane_pid(struct cv_collector *c, uint32_t lane, int32_t pid);
int32_t cv_collector_lane_pid(const struct cv_collector *c, uint32_t lane);
/* Ids run from 0 to cv_collector_nobjects() - 1; false for an id never declared. */
size_t cv_collector_nobjects(const struct cv_collector *c);
bool cv_collector_object(const struct cv_collector *c, uint32_t id, struct cv_object_decl *out);
/* A tap: every event fed (drained from rings or given to cv_collector_feed) is passed on to fn,
 * in feed order, in batches; cv_collector_tap_flush passes on what is pending. NULL removes it. */
typedef void (*cv_tap_fn)(void *ctx, const struct cv_event *ev, size_t n);
void cv_collector_set_tap(struct cv_collector *c, cv_tap_fn fn, void *ctx);
/* Allocates the tap's batch buffer (2 MB) now, which set_tap would do aborting when memory is
 * short; false when it cannot. */
bool cv_collector_tap_reserve(struct cv_collector *c);
void cv_collector_tap_flush(struct cv_collector *c);
/* Texts by id (NULL when none). */
const char *cv_collector_string(const struct cv_collector *c, uint32_t id);
size_t cv_collector_nstrings(const struct cv_collector *c);
/* A text that events may name by id (io.begin's obj: the URL being fetched). */
void cv_collector_add_string(struct cv_collector *c, uint32_t id, const char *text);
/* Feeds events with ns timestamps, in time order (per lane at least). */
void cv_collector_feed(struct cv_collector *c, const struct cv_event *ev, size_t n);

/* Live source: one ring per lane, raw ticks relative to t0_ticks. */
void cv_collector_attach_rings(struct cv_collector *c, struct cv_ring *const *rings, size_t n,
                               uint64_t t0_ticks);
/* Drains attached rings and feeds events in global time order up to `now_ns` minus a short
 * grace (events still being published may be a little older); final drains everything.
 * Returns the number of events fed. */
size_t cv_collector_drain(struct cv_collector *c, uint64_t now_ns, bool final);

/* Closes the books at end_ns: open states stop accruing time. */
void cv_collector_finish(struct cv_collector *c, uint64_t end_ns);

/* Valid until the next call into the collector. Open states are counted up to now_ns. */
const struct cv_snapshot *cv_collector_snapshot(struct cv_collector *c, uint64_t now_ns);
/* The worker lanes' time so far (every state but off, summed over them): what a lock's waits
 * are a share of ("17% of worker time"). */
uint64_t cv_snapshot_worker_ns(const struct cv_snapshot *s);

/* Checkpoints, for seeking in recordings. A checkpoint is the collector's state as bytes: lanes,
 * timelines, each lane's latest 1024 task spans, objects, the tasks running; not the texts, the
 * store or the completion order, which the caller keeps (cv_collector_order) and gives back. */
unsigned char *cv_collector_save(const struct cv_collector *c, size_t *len); /* caller frees */
/* Into a fresh collector with the same lanes and objects declared, or more (declared later in the
 * run, as a traced program's are: they stay fresh); false when buf is not a checkpoint of a
 * collector of that shape (the collector is then unusable: destroy it). */
bool cv_collector_restore(struct cv_collector *c, const unsigned char *buf, size_t len,
                          const uint32_t *order, size_t norder);
/* The completion order so far. */
size_t cv_collector_order(const struct cv_collector *c, const uint32_t **order);

/* The timeline store, oldest first. */
size_t cv_collector_store_count(const struct cv_collector *c);
const struct cv_event *cv_collector_store_at(const struct cv_collector *c, size_t i);

#endif

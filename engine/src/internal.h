/* Engine internals shared across engine/src files (cv__ names). Never included by tui/ or tests/.
 */
#ifndef CONCVIZ_INTERNAL_H
#define CONCVIZ_INTERNAL_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "concviz/collector.h"
#include "concviz/httpd.h"
#include "concviz/concviz.h"
#include "concviz/run.h"
#include "concviz/workload.h"
#include "models/model.h"

#define CV_MAX_OBJECTS 256

/* Per-lane state in shared memory. */
struct cv_lane_shared {
    sem_t park;          /* process-shared; the threads/procs park */
    uint32_t wait_next;  /* next lane + 1 in the wait queue this lane is in, 0 = last */
    uint32_t waiting_on; /* object id, CV_NONE when not waiting */
    uint32_t in_queue;   /* 1 while linked into some wait queue */
    uint64_t ring_off;
    /* start-up cost: the clock before fork or pthread_create, and at the worker's first step */
    _Atomic uint64_t spawn_ns, ready_ns;
    char name[CV_NAME_MAX];
};

struct cv_obj_entry {
    uint32_t kind;
    uint32_t capacity;
    uint64_t off; /* offset of the object in the shared mapping */
    char name[CV_NAME_MAX];
};

/* The start of the one shared mapping, made before any worker starts. Offsets, not pointers. */
struct cv_shm {
    uint64_t size;
    uint64_t arena_off, arena_used, arena_size;
    uint64_t lanes_off;
    uint32_t nlanes;
    uint32_t nobjs;
    _Atomic uint32_t attention;       /* CV_ATTN_* */
    _Atomic uint64_t file_busy_ns;    /* time spent in blocking file operations, on every lane */
    _Atomic uint64_t offload_busy_ns; /* time executor lanes spent on cv_offload_cpu work */
    struct cv_obj_entry objs[CV_MAX_OBJECTS];
};

/* A FIFO of parked lanes, linked through cv_lane_shared.wait_next. */
struct cv__waitq {
    uint32_t head, tail; /* lane + 1, 0 = empty */
};

struct cv_run {
    struct cv_run_config cfg;
    const struct cv_scenario *sc;
    const struct cv_workload *wl;
    const struct cv_model_ops *ops;
    unsigned workers;
    bool gil_on;
    double switch_ms;
    const char *python; /* the modelled CPython (a static string), or NULL */
    bool gil_at_calls;  /* 3.10 on: the GIL changes hands only at calls and backward jumps */

    uint32_t ntasks;
    uint32_t nroles;
    uint64_t task_timeout_ns;
    uint64_t request_timeout_ms; /* per HTTP request, 0 = libcurl's 120 s here */
    bool fail_fast;
    _Atomic uint8_t *task_flags; /* shared, per task: CV__TASK_* */
    char (*role_names)[CV_NAME_MAX];

    /* shared memory */
    char *shm_base;
    struct cv_shm *shm;
    uint32_t nlanes;
    struct cv_lane_shared *lanes;
    struct cv_ring **rings;
    struct cv_ctx *ctxs; /* process-local, one per lane */
    size_t ring_capacity;

    struct cv_gil *gil;
    void *wl_state;
    void *model_state;         /* the model's own (model trace: its mapping) */
    struct cv__strtab *strtab; /* shared: texts events refer to (URLs being fetched) */
    char *record_path;         /* --record FILE */
    struct cv__recorder *rec;  /* while recording */
    char *rec_error;           /* why the recording stopped short, once closed */
    uint64_t rec_events, rec_bytes;
    uint8_t *strtab_synced; /* process-local: slots already given to the collector */

    struct cv_collector *col;
    uint64_t t0_ticks, t0_mono, t_end_mono;
    uint64_t t_end_ticks; /* the end on the events' clock: no event of the run is later */
    _Atomic int state;
    pthread_t driver;
    bool driver_started;
    bool setup_done; /* the workload's setup succeeded: its teardown is due */
    _Atomic int driver_done;
    int driver_rc;
    uint32_t os_threads, os_processes;
    struct cv_httpd_proc *httpd; /* the embedded server, when a parameter names host `local` */
    bool httpd_died;             /* it ended before the run did (cv__http_watch) */
    bool in_child;               /* this process is a forked worker (process-local) */
    uint64_t bytes_copied;       /* task arguments and results sent between processes */
    double cpu_start_s;
    double rss_start_kb; /* resident memory when the run started */
    double peak_rss_kb;  /* the process's peak when the run ended (0 before) */
    double cpu_s;

    /* deadlock detection (front-end thread only) */
    uint64_t polls;
    uint32_t cycle[16], prev_cycle[16];
    size_t ncycle, nprev_cycle;
    bool deadlocked;

    pthread_mutex_t out_mu; /* protects results and errors below */
    struct cv_value *results;
    struct cv_value *errors;

    /* Held by cv_run_poll while it drains (the thread that allocates most beside the driver) and
     * by the driver around each fork of a worker mid-run: a child must not inherit an allocator
     * lock that another thread held at the fork. glibc's malloc resets its locks in the child,
     * but a sanitizer's allocator does not, and a worker forked then waited on it forever. */
    pthread_mutex_t fork_mu;
};

#define CV__TASK_CANCEL \
    CV_TASK_CANCELLED /* do not start it; an epoll task stops at its next wait */
#define CV__TASK_STARTED 2u
#define CV__TASK_DONE    4u
#define CV__TASK_OK      8u  /* it ended done (with DONE) */
#define CV__TASK_FAILED  16u /* it failed (with DONE); DONE alone: cancelled */

/* The limits a failed pthread_create or fork may have met (ulimit -u, -v), as " (limits: ...)"
 * for its message, or "" when none is set. */
void cv__limits_hint(char *buf, size_t n);

/* Cancels every task but `except` (see cv_run_set_fail_fast). */
void cv__cancel_tasks(struct cv_run *run, uint32_t except);

/* Puts msg first in the run's errors, so that its one line names the cause (results.c). */
void cv__run_error_first(struct cv_run *run, const char *msg);

/* Lane and object helpers */
/* A worker's start-up cost: the parent calls spawning just before fork or pthread_create, the
 * worker ready at its first step; the run reports them (results.start_ms). */
void cv__lane_spawning(struct cv_run *run, uint32_t lane);
void cv__lane_ready(struct cv_run *run, uint32_t lane);

static inline struct cv_lane_shared *cv__lane(struct cv_run *run, uint32_t lane)
{
    return &run->lanes[lane];
}
static inline size_t cv__align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}
/* The shared arena (arena.c): objects are made in it during set-up; errors name the run. */
void *cv__shm_alloc(struct cv_run *run, uint64_t bytes);
uint64_t cv__shm_off(struct cv_run *run, const void *p);
void *cv__shm_ptr(struct cv_run *run, uint64_t off);
uint32_t cv__obj_register(struct cv_run *run, enum cv_object_kind kind, const char *name,
                          uint32_t capacity, const void *obj);
void cv__pshared_mutex_init(pthread_mutex_t *m);
/* Locks a primitive's process-shared mutex, recovering it if its owner died. */
void cv__mu_lock(pthread_mutex_t *m);

uint32_t cv__obj_holder(struct cv_run *run, uint32_t obj);
/* Looks for a cycle in the wait-for graph of mutexes; fills `cycle` (lanes and objects
 * alternating, from a waiting lane) and returns its length, or 0. */
size_t cv__find_deadlock(struct cv_run *run, uint32_t *cycle, size_t max);

/* Waiting: release the GIL around a wait, take it back after. */
void cv__wait_begin(struct cv_ctx *ctx);
void cv__wait_end(struct cv_ctx *ctx);
void cv__waitq_push(struct cv_run *run, struct cv__waitq *q, uint32_t lane, bool front);
uint32_t cv__waitq_pop(struct cv_run *run, struct cv__waitq *q);
bool cv__waitq_remove(struct cv_run *run, struct cv__waitq *q, uint32_t lane);

/* The emulated GIL (gil.c). Process-local: only the threads model uses it. */
struct cv_gil *cv__gil_create(struct cv_run *run, double switch_ms);
void cv__gil_destroy(struct cv_gil *g);
void cv__gil_take(struct cv_ctx *ctx);
void cv__gil_drop(struct cv_ctx *ctx);
/* Hands the GIL over on a drop request and takes it back after someone else had it. */
void cv__gil_yield(struct cv_ctx *ctx);

/* CPU work units (prim.c) */
void cv__cpu_calibrate(void);
double cv__cpu_units_per_ns(void);

/* Lane setup used by models */
void cv__ctx_bind(struct cv_run *run, struct cv_ctx *ctx, uint32_t lane);
/* Runs task (or role) `task` on ctx with its events and the GIL; returns the workload's rc. */
int cv__run_task(struct cv_ctx *ctx, uint32_t task);
/* The same with the task's argument already at hand (a forked worker read it from a pipe). */
int cv__run_task_arg(struct cv_ctx *ctx, uint32_t task, const void *arg, size_t len);
void cv__wake_all(struct cv_run *run);

/* Forked workers (child.c). Whole writes: 0 or -1. Whole reads: 1 complete, 0 end of file before
 * anything, -1 error or a short message. */
int cv__write_all(int fd, const void *p, size_t n);
int cv__read_all(int fd, void *p, size_t n);
void cv__close_fd(int *fd); /* closes *fd if open, sets it to -1 */
/* A child's set-up after fork: named cv:LANE, dies with its parent, leaves Ctrl-C to it,
 * restores the signal mask `old`. */
void cv__child_setup(struct cv_run *run, uint32_t lane, pid_t parent, const sigset_t *old);
/* fork() for a worker of the run: no drain allocates while it forks (see fork_mu) */
pid_t cv__fork_worker(struct cv_run *run);
const char *cv__signal_name(int sig);
/* The main lane starts and submits every task (or role) at once, as executor.submit in a loop
 * or create_task for each does. */
void cv__submit_all(struct cv_run *run);

/* HTTP (http.c) */
int cv__http_setup(struct cv_run *run, char **cause);
void cv__http_teardown(struct cv_run *run);
/* Notices that the embedded server ended (polled by cv_run_poll; `final` once the run has ended,
 * waiting for a server that is exiting): puts one line naming it, its pid and its signal first in
 * the errors, sets httpd_died (the run fails, exit 3) and returns true: the caller stops the run,
 * as every request left would fail the same way. */
bool cv__http_watch(struct cv_run *run, bool final);
/* A `local` host rewritten to the embedded server, as a string to free; NULL when url has none. */
char *cv__http_resolve(struct cv_run *run, const char *url);
void cv__http_easy_options(void *easy, struct cv_ctx *ctx);
/* A transfer on a connection of its own: fresh, closed after it, and the server told so
 * (Connection: close), so that the server closes first rather than wait for the client to. */
void cv__http_one_shot(void *easy);
/* Fills a result from a finished transfer (code: its CURLcode). */
void cv__http_fill(struct cv_http_result *res, void *easy, int code);

#include "core/numbers.h"
#include "workloads/wl.h"

/* Summary building (summary.c) */
/* What a run hands the summary: its facts, read by the run under its own locks. */
struct cv__run_facts {
    const struct cv_scenario *sc;
    const char *model;
    unsigned workers;
    bool gil;
    const char *python;
    double switch_ms;
    enum cv_run_state state;
    double wall_s, cpu_s;
    uint32_t os_threads, os_processes;
    double rss_start_kb, peak_rss_kb; /* peak 0: not measured yet (the process's now) */
    const struct cv_snapshot *snap;
    const struct cv_value *results, *errors;
    uint64_t bytes_copied;
};
struct cv_value *cv__summary_build(const struct cv__run_facts *f);
struct cv_value *cv__summary_head(const char *scenario, const char *model, unsigned workers,
                                  bool gil, const char *python, double switch_ms,
                                  const char *state);
void cv__summary_set_tasks(struct cv_value *root, const struct cv_snapshot *s);
void cv__summary_set_counts(struct cv_value *root, const struct cv_snapshot *s, bool gil);
struct cv_value *cv__summary_params(const struct cv_scenario *s);
/* Recording (record.c): opened before the run starts, fed by the collector's tap, closed with
 * the summary once the run has ended. */
/* What the recording's head says of the run; the collector is the one the run feeds. */
struct cv__record_head {
    const struct cv_scenario *sc;
    const char *model;
    unsigned workers;
    bool gil;
    const char *python;
    double switch_ms;
    struct cv_collector *col;
};
/* What became of a recording once closed: its events and bytes, and why it stopped short
 * (NULL when complete; the caller frees it). */
struct cv__record_result {
    uint64_t events, bytes;
    char *error;
};
/* NULL with *rc and *cause set when the file cannot be recorded to. */
struct cv__recorder *cv__record_open(const struct cv__record_head *h, const char *path,
                                     char **cause, int *rc);
void cv__record_poll(struct cv__recorder *w);
void cv__record_close(struct cv__recorder *w, const struct cv_value *summary, uint64_t end_ns,
                      struct cv__record_result *out);
void cv__summary_finish(struct cv_value *root, const struct cv_scenario *sc, bool check,
                        unsigned *failed);

/* Texts that events refer to by id (an IO_BEGIN's obj: the URL fetched). A fixed table in shared
 * memory, filled without locks from any worker, thread or process; the same text gets the same id.
 * Returns CV_NONE when the table is full. */
#define CV__STRTAB_SLOTS 512
#define CV__STRTAB_TEXT  116
uint32_t cv__intern(struct cv_run *run, const char *text);
/* Makes the table in the arena (once, at set-up; without it cv__intern returns CV_NONE). */
void cv__strtab_make(struct cv_run *run);
/* Gives the collector the texts that became ready since the last call (front end only). */
void cv__strtab_sync(struct cv_run *run);

#endif

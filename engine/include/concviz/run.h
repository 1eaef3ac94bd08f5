/* A run: one scenario under one model, from setup to summary. */
#ifndef CONCVIZ_RUN_H
#define CONCVIZ_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "concviz/collector.h"
#include "concviz/scenario.h"
#include "concviz/value.h"
#include "concviz/workload.h"

enum cv_shape {
    CV_SHAPE_TASKS, /* a pool runs submitted tasks (ThreadPoolExecutor-style) */
    CV_SHAPE_ROLES, /* each worker runs one role loop (producer/consumer) */
};

/* One role of a role-shaped workload: how many of its lanes there are, the value of a parameter
 * or a fixed count. The picker shows and edits the counts; a run checks that plan added as many
 * roles as they add up to. */
struct cv_role_def {
    const char *name;  /* what one of them is: "producer" */
    const char *param; /* the parameter that counts them, or NULL */
    unsigned count;    /* without a parameter: how many there always are */
};

/* A workload: one file each under engine/src/workloads/; tests may register their own. */
struct cv_workload {
    const char *name;
    const char *summary;
    const struct cv_param_def *params; /* terminated by a NULL key */
    enum cv_shape shape;
    /* CV_SHAPE_ROLES: its roles, terminated by a NULL name (NULL: not declared). */
    const struct cv_role_def *roles;
    /* Reads parameters and sizes the run: cv_run_set_tasks or cv_run_add_role. No objects yet. */
    int (*plan)(struct cv_run *run, char **cause);
    /* Creates objects and shared state (shared memory exists now); workers have not started. */
    int (*setup)(struct cv_run *run, char **cause);
    /* Runs one task or one role; returns 0, or a negative value when it failed. */
    int (*task)(struct cv_ctx *ctx, uint32_t task);
    int (*role)(struct cv_ctx *ctx, uint32_t role);
    /* After every worker has finished: publishes results with cv_result_*. */
    void (*finish)(struct cv_run *run);
    /* Optional: when the run is destroyed, if setup succeeded (finish may not have run: the
     * run was refused or never started): removes what setup made outside the run (files). */
    void (*teardown)(struct cv_run *run);
    /* Optional: the argument of a task (*data stays valid for the run); returns its size. */
    size_t (*task_arg)(struct cv_run *run, uint32_t task, const void **data);
    /* Optional: receives a task's result in the parent (cv_task_result). Under threads it is
     * called on the worker's thread, so it must only touch that task's own slot. */
    void (*task_done)(struct cv_run *run, uint32_t task, const void *data, size_t len);
    /* Optional: what its tasks hold open at most at once in one process, when `in_flight` tasks
     * are under way there at once (suspended ones included) and `in_call` of them can be inside
     * a blocking call at once: HTTP connections (cv_http_get) and files. A run whose
     * descriptors would not fit the open-file limit is refused before it starts. */
    void (*holds)(const struct cv_run *run, uint64_t in_flight, uint64_t in_call,
                  uint64_t *connections, uint64_t *files);
    /* Optional: the parameter that sets how many tasks there are, for advice to use fewer. */
    const char *tasks_param;
    /* Its tasks make blocking file calls (cv_file_*), whose jobs hold pointers: hybrid's
     * executor must then be threads, and offload = procs is refused as a usage error. */
    bool file_io;
};

const struct cv_workload *cv_workload_find(const char *name);
/* The i-th registered workload (built-ins first), or NULL past the end. */
const struct cv_workload *cv_workload_at(size_t i);
/* Adds a workload to the registry (not thread-safe; call before loading scenarios). */
int cv_workload_register(const struct cv_workload *w);

/* What a trace runs (model trace): a program, with the library that records its threads. */
struct cv_trace_config {
    char *const *argv;      /* the program (looked up in PATH) and its arguments */
    const char *lib;        /* the library to preload (libconcviz-trace.so) */
    const char *pythonpath; /* a directory put first on PYTHONPATH (the start-up hook), or NULL */
    int in, out, err;       /* the program's stdin, stdout and stderr; -1: concviz's own */
    uint32_t max_lanes;     /* threads traced at most (0: 4096) */
    uint32_t max_objects;   /* objects traced at most (0: 16384) */
    const char *const *env; /* NAME=value added to its environment, NULL-terminated, or NULL */
    /* The signal that stopped concviz (SIGTERM, SIGHUP: passed on to the program as they are;
     * anything else, q or Ctrl-C, is a SIGINT), or NULL. */
    int (*stop_signal)(void);
};

struct cv_run_config {
    const struct cv_scenario *scenario; /* borrowed; must outlive the run */
    int model;                          /* -1 = the scenario's default */
    unsigned workers;                   /* 0 = the scenario's default */
    int gil;                            /* -1 = scenario default, 0 off, 1 on */
    /* The CPython modelled under threads (see cv_python_versions), or NULL: 3.11 when the GIL is
     * on. It decides where the emulated GIL may be handed over and, for 3.13t, that there is
     * none. */
    const char *python;
    double switch_ms;         /* 0 = scenario default (5 ms) */
    size_t ring_capacity;     /* events per lane ring, 0 = default (128 Ki) */
    size_t store_capacity;    /* timeline events kept, 0 = default */
    const char *record_path;  /* record the run to this file, or NULL */
    uint64_t task_timeout_ns; /* a watchdog for every task, as cv_run_set_task_timeout; it wins
                               * over the workload's. 0 = the workload's */
    const struct cv_trace_config *trace; /* model trace: the program (borrowed) */
};

enum cv_run_state {
    CV_RUN_CREATED,
    CV_RUN_RUNNING,
    CV_RUN_DONE,
    CV_RUN_FAILED,
    CV_RUN_STOPPED,
    CV_RUN_DEADLOCKED, /* a wait-for cycle was found; the run was stopped */
};

struct cv_run;

/* Validates the configuration (usage errors come back as CV_ERR_USAGE with a one-line cause)
 * and builds the shared memory, lanes and objects. Nothing runs yet. */
int cv_run_create(const struct cv_run_config *cfg, struct cv_run **out, char **cause);
/* Starts the run. A run that cannot start its driver thread (the system is out of threads)
 * returns CV_OK and ends at once as failed, its error in the summary. */
int cv_run_start(struct cv_run *run, char **cause);
/* Drains events into the collector; call often (every few ms). Returns true once the run has
 * ended and every event is in. */
bool cv_run_poll(struct cv_run *run);
/* Asks the run to stop soon. Async-signal-safe. */
void cv_run_stop(struct cv_run *run);
/* Waits for the end (polling as it goes), then finalises aggregates and results. */
int cv_run_finish(struct cv_run *run, char **cause);
void cv_run_destroy(struct cv_run *run);

enum cv_run_state cv_run_state(const struct cv_run *run);
const struct cv_snapshot *cv_run_snapshot(struct cv_run *run);
/* Seconds since start (the final wall time once done). */
double cv_run_elapsed(const struct cv_run *run);
uint64_t cv_run_task_count(const struct cv_run *run);
const char *cv_run_model_name(const struct cv_run *run);
/* Workers of the run (known from `plan` on: serial runs one, role workloads one per role). */
unsigned cv_run_workers(const struct cv_run *run);
bool cv_run_gil(const struct cv_run *run);
/* The CPython the run models ("3.11", "3.13t", ...), or NULL when it models none. */
const char *cv_run_python(const struct cv_run *run);
/* The versions --python takes, space-separated; and whether NAME is one of them. */
const char *cv_python_versions(void);
bool cv_python_known(const char *name);

/* After the end of a recorded run: why the recording stopped short (a write error, with how much
 * the file holds), or NULL; and what it wrote. */
const char *cv_run_record_error(const struct cv_run *run);
void cv_run_record_stats(const struct cv_run *run, uint64_t *events, uint64_t *bytes);

/* The summary as a value tree (schema concviz.summary/1); caller frees. With `check`, the
 * scenario's expectations are evaluated into it and *failed counts the ones that failed. */
struct cv_value *cv_run_summary(struct cv_run *run, bool check, unsigned *failed);
/* Evaluates a scenario's expectations against `root` (a run summary, or a sweep); returns the
 * list of applicable ones ({name, expr, ok, actual}) and counts the failures. A run stopped
 * before its end (state "stopped") is not judged: each has "ok": null and a "reason". */
struct cv_value *cv_expectations_eval(const struct cv_scenario *s, const struct cv_value *root,
                                      unsigned *failed);
/* An evaluated expectation's four-character mark: "ok  ", "FAIL", or "n/j " (not judged). */
const char *cv_expectation_mark(const struct cv_value *expectation);
/* Readable text form of a summary. */
void cv_summary_write_text(const struct cv_value *summary, FILE *out);

/* For workloads: sizing, parameters and results. */
void cv_run_set_tasks(struct cv_run *run, uint32_t ntasks);
/* The caller gives up on tasks after `ns` (future.result(timeout) / asyncio.wait_for): tasks not
 * started by then are cancelled; running ones are reported timed out and, under epoll, cancelled
 * at their next wait (under threads they run on; under procs, where each task's time starts when
 * a worker gets it, the worker is killed, which the run treats as a worker's death). 0 = no
 * timeout. */
void cv_run_set_task_timeout(struct cv_run *run, uint64_t ns);
/* Each HTTP request (cv_http_get) gives up after `ms`, failing with a timeout; 0 = the default,
 * 120 s. */
void cv_run_set_request_timeout(struct cv_run *run, uint64_t ms);
/* A failing task cancels its siblings (TaskGroup): queued ones never start; under epoll the
 * running ones are cancelled at their next wait. Otherwise the others run on (gather with
 * return_exceptions). */
void cv_run_set_fail_fast(struct cv_run *run, bool on);
void cv_run_add_role(struct cv_run *run, const char *name);
/* Adds n roles named PREFIX-1 .. PREFIX-n (producer-1, producer-2, ...). */
void cv_run_add_roles(struct cv_run *run, const char *prefix, int64_t n);
int64_t cv_param_int(const struct cv_run *run, const char *key);
double cv_param_num(const struct cv_run *run, const char *key);
const char *cv_param_str(const struct cv_run *run, const char *key);
void *cv_run_workload_state(struct cv_run *run);
void cv_run_set_workload_state(struct cv_run *run, void *state);
/* Bytes the workload itself sent between processes (through a pipe of its own), added to
 * results.bytes_copied; call in finish, in the parent process. */
void cv_run_add_bytes_copied(struct cv_run *run, uint64_t bytes);
void cv_result_num(struct cv_run *run, const char *key, double value);
void cv_result_str(struct cv_run *run, const char *key, const char *value);
void cv_result_value(struct cv_run *run, const char *key, struct cv_value *value);
bool cv_result_has(struct cv_run *run, const char *key);
void cv_run_error(struct cv_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

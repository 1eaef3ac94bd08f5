/* What a model provides: how a lane waits (struct cv_wait_ops: park and unpark, and optionally a
 * suspending HTTP GET and an offload to an executor) and the model itself (struct cv_model_ops:
 * how many lanes it needs and how it runs the workload; trace, a program's own threads, also
 * declares lanes as they appear). models.c maps a model's id to its table.
 */
#ifndef CONCVIZ_MODELS_MODEL_H
#define CONCVIZ_MODELS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cv_ctx;
struct cv_run;
struct cv_http_result;

/* How a lane waits. Primitives are written against these, once for every model. */
struct cv_wait_ops {
    /* Blocks the calling lane until unparked or until deadline_ns (CLOCK_MONOTONIC, 0 = none).
     * May return early (spuriously); callers re-check their condition. */
    void (*park)(struct cv_ctx *ctx, uint64_t deadline_ns);
    /* Makes `lane` runnable again; callable from any lane, and from a signal handler. */
    void (*unpark)(struct cv_run *run, uint32_t lane);
    /* Optional: an HTTP GET that suspends the lane (else a blocking libcurl call). The URL is
     * already resolved. */
    bool (*http_get)(struct cv_ctx *ctx, const char *url, struct cv_http_result *res);
    /* Optional: runs fn(ctx, arg) on an executor lane while this lane waits (the executor's
     * ctx is passed, for its events); returns fn's result. argsz > 0 says the argument is flat
     * (no pointers), so its bytes may be copied to an executor process and back; 0 says it
     * can only run where this address space is. */
    bool (*offload)(struct cv_ctx *ctx, bool (*fn)(struct cv_ctx *, void *), void *arg,
                    size_t argsz);
};

/* One model: one file each in models/. */
struct cv_model_ops {
    unsigned id;
    /* Lanes needed, the main lane included. */
    uint32_t (*lanes)(const struct cv_run *run);
    /* Runs the whole workload on the driver thread; errors via cv_run_error. */
    int (*run)(struct cv_run *run);
    const struct cv_wait_ops *wait;
    /* Optional: a lane's name (else main, the role, or worker-N) and ring size (else the
     * configured one). */
    void (*lane_name)(const struct cv_run *run, uint32_t lane, char *buf, size_t n);
    size_t (*ring_size)(const struct cv_run *run, uint32_t lane);
    /* Optional: refuses (CV_ERR_USAGE, one line in *cause) a run this process's environment
     * would not let the model run as asked; called once the run is sized, before any set-up. */
    int (*check)(const struct cv_run *run, char **cause);
    /* Optional: set-up once the run's shared memory exists, and its undoing (destroy). */
    int (*prepare)(struct cv_run *run, char **cause);
    void (*release)(struct cv_run *run);
    /* Optional: before each drain (final: the last one, the driver has ended), declares to the
     * collector the lanes and objects that appeared meanwhile (a traced program's). */
    void (*sync)(struct cv_run *run, bool final);
};
const struct cv_model_ops *cv__model_ops(unsigned id);
extern const struct cv_model_ops cv__model_serial;
extern const struct cv_model_ops cv__model_threads;
extern const struct cv_model_ops cv__model_procs;
extern const struct cv_model_ops cv__model_openmp;
extern const struct cv_model_ops cv__model_epoll;
extern const struct cv_model_ops cv__model_hybrid;
extern const struct cv_model_ops cv__model_trace;
extern const struct cv_wait_ops cv__wait_block;

#endif

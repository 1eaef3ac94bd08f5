/* counter: every task adds one to a shared counter `iterations` times; the increment is a read,
 * some computing (Python's bytecodes between LOAD and STORE), and a write. Each task also counts
 * the increments it made in a count of its own, which no other task touches, so the updates
 * lost are the increments made less the counter's final value. */
#include "wl.h"

#include <string.h>

struct counter_state {
    struct cv_counter *counter;
    uint64_t iterations;
    uint64_t work_ns;
    _Atomic uint64_t made; /* increments made, summed as each task ends */
};

static const struct cv_param_def params[] = {
    {"variant", CV_PARAM_ENUM, "none", "how the increment is protected",
     "none|mutex|atomic|omp_atomic|omp_critical", 0, 0},
    {"iterations", CV_PARAM_INT, "1000000", "increments per worker", NULL, 1, 1e9},
    {"increment", CV_PARAM_ENUM, "bare",
     "the unprotected increment: bare (counter += 1) or call (counter = bump(counter), a "
     "switch point inside)",
     "bare|call", 0, 0},
    {"work_ns", CV_PARAM_INT, "800",
     "CPU per increment in ns (half of it between the read and the write)", NULL, 0, 1e7},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int counter_plan(struct cv_run *run, char **cause)
{
    /* OpenMP's constructs are for OpenMP threads: a critical section is a lock inside one
     * process, and OpenMP runtimes need not support it from threads they did not start. */
    const char *variant = cv_param_str(run, "variant");
    if (!strncmp(variant, "omp_", 4) && strcmp(cv_run_model_name(run), "openmp") != 0) {
        if (cause)
            *cause = cv_strdup_printf("variant %s needs the openmp model (model is %s; use "
                                      "mutex or atomic)",
                                      variant, cv_run_model_name(run));
        return CV_ERR_USAGE;
    }
    cv_run_set_tasks(run, cv_run_workers(run));
    return CV_OK;
}

static int counter_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct counter_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    int v = cv_counter_variant_from_name(cv_param_str(run, "variant"));
    st->counter = cv_counter_create(run, "counter", (enum cv_counter_variant)v);
    if (!st->counter)
        return CV_ERR_RUNTIME;
    cv_counter_set_call(st->counter, !strcmp(cv_param_str(run, "increment"), "call"));
    st->iterations = (uint64_t)cv_param_int(run, "iterations");
    st->work_ns = (uint64_t)cv_param_int(run, "work_ns");
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int counter_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct counter_state *st = cv_run_workload_state(ctx->run);
    uint64_t made = 0;
    int rc = 0;
    for (uint64_t i = 0; i < st->iterations && rc == 0; i++) {
        bool one;
        if (!cv_counter_add(ctx, st->counter, st->work_ns, &one))
            rc = -1;
        made += one; /* a stop can leave the last increment unmade */
    }
    atomic_fetch_add(&st->made, made);
    cv_counter_sample(ctx, st->counter);
    return rc;
}

static void counter_finish(struct cv_run *run)
{
    struct counter_state *st = cv_run_workload_state(run);
    double expected = (double)st->iterations * (double)cv_run_task_count(run);
    double final = (double)cv_counter_value(st->counter);
    double made = (double)atomic_load(&st->made);
    cv_result_str(run, "variant", cv_param_str(run, "variant"));
    cv_result_num(run, "counter_expected", expected);
    cv_result_num(run, "increments_made", made);
    cv_result_num(run, "counter_final", final);
    cv_result_num(run, "lost_updates", made - final);
}

const struct cv_workload cv__wl_counter = {
    .name = "counter",
    .summary = "read-modify-write of a shared counter from every worker",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = counter_plan,
    .setup = counter_setup,
    .task = counter_task,
    .finish = counter_finish,
};

/* daemon: threading.Thread(daemon=True) and join(timeout=...). The main thread starts its
 * workers, joins each with a timeout: the short one is joined, the long ones are not (the join
 * gives up while their work runs on), then the main thread ends. Daemon workers still working
 * then are abandoned: they leave at their next step, their work not done, reported cancelled
 * and counted `abandoned`; non-daemon ones (kind=normal) keep the program alive until they are
 * done, as Python's interpreter waits for them at exit.
 *
 * Each worker is started and joined through a one-slot queue of its own: start() puts its work
 * there, the worker takes it and marks it done when finished, and join(timeout) is the queue's
 * join with that timeout (its lane waits in the queue state, then times out). */
#include "wl.h"

#include <stdio.h>
#include <string.h>

#include "concviz/clock.h"

#define MAX_WORKERS 64

struct daemon_state {
    struct cv_queue *thread[MAX_WORKERS]; /* worker k's start and done */
    uint32_t workers;
    bool daemon;
    uint64_t short_ns, work_ns, join_timeout_ns, step_ns;
    _Atomic uint32_t main_ended; /* the main thread has returned: the program ends */
    _Atomic uint64_t joined, join_timeouts, completed, abandoned, abandoned_ns;
    uint64_t main_ns; /* how long the main thread ran */
};

static const struct cv_param_def params[] = {
    {"kind", CV_PARAM_ENUM, "daemon", "Thread(daemon=True) or a normal thread", "daemon|normal", 0,
     0},
    {"workers", CV_PARAM_INT, "3", "worker threads (the first one's work is short)", NULL, 2,
     MAX_WORKERS},
    {"short_ms", CV_PARAM_FLOAT, "100", "the first worker's work, ms", NULL, 0, 3600000},
    {"work_ms", CV_PARAM_FLOAT, "1500", "the other workers' work, ms", NULL, 0, 3600000},
    {"join_timeout_ms", CV_PARAM_FLOAT, "300", "join(timeout=...) for each worker, ms", NULL, 0,
     3600000},
    {"step_ms", CV_PARAM_FLOAT, "5", "the work's steps: an abandoned daemon leaves at the next, ms",
     NULL, 0.1, 1000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"main-thread", NULL, 1},
    {"worker", "workers", 0},
    {NULL, NULL, 0},
};

static int daemon_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_role(run, "main-thread");
    cv_run_add_roles(run, "worker", cv_param_int(run, "workers"));
    return CV_OK;
}

static uint64_t ms_param(struct cv_run *run, const char *key)
{
    return (uint64_t)(cv_param_num(run, key) * 1e6);
}

static int daemon_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct daemon_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->workers = (uint32_t)cv_param_int(run, "workers");
    st->daemon = !strcmp(cv_param_str(run, "kind"), "daemon");
    st->short_ns = ms_param(run, "short_ms");
    st->work_ns = ms_param(run, "work_ms");
    st->join_timeout_ns = ms_param(run, "join_timeout_ms");
    st->step_ns = ms_param(run, "step_ms");
    char name[CV_NAME_MAX];
    for (uint32_t k = 0; k < st->workers; k++) {
        snprintf(name, sizeof name, "thread-%u", k + 1);
        if (!(st->thread[k] = cv_queue_create(run, name, 1)))
            return CV_ERR_RUNTIME;
    }
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* start() each worker, join(timeout) each in turn, then return: the program ends. */
static int main_thread(struct cv_ctx *ctx, struct daemon_state *st)
{
    uint64_t t0 = cv_clock_mono_ns();
    for (uint32_t k = 0; k < st->workers; k++)
        if (!cv_queue_push(ctx, st->thread[k], k + 1))
            return -1;
    for (uint32_t k = 0; k < st->workers; k++) {
        enum cv_queue_result r = cv_queue_join(ctx, st->thread[k], st->join_timeout_ns);
        if (r == CV_QUEUE_STOPPED)
            return -1;
        atomic_fetch_add(r == CV_QUEUE_OK ? &st->joined : &st->join_timeouts, 1);
    }
    st->main_ns = cv_clock_mono_ns() - t0;
    atomic_store(&st->main_ended, 1);
    return 0;
}

/* Waits to be started, then works (waits) until its work's end, in steps; a daemon leaves at
 * the step after the program has ended. The end is a deadline, so late wake-ups of a loaded
 * machine do not add up over the steps. */
static int worker(struct cv_ctx *ctx, struct daemon_state *st, uint32_t k)
{
    uint64_t started;
    if (!cv_queue_pop(ctx, st->thread[k], &started))
        return -1;
    uint64_t end = cv_clock_mono_ns() + (k == 0 ? st->short_ns : st->work_ns), now;
    while ((now = cv_clock_mono_ns()) < end) {
        if (st->daemon && atomic_load(&st->main_ended)) {
            atomic_fetch_add(&st->abandoned, 1);
            atomic_fetch_add(&st->abandoned_ns, end - now);
            return CV_TASK_ABANDONED;
        }
        if (!cv_sleep(ctx, end - now < st->step_ns ? end - now : st->step_ns))
            return -1;
    }
    atomic_fetch_add(&st->completed, 1);
    return cv_queue_task_done(ctx, st->thread[k]);
}

static int daemon_role(struct cv_ctx *ctx, uint32_t role)
{
    struct daemon_state *st = cv_run_workload_state(ctx->run);
    return role == 0 ? main_thread(ctx, st) : worker(ctx, st, role - 1);
}

static void daemon_finish(struct cv_run *run)
{
    struct daemon_state *st = cv_run_workload_state(run);
    uint64_t abandoned = atomic_load(&st->abandoned);
    cv_result_num(run, "joined", (double)atomic_load(&st->joined));
    cv_result_num(run, "join_timeouts", (double)atomic_load(&st->join_timeouts));
    cv_result_num(run, "work_completed", (double)atomic_load(&st->completed));
    cv_result_num(run, "abandoned", (double)abandoned);
    cv_result_num(run, "abandoned_work_s", (double)atomic_load(&st->abandoned_ns) / 1e9);
    cv_result_num(run, "main_thread_s", (double)st->main_ns / 1e9);
    char text[200];
    if (!atomic_load(&st->main_ended))
        snprintf(text, sizeof text, "the main thread did not end (the run was stopped)");
    else if (abandoned)
        snprintf(text, sizeof text,
                 "the main thread ended with %llu daemon thread%s still working: %s work was "
                 "abandoned, not completed, and the program did not wait for it",
                 (unsigned long long)abandoned, abandoned == 1 ? "" : "s",
                 abandoned == 1 ? "its" : "their");
    else
        snprintf(text, sizeof text,
                 st->daemon ? "every daemon thread had finished when the main thread ended"
                            : "the program waited for its non-daemon threads to finish their work");
    cv_result_str(run, "at_exit", text);
}

const struct cv_workload cv__wl_daemon = {
    .name = "daemon",
    .summary = "join(timeout) gives up; daemon threads' work is abandoned when main ends",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = daemon_plan,
    .setup = daemon_setup,
    .role = daemon_role,
    .finish = daemon_finish,
};

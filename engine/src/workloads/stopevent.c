/* stopevent: threading.Event as a shutdown signal. Checkers loop over small units of work (a short
 * wait and a little computing), checking a stop Event before each; waiters block in wait(); the
 * setter sets it once after a while. Every checker must notice within about a unit, and the one
 * set must wake every waiter. */
#include "wl.h"

#include <stdio.h>

struct stopevent_state {
    struct cv_event_obj *stop;
    uint32_t checkers, waiters;
    uint64_t stop_after_ns, unit_wait_ns, unit_cpu_ns, wait_timeout_ns;
    _Atomic uint64_t set_ns;  /* when the setter set it (mono ns), 0 before */
    _Atomic uint64_t done_ns; /* when its set had returned, UINT64_MAX before */
    /* units begun on a check made after the set had returned: it must have seen the flag, so
     * none (a checker that ran past the stop) */
    _Atomic uint32_t units_after_set;
    _Atomic uint64_t latency_max_ns;
    _Atomic uint32_t checkers_stopped, waiters_woken, units, waiter_timeouts;
};

static const struct cv_param_def params[] = {
    {"checkers", CV_PARAM_INT, "3", "workers that check the Event between units of work", NULL, 1,
     256},
    {"waiters", CV_PARAM_INT, "2", "workers blocked in wait() until it is set", NULL, 0, 256},
    {"stop_after_ms", CV_PARAM_FLOAT, "300", "when the setter sets the Event, ms", NULL, 0, 60000},
    {"unit_wait_ms", CV_PARAM_FLOAT, "2", "a unit of work's wait (I/O-like), ms", NULL, 0.001,
     10000},
    {"unit_cpu_ms", CV_PARAM_FLOAT, "0.5", "a unit of work's computing, ms", NULL, 0, 10000},
    {"wait_timeout_ms", CV_PARAM_FLOAT, "0",
     "waiters loop on wait(timeout), ms (`while not stop.wait(t)`); 0 waits without one", NULL, 0,
     60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"setter", NULL, 1},
    {"checker", "checkers", 0},
    {"waiter", "waiters", 0},
    {NULL, NULL, 0},
};

static int stopevent_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_role(run, "setter");
    cv_run_add_roles(run, "checker", cv_param_int(run, "checkers"));
    cv_run_add_roles(run, "waiter", cv_param_int(run, "waiters"));
    return CV_OK;
}

static int stopevent_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct stopevent_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->checkers = (uint32_t)cv_param_int(run, "checkers");
    st->waiters = (uint32_t)cv_param_int(run, "waiters");
    st->stop_after_ns = (uint64_t)(cv_param_num(run, "stop_after_ms") * 1e6);
    st->unit_wait_ns = (uint64_t)(cv_param_num(run, "unit_wait_ms") * 1e6);
    st->unit_cpu_ns = (uint64_t)(cv_param_num(run, "unit_cpu_ms") * 1e6);
    st->wait_timeout_ns = (uint64_t)(cv_param_num(run, "wait_timeout_ms") * 1e6);
    atomic_store(&st->done_ns, UINT64_MAX);
    st->stop = cv_event_create(run, "stop");
    if (!st->stop)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static void latency_max(struct stopevent_state *st, uint64_t ns)
{
    uint64_t cur = atomic_load(&st->latency_max_ns);
    while (ns > cur && !atomic_compare_exchange_weak(&st->latency_max_ns, &cur, ns))
        ;
}

static int setter(struct cv_ctx *ctx, struct stopevent_state *st)
{
    if (!cv_sleep(ctx, st->stop_after_ns))
        return -1;
    atomic_store(&st->set_ns, cv_clock_mono_ns());
    cv_event_set(ctx, st->stop);
    atomic_store(&st->done_ns, cv_clock_mono_ns());
    return 0;
}

/* while not stop.is_set(): one unit of work */
static int checker(struct cv_ctx *ctx, struct stopevent_state *st)
{
    for (;;) {
        uint64_t check_ns = cv_clock_mono_ns(); /* taken before the check */
        if (cv_event_is_set(st->stop))
            break;
        if (check_ns > atomic_load(&st->done_ns))
            atomic_fetch_add(&st->units_after_set, 1);
        if (!cv_sleep(ctx, st->unit_wait_ns) || !cv_cpu(ctx, st->unit_cpu_ns))
            return -1;
        atomic_fetch_add(&st->units, 1);
    }
    uint64_t set = atomic_load(&st->set_ns), now = cv_clock_mono_ns();
    latency_max(st, set && now > set ? now - set : 0);
    atomic_fetch_add(&st->checkers_stopped, 1);
    return 0;
}

static int waiter(struct cv_ctx *ctx, struct stopevent_state *st)
{
    /* while not stop.wait(timeout): a timeout returns false, and so does a stop */
    while (!cv_event_wait(ctx, st->stop, st->wait_timeout_ns)) {
        if (cv_stopping(ctx) || !st->wait_timeout_ns)
            return -1;
        atomic_fetch_add(&st->waiter_timeouts, 1);
    }
    atomic_fetch_add(&st->waiters_woken, 1);
    return 0;
}

static int stopevent_role(struct cv_ctx *ctx, uint32_t role)
{
    struct stopevent_state *st = cv_run_workload_state(ctx->run);
    if (role == 0)
        return setter(ctx, st);
    return role <= st->checkers ? checker(ctx, st) : waiter(ctx, st);
}

static void stopevent_finish(struct cv_run *run)
{
    struct stopevent_state *st = cv_run_workload_state(run);
    cv_result_num(run, "checkers", st->checkers);
    cv_result_num(run, "checkers_stopped", atomic_load(&st->checkers_stopped));
    cv_result_num(run, "waiters", st->waiters);
    cv_result_num(run, "waiters_woken", atomic_load(&st->waiters_woken));
    cv_result_num(run, "waiter_timeouts", atomic_load(&st->waiter_timeouts));
    cv_result_num(run, "units", atomic_load(&st->units));
    cv_result_num(run, "units_after_set", atomic_load(&st->units_after_set));
    cv_result_num(run, "stop_latency_max_ms", (double)atomic_load(&st->latency_max_ns) / 1e6);
    cv_result_num(run, "unit_ms", (double)(st->unit_wait_ns + st->unit_cpu_ns) / 1e6);
}

const struct cv_workload cv__wl_stopevent = {
    .name = "stopevent",
    .summary = "workers check a stop Event between units of work; waiters block until it is set",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = stopevent_plan,
    .setup = stopevent_setup,
    .role = stopevent_role,
    .finish = stopevent_finish,
};

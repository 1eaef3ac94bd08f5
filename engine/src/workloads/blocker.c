/* blocker: ticker roles sleep `tick_ms` again and again and record how late each wake-up is;
 * one blocker role computes for `block_ms` without a single wait. On an event loop the
 * computation holds the only thread, so every ticker is late by about that long; with a thread
 * each, the tickers do not notice. */
#include "wl.h"

#include <stdio.h>

struct blocker_state {
    uint32_t tickers, ticks;
    uint64_t tick_ns, block_ns;
    _Atomic uint64_t max_late_ns;
    _Atomic uint64_t blocked_ns; /* how long the blocker's computation took */
    _Atomic uint32_t ticking;    /* tickers not yet done */
    _Atomic uint32_t at_block;   /* of them, when the computation began */
};

static const struct cv_param_def params[] = {
    {"tickers", CV_PARAM_INT, "4", "tasks that only sleep and measure their lateness", NULL, 1,
     1000},
    {"tick_ms", CV_PARAM_FLOAT, "50", "each ticker's sleep, ms", NULL, 1, 10000},
    {"ticks", CV_PARAM_INT, "40", "sleeps per ticker", NULL, 1, 100000},
    {"block_ms", CV_PARAM_FLOAT, "500", "CPU work of the blocking task, ms (no await inside)", NULL,
     0, 60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"ticker", "tickers", 0},
    {"blocker", NULL, 1},
    {NULL, NULL, 0},
};

static int blocker_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_roles(run, "ticker", cv_param_int(run, "tickers"));
    cv_run_add_role(run, "blocker");
    return CV_OK;
}

static int blocker_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct blocker_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->tickers = (uint32_t)cv_param_int(run, "tickers");
    st->ticks = (uint32_t)cv_param_int(run, "ticks");
    st->tick_ns = (uint64_t)(cv_param_num(run, "tick_ms") * 1e6);
    st->block_ns = (uint64_t)(cv_param_num(run, "block_ms") * 1e6);
    atomic_init(&st->ticking, st->tickers);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int blocker_role(struct cv_ctx *ctx, uint32_t role)
{
    struct blocker_state *st = cv_run_workload_state(ctx->run);
    if (role == st->tickers) {
        /* let the tickers get going, then hold the CPU */
        if (!cv_sleep(ctx, st->tick_ns * 3))
            return -1;
        atomic_store(&st->at_block, atomic_load(&st->ticking));
        uint64_t t0 = cv_clock_mono_ns();
        bool ok = cv_cpu(ctx, st->block_ns);
        atomic_store(&st->blocked_ns, cv_clock_mono_ns() - t0);
        return ok ? 0 : -1;
    }
    bool ok = cv__ticker(ctx, st->ticks, st->tick_ns, &st->max_late_ns);
    atomic_fetch_sub(&st->ticking, 1);
    return ok ? 0 : -1;
}

static void blocker_finish(struct cv_run *run)
{
    struct blocker_state *st = cv_run_workload_state(run);
    cv_result_num(run, "max_lateness_ms", (double)atomic_load(&st->max_late_ns) / 1e6);
    cv_result_num(run, "loop_blocked_s", (double)atomic_load(&st->blocked_ns) / 1e9);
    /* tickers asleep when the computation began: on a loop, each of them waits it out */
    cv_result_num(run, "tickers_at_block", atomic_load(&st->at_block));
}

const struct cv_workload cv__wl_blocker = {
    .name = "blocker",
    .summary = "tickers measuring their lateness next to a task that computes without waiting",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = blocker_plan,
    .setup = blocker_setup,
    .role = blocker_role,
    .finish = blocker_finish,
};

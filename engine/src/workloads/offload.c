/* offload: fetcher roles GET a URL and then process the answer with CPU work handed to the
 * executor (cv_offload_cpu: run_in_executor); ticker roles measure how late their wake-ups are.
 * With an executor (hybrid) the loop stays responsive; without one (epoll) the work runs on the
 * loop and every ticker waits for it. */
#include "wl.h"

#include <stdio.h>

struct offload_state {
    uint32_t tickers, fetchers, rounds, ticks;
    uint64_t tick_ns, work_ns;
    _Atomic uint64_t max_late_ns;
    _Atomic uint32_t fetched_ok, processed;
    _Atomic uint32_t ticking;       /* tickers not yet done */
    _Atomic uint32_t beside_ticker; /* pieces of processing begun while a ticker was */
};

static const struct cv_param_def params[] = {
    {"url", CV_PARAM_STRING, "http://local/delay/100", "what each fetcher GETs", NULL, 0, 0},
    {"fetchers", CV_PARAM_INT, "4", "tasks that fetch then compute", NULL, 1, 1000},
    {"rounds", CV_PARAM_INT, "3", "fetch-and-compute rounds per fetcher", NULL, 1, 10000},
    {"work_ms", CV_PARAM_FLOAT, "200", "CPU work per fetched answer, ms", NULL, 0, 60000},
    {"tickers", CV_PARAM_INT, "2", "tasks that only sleep and measure their lateness", NULL, 1,
     100},
    {"tick_ms", CV_PARAM_FLOAT, "20", "each ticker's sleep, ms", NULL, 1, 10000},
    {"ticks", CV_PARAM_INT, "100", "sleeps per ticker", NULL, 1, 100000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const struct cv_role_def roles[] = {
    {"fetcher", "fetchers", 0},
    {"ticker", "tickers", 0},
    {NULL, NULL, 0},
};

static int offload_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_roles(run, "fetcher", cv_param_int(run, "fetchers"));
    cv_run_add_roles(run, "ticker", cv_param_int(run, "tickers"));
    return CV_OK;
}

static int offload_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct offload_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->fetchers = (uint32_t)cv_param_int(run, "fetchers");
    st->tickers = (uint32_t)cv_param_int(run, "tickers");
    st->rounds = (uint32_t)cv_param_int(run, "rounds");
    st->ticks = (uint32_t)cv_param_int(run, "ticks");
    st->tick_ns = (uint64_t)(cv_param_num(run, "tick_ms") * 1e6);
    st->work_ns = (uint64_t)(cv_param_num(run, "work_ms") * 1e6);
    atomic_init(&st->ticking, st->tickers);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int offload_role(struct cv_ctx *ctx, uint32_t role)
{
    struct offload_state *st = cv_run_workload_state(ctx->run);
    if (role < st->fetchers) {
        for (uint32_t r = 0; r < st->rounds; r++) {
            struct cv_http_result res;
            if (!cv_http_get(ctx, cv_param_str(ctx->run, "url"), &res))
                return cv_stopping(ctx) ? -1 : -2;
            if (res.status == 200)
                atomic_fetch_add(&st->fetched_ok, 1);
            if (atomic_load(&st->ticking))
                atomic_fetch_add(&st->beside_ticker, 1);
            if (!cv_offload_cpu(ctx, st->work_ns))
                return -1;
            atomic_fetch_add(&st->processed, 1);
        }
        return 0;
    }
    bool ok = cv__ticker(ctx, st->ticks, st->tick_ns, &st->max_late_ns);
    atomic_fetch_sub(&st->ticking, 1);
    return ok ? 0 : -1;
}

static void offload_finish(struct cv_run *run)
{
    struct offload_state *st = cv_run_workload_state(run);
    cv_result_num(run, "fetched_ok", atomic_load(&st->fetched_ok));
    cv_result_num(run, "processed", atomic_load(&st->processed));
    cv_result_num(run, "expected", (double)st->fetchers * st->rounds);
    cv_result_num(run, "max_lateness_ms", (double)atomic_load(&st->max_late_ns) / 1e6);
    /* on a plain loop, each of these held every ticker that was asleep */
    cv_result_num(run, "work_beside_tickers", atomic_load(&st->beside_ticker));
    /* the processing as the executor's lanes ran it (0 when it ran on the loop) */
    cv_result_num(run, "executor_s", cv__run_offload_busy_s(run));
}

/* A connection per fetcher under way; tickers hold none. */
static void offload_holds(const struct cv_run *run, uint64_t in_flight, uint64_t in_call,
                          uint64_t *connections, uint64_t *files)
{
    (void)in_call;
    uint64_t fetchers = (uint64_t)cv_param_int(run, "fetchers");
    *connections = fetchers < in_flight ? fetchers : in_flight;
    *files = 0;
}

const struct cv_workload cv__wl_offload = {
    .name = "offload",
    .summary = "fetch, then CPU work handed to an executor, next to tickers measuring lateness",
    .params = params,
    .shape = CV_SHAPE_ROLES,
    .roles = roles,
    .plan = offload_plan,
    .setup = offload_setup,
    .role = offload_role,
    .finish = offload_finish,
    .holds = offload_holds,
    .tasks_param = "fetchers",
};

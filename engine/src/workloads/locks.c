/* locks: every task takes two locks, one after the other, and works while holding both. In
 * "inconsistent" order half the tasks take them the other way round: two tasks can each hold the
 * lock the other wants (the classic deadlock); in "ordered" order every task takes A before B.
 * The lane that last took each lock is noted here, apart from the run's wait-for graph, so a
 * deadlock's cycle can be checked against who really held what. */
#include "wl.h"

#include <string.h>

struct locks_state {
    struct cv_mutex *a, *b;
    bool ordered;
    uint32_t rounds;
    uint64_t hold_ns, work_ns;
    _Atomic uint64_t done;          /* rounds completed, all tasks */
    _Atomic uint32_t last_taker[2]; /* lane + 1 that last took lock_a, lock_b; 0 = none */
};

static const struct cv_param_def params[] = {
    {"order", CV_PARAM_ENUM, "inconsistent", "the order tasks take the two locks in",
     "inconsistent|ordered", 0, 0},
    {"rounds", CV_PARAM_INT, "10", "times each task takes both locks", NULL, 1, 1000000},
    {"hold_ms", CV_PARAM_FLOAT, "50", "time between taking the first lock and the second, ms", NULL,
     0, 60000},
    {"work_ms", CV_PARAM_FLOAT, "5", "work done holding both locks, ms", NULL, 0, 60000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int locks_plan(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, cv_run_workers(run));
    return CV_OK;
}

static int locks_setup(struct cv_run *run, char **cause)
{
    (void)cause;
    struct locks_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    st->a = cv_mutex_create(run, "lock_a");
    st->b = cv_mutex_create(run, "lock_b");
    if (!st->a || !st->b)
        return CV_ERR_RUNTIME;
    st->ordered = !strcmp(cv_param_str(run, "order"), "ordered");
    st->rounds = (uint32_t)cv_param_int(run, "rounds");
    st->hold_ns = (uint64_t)(cv_param_num(run, "hold_ms") * 1e6);
    st->work_ns = (uint64_t)(cv_param_num(run, "work_ms") * 1e6);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

static int locks_task(struct cv_ctx *ctx, uint32_t task)
{
    struct locks_state *st = cv_run_workload_state(ctx->run);
    bool reverse = !st->ordered && task % 2 == 1;
    struct cv_mutex *first = reverse ? st->b : st->a, *second = reverse ? st->a : st->b;
    _Atomic uint32_t *took_first = &st->last_taker[reverse],
                     *took_second = &st->last_taker[!reverse];
    for (uint32_t r = 0; r < st->rounds; r++) {
        if (!cv_mutex_lock(ctx, first))
            return -1;
        if (!cv_stopping(ctx)) /* a waiter let in as the run stops holds nothing that counts */
            atomic_store(took_first, ctx->lane + 1);
        if (!cv_sleep(ctx, st->hold_ns) || !cv_mutex_lock(ctx, second)) {
            cv_mutex_unlock(ctx, first);
            return -1;
        }
        if (!cv_stopping(ctx))
            atomic_store(took_second, ctx->lane + 1);
        bool ok = cv_cpu(ctx, st->work_ns);
        cv_mutex_unlock(ctx, second);
        cv_mutex_unlock(ctx, first);
        if (!ok)
            return -1;
        atomic_fetch_add(&st->done, 1);
    }
    return 0;
}

static void locks_finish(struct cv_run *run)
{
    struct locks_state *st = cv_run_workload_state(run);
    cv_result_num(run, "rounds_done", (double)atomic_load(&st->done));
    cv_result_num(run, "rounds_expected", (double)st->rounds * (double)cv_run_task_count(run));
    struct cv_value *took = cv_value_obj();
    static const char *const lock_names[] = {"lock_a", "lock_b"};
    for (int i = 0; i < 2; i++) {
        uint32_t lane = atomic_load(&st->last_taker[i]);
        if (lane)
            cv_value_set_str(took, lock_names[i], cv__run_lane_name(run, lane - 1));
        else
            cv_value_set_str(took, lock_names[i], "");
    }
    cv_result_value(run, "last_taken_by", took);
    if (!cv_result_has(run, "deadlock")) { /* the run fills it in when it finds one */
        struct cv_value *d = cv_value_obj();
        cv_value_set_bool(d, "detected", false);
        cv_value_set(d, "cycle", cv_value_arr());
        cv_result_value(run, "deadlock", d);
    }
}

const struct cv_workload cv__wl_locks = {
    .name = "locks",
    .summary = "two locks taken one after the other, in a consistent order or not",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = locks_plan,
    .setup = locks_setup,
    .task = locks_task,
    .finish = locks_finish,
};

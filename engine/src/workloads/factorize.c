/* factorize: every divisor of each number up to its square root (the article's factorize()),
 * each number tested `repeat` times. Unlike is_prime it never stops early. */
#include "wl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct factor_result {
    uint64_t divisors; /* all divisors of n */
    uint64_t smallest; /* its smallest divisor above 1 */
};

struct factorize_state {
    struct cv__numbers nums;
    struct factor_result *results; /* per task */
};

static const struct cv_param_def params[] = {
    {"numbers", CV_PARAM_INT_LIST,
     "112272535095293,112582705942171,115280095190773,115797848077099,1099726899285419,"
     "600851475143",
     "comma-separated numbers to factorize", NULL, 2, 9007199254740992.0},
    {"repeat", CV_PARAM_INT, "4", "how many times each number is factorized", NULL, 1, 100000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int factorize_setup(struct cv_run *run, char **cause)
{
    struct factorize_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    int rc = cv__numbers_parse(run, &st->nums, cause);
    st->results = cv_shared_alloc(run, cv_run_task_count(run) * sizeof *st->results);
    if (!st->results)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return rc;
}

static size_t factorize_arg(struct cv_run *run, uint32_t task, const void **data)
{
    struct factorize_state *st = cv_run_workload_state(run);
    return cv__numbers_arg(&st->nums, task, data);
}

static int factorize_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    uint64_t n;
    if (!cv__task_number(ctx, &n))
        return -1;
    uint64_t limit = cv__isqrt(n);
    struct factor_result r = {0, n};
    for (uint64_t d = 1; d <= limit; d++) {
        if (n % d == 0) {
            r.divisors += d * d == n ? 1 : 2;
            if (d > 1 && d < r.smallest)
                r.smallest = d;
        }
        if ((d & 8191) == 0 && cv_checkpoint(ctx))
            return -1;
    }
    cv_task_result(ctx, &r, sizeof r);
    return 0;
}

static void factorize_done(struct cv_run *run, uint32_t task, const void *data, size_t len)
{
    struct factorize_state *st = cv_run_workload_state(run);
    if (len == sizeof(struct factor_result))
        memcpy(&st->results[task], data, len);
}

static void factorize_finish(struct cv_run *run)
{
    struct factorize_state *st = cv_run_workload_state(run);
    uint32_t n = (uint32_t)cv_run_task_count(run);
    struct cv_value *per = cv_value_arr();
    uint64_t done = 0, consistent = 1, verified = 0;
    uint64_t facts[CV__NUMBERS_MAX][2]; /* divisors, smallest factor: by Pollard's rho */
    for (uint32_t i = 0; i < st->nums.n; i++)
        cv__factor_facts(st->nums.v[i], &facts[i][0], &facts[i][1]);
    for (uint32_t t = 0; t < n; t++) {
        if (st->results[t].divisors == 0)
            continue;
        done++;
        verified += st->results[t].divisors == facts[t % st->nums.n][0] &&
                    st->results[t].smallest == facts[t % st->nums.n][1];
        /* every repeat of a number must agree with its first */
        const struct factor_result *first = &st->results[t % st->nums.n];
        if (first->divisors != st->results[t].divisors ||
            first->smallest != st->results[t].smallest)
            consistent = 0;
    }
    for (uint32_t i = 0; i < st->nums.n && i < n; i++) {
        struct cv_value *o = cv_value_push(per, cv_value_obj());
        cv_value_set_num(o, "n", (double)st->nums.v[i]);
        cv_value_set_num(o, "divisors", (double)st->results[i].divisors);
        cv_value_set_num(o, "smallest_factor", (double)st->results[i].smallest);
    }
    cv_result_num(run, "factorized", (double)done);
    cv_result_num(run, "consistent", (double)consistent);
    cv_result_num(run, "verified", (double)verified);
    cv_result_value(run, "factors", per);
}

const struct cv_workload cv__wl_factorize = {
    .name = "factorize",
    .summary = "all divisors of large numbers by trial division",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = cv__numbers_plan,
    .setup = factorize_setup,
    .task = factorize_task,
    .finish = factorize_finish,
    .task_arg = factorize_arg,
    .task_done = factorize_done,
};

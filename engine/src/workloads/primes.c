/* primes: is_prime by trial division up to sqrt(n) on the numbers of the ProcessPoolExecutor
 * example, each number repeated `repeat` times so the run lasts long enough to watch. The CPU
 * time of the trial divisions is measured on each worker (its thread's CPU clock): that much
 * computing in less wall time than it took means workers computed at the same time. */
#include "wl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct primes_state {
    struct cv__numbers nums;
    uint8_t *is_prime; /* per task, shared */
    _Atomic uint64_t compute_ns;
    _Atomic uint64_t longest_ns; /* the CPU time of the longest task */
};

static const struct cv_param_def params[] = {
    {"numbers", CV_PARAM_INT_LIST,
     "112272535095293,112582705942171,112272535095293,115280095190773,115797848077099,"
     "1099726899285419",
     "comma-separated numbers to test", NULL, 2, 9007199254740992.0},
    {"repeat", CV_PARAM_INT, "48", "how many times each number is tested (scales the run)", NULL, 1,
     100000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int primes_setup(struct cv_run *run, char **cause)
{
    struct primes_state *st = cv_shared_alloc(run, sizeof *st);
    if (!st)
        return CV_ERR_RUNTIME;
    int rc = cv__numbers_parse(run, &st->nums, cause);
    if (rc)
        return rc;
    st->is_prime = cv_shared_alloc(run, cv_run_task_count(run));
    if (!st->is_prime)
        return CV_ERR_RUNTIME;
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* Returns 1 prime, 0 composite, -1 stopped. */
static int is_prime(struct cv_ctx *ctx, uint64_t n)
{
    if (n < 2)
        return 0;
    if (n % 2 == 0)
        return n == 2;
    uint64_t limit = cv__isqrt(n);
    uint64_t k = 0;
    for (uint64_t d = 3; d <= limit; d += 2) {
        if (n % d == 0)
            return 0;
        if ((++k & 4095) == 0 && cv_checkpoint(ctx))
            return -1;
    }
    return 1;
}

/* The number travels to the task as its argument and the verdict back as its result, so under
 * procs both are copied between processes, as ProcessPoolExecutor pickles them. */
static size_t primes_arg(struct cv_run *run, uint32_t task, const void **data)
{
    struct primes_state *st = cv_run_workload_state(run);
    return cv__numbers_arg(&st->nums, task, data);
}

static int primes_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    uint64_t n;
    if (!cv__task_number(ctx, &n))
        return -1;
    uint64_t t0 = cv__thread_cpu_ns();
    int r = is_prime(ctx, n);
    struct primes_state *st = cv_run_workload_state(ctx->run);
    uint64_t took = cv__thread_cpu_ns() - t0;
    atomic_fetch_add(&st->compute_ns, took);
    uint64_t longest = atomic_load(&st->longest_ns);
    while (took > longest && !atomic_compare_exchange_weak(&st->longest_ns, &longest, took))
        ;
    if (r < 0)
        return -1;
    uint8_t verdict = (uint8_t)(r + 1);
    cv_task_result(ctx, &verdict, 1);
    return 0;
}

static void primes_done(struct cv_run *run, uint32_t task, const void *data, size_t len)
{
    struct primes_state *st = cv_run_workload_state(run);
    if (len == 1)
        st->is_prime[task] = *(const uint8_t *)data;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void primes_finish(struct cv_run *run)
{
    struct primes_state *st = cv_run_workload_state(run);
    uint64_t found[CV__NUMBERS_MAX];
    size_t nfound = 0, checked = 0, prime_tasks = 0;
    uint64_t n = cv_run_task_count(run);
    for (uint64_t t = 0; t < n; t++) {
        if (!st->is_prime[t])
            continue;
        checked++;
        if (st->is_prime[t] != 2)
            continue;
        prime_tasks++;
        uint64_t v = st->nums.v[t % st->nums.n];
        bool seen = false;
        for (size_t i = 0; i < nfound; i++)
            seen |= found[i] == v;
        if (!seen)
            found[nfound++] = v;
    }
    qsort(found, nfound, sizeof found[0], cmp_u64);
    /* each verdict against Miller-Rabin's: a second opinion for the expectations */
    size_t agreeing = 0;
    for (uint64_t t = 0; t < n; t++)
        agreeing += st->is_prime[t] &&
                    (st->is_prime[t] == 2) == cv__is_prime_fast(st->nums.v[t % st->nums.n]);
    struct cv_value *arr = cv_value_arr();
    for (size_t i = 0; i < nfound; i++)
        cv_value_push(arr, cv_value_num((double)found[i]));
    cv_result_num(run, "numbers_checked", (double)checked);
    cv_result_num(run, "prime_results", (double)prime_tasks);
    cv_result_num(run, "primes_found", (double)nfound);
    cv_result_num(run, "verdicts_verified", (double)agreeing);
    cv_result_value(run, "primes", arr);
    cv_result_num(run, "compute_s", (double)atomic_load(&st->compute_ns) / 1e9);
    cv_result_num(run, "longest_task_s", (double)atomic_load(&st->longest_ns) / 1e9);
}

const struct cv_workload cv__wl_primes = {
    .name = "primes",
    .summary = "trial division of large numbers, one task per number",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = cv__numbers_plan,
    .setup = primes_setup,
    .task = primes_task,
    .finish = primes_finish,
    .task_arg = primes_arg,
    .task_done = primes_done,
};

/* Small helpers shared by several workloads. */
#include "wl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t cv__thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t cv__isqrt(uint64_t n)
{
    uint64_t r = (uint64_t)sqrtl((long double)n);
    while (r * r > n)
        r--;
    while ((r + 1) * (r + 1) <= n)
        r++;
    return r;
}

bool cv__ticker(struct cv_ctx *ctx, uint32_t ticks, uint64_t tick_ns, _Atomic uint64_t *max_late)
{
    for (uint32_t i = 0; i < ticks; i++) {
        uint64_t due = cv_clock_mono_ns() + tick_ns;
        if (!cv_sleep(ctx, tick_ns))
            return false;
        uint64_t now = cv_clock_mono_ns(), late = now > due ? now - due : 0;
        uint64_t seen = atomic_load(max_late);
        while (late > seen && !atomic_compare_exchange_weak(max_late, &seen, late))
            ;
    }
    return true;
}

/* Up to 2^53: 2^60 was allowed once, and 1152921504606846883 came out as 1152921500000000000. */
int cv__numbers_parse(struct cv_run *run, struct cv__numbers *out, char **cause)
{
    int n = cv__parse_list("numbers", cv_param_str(run, "numbers"), 2, 1ull << 53, out->v,
                           CV__NUMBERS_MAX, cause);
    out->n = n > 0 ? (uint32_t)n : 0;
    return n > 0 ? CV_OK : CV_ERR_USAGE;
}

int cv__numbers_plan(struct cv_run *run, char **cause)
{
    struct cv__numbers probe;
    int rc = cv__numbers_parse(run, &probe, cause);
    if (rc == CV_OK)
        cv_run_set_tasks(run, probe.n * (uint32_t)cv_param_int(run, "repeat"));
    return rc;
}

size_t cv__numbers_arg(const struct cv__numbers *nums, uint32_t task, const void **data)
{
    *data = &nums->v[task % nums->n];
    return sizeof(uint64_t);
}

bool cv__task_number(struct cv_ctx *ctx, uint64_t *v)
{
    size_t len;
    const void *arg = cv_task_arg(ctx, &len);
    if (len != sizeof *v)
        return false;
    memcpy(v, arg, sizeof *v);
    return true;
}

/* Small helpers shared by several workloads. */
#include "internal.h"

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

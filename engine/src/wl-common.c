/* Small helpers shared by several workloads. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int cv__parse_list(const char *key, const char *text, uint64_t lo, uint64_t hi, uint64_t *out,
                   uint32_t max, char **cause)
{
    char *copy = cv_strdup(text), *save = NULL, *msg = NULL;
    uint32_t n = 0;
    for (char *t = strtok_r(copy, ", ", &save); t && !msg; t = strtok_r(NULL, ", ", &save)) {
        char *end;
        unsigned long long v = strtoull(t, &end, 10);
        if (*end || *t == '-' || v < lo || v > hi)
            msg = cv_strdup_printf("%s: '%s' is not a whole number from %llu to %llu", key, t,
                                   (unsigned long long)lo, (unsigned long long)hi);
        else if (n == max)
            msg = cv_strdup_printf("%s: at most %u values", key, max);
        else
            out[n++] = v;
    }
    free(copy);
    if (!msg && n == 0)
        msg = cv_strdup_printf("%s: give at least one value", key);
    if (msg) {
        if (cause)
            *cause = msg;
        else
            free(msg);
        return -1;
    }
    return (int)n;
}

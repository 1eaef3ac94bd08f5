/* Clock selection and TSC calibration. */
#include "concviz/clock.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

struct cv_clock_state cv__clock = {.source = CV_CLOCK_MONOTONIC, .mult = 1ull << 32};
static int initialised;

static int tsc_invariant(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    __cpuid(0x80000007u, a, b, c, d);
    return (d >> 8) & 1; /* "Invariant TSC" */
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
/* One (tsc, mono) pair read as close together as possible: the mono read bracketed tightest. */
static void sample(uint64_t *tsc, uint64_t *mono)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 16; i++) {
        uint64_t m0 = cv_clock_mono_ns();
        uint64_t t = __builtin_ia32_rdtsc();
        uint64_t m1 = cv_clock_mono_ns();
        if (i == 0 || m1 - m0 < best) {
            best = m1 - m0;
            *tsc = t;
            *mono = m0 + (m1 - m0) / 2;
        }
    }
}

static double measure_ghz(void)
{
    uint64_t t0, m0, t1, m1;
    sample(&t0, &m0);
    /* 10 ms: with ~50 ns of read jitter the rate is good to a few parts per million. */
    do {
        sample(&t1, &m1);
    } while (m1 - m0 < 10000000u);
    return (double)(t1 - t0) / (double)(m1 - m0);
}
#endif

enum cv_clock_source cv_clock_init(void)
{
    if (initialised)
        return cv__clock.source;
    initialised = 1;
    const char *force = getenv("CONCVIZ_CLOCK");
    cv__clock.source = CV_CLOCK_MONOTONIC;
    cv__clock.mult = 1ull << 32;
    cv__clock.tsc_ghz = 0;
#if defined(__x86_64__) || defined(__i386__)
    if ((!force || strcmp(force, "monotonic") != 0) && tsc_invariant()) {
        double ghz = measure_ghz();
        if (ghz > 0.1 && ghz < 20.0) {
            cv__clock.tsc_ghz = ghz;
            cv__clock.mult = (uint64_t)((double)(1ull << 32) / ghz);
            cv__clock.source = CV_CLOCK_TSC;
        }
    }
#endif
    return cv__clock.source;
}

void cv_clock_use_fake(uint64_t start_ns)
{
    initialised = 1;
    cv__clock.source = CV_CLOCK_FAKE;
    cv__clock.mult = 1ull << 32;
    cv__clock.fake_step = 0;
    atomic_store(&cv__clock.fake_ns, start_ns);
}

void cv_clock_fake_step(uint64_t step_ns)
{
    cv__clock.fake_step = cv__clock.source == CV_CLOCK_FAKE ? step_ns : 0;
}

void cv_clock_fake_advance(uint64_t ns)
{
    atomic_fetch_add(&cv__clock.fake_ns, ns);
}

uint64_t cv_clock_ns_to_ticks(uint64_t ns)
{
    return (uint64_t)(((unsigned __int128)ns << 32) / cv__clock.mult);
}

const char *cv_clock_source_name(enum cv_clock_source source)
{
    switch (source) {
    case CV_CLOCK_TSC:
        return "tsc";
    case CV_CLOCK_MONOTONIC:
        return "monotonic";
    case CV_CLOCK_FAKE:
        return "fake";
    }
    return "unknown";
}

/* The clock events are stamped with: invariant TSC when the CPU has one, else CLOCK_MONOTONIC.
 * Injectable: tests and replays can install a fake clock whose ticks are nanoseconds. */
#ifndef CONCVIZ_CLOCK_H
#define CONCVIZ_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

enum cv_clock_source { CV_CLOCK_TSC, CV_CLOCK_MONOTONIC, CV_CLOCK_FAKE };

/* Process-wide, set once by cv_clock_init before any worker starts; forked workers inherit it. */
struct cv_clock_state {
    enum cv_clock_source source;
    uint64_t mult;  /* ns = ticks * mult >> 32 */
    double tsc_ghz; /* measured TSC frequency, 0 when not in use */
    _Atomic uint64_t fake_ns;
    uint64_t fake_step; /* the fake clock's advance per event stamped (0 = none) */
};
extern struct cv_clock_state cv__clock;

/* Chooses the source (TSC only if invariant; CONCVIZ_CLOCK=monotonic forces the fallback) and
 * calibrates the TSC against CLOCK_MONOTONIC. Idempotent; returns the source in use. */
enum cv_clock_source cv_clock_init(void);
/* Installs a fake clock starting at start_ns: ticks are ns and only move by cv_clock_fake_advance.
 */
void cv_clock_use_fake(uint64_t start_ns);
void cv_clock_fake_advance(uint64_t ns);
/* For tests of whole runs (CONCVIZ_FAKE_CLOCK): every event stamped (cv_clock_stamp) moves the
 * fake clock on by step_ns first, so a run whose events come in a fixed order (one lane) has the
 * same times on every machine. Call after cv_clock_use_fake, before any run starts. */
void cv_clock_fake_step(uint64_t step_ns);
const char *cv_clock_source_name(enum cv_clock_source source);

static inline uint64_t cv_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cv_clock_ticks(void)
{
    if (__builtin_expect(cv__clock.source == CV_CLOCK_TSC, 1)) {
#if defined(__x86_64__) || defined(__i386__)
        return __builtin_ia32_rdtsc();
#endif
    }
    if (cv__clock.source == CV_CLOCK_MONOTONIC)
        return cv_clock_mono_ns();
    return atomic_load_explicit(&cv__clock.fake_ns, memory_order_relaxed);
}

/* The stamp of an event being recorded: the clock's ticks; a stepped fake clock moves on first.
 * The TSC path is tested first, so recording costs what cv_clock_ticks costs. */
static inline uint64_t cv_clock_stamp(void)
{
    if (__builtin_expect(cv__clock.source != CV_CLOCK_FAKE || !cv__clock.fake_step, 1))
        return cv_clock_ticks();
    return atomic_fetch_add_explicit(&cv__clock.fake_ns, cv__clock.fake_step,
                                     memory_order_relaxed) +
           cv__clock.fake_step;
}

/* Converts a tick difference to ns. */
static inline uint64_t cv_clock_ticks_to_ns(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * cv__clock.mult) >> 32);
}

/* Converts ns to ticks (for deadlines compared against cv_clock_ticks). */
uint64_t cv_clock_ns_to_ticks(uint64_t ns);

#endif

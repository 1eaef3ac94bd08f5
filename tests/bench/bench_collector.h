/* What the benchmarks that time cv_ring_record share (header-only): a collector draining rings
 * every 1 ms on a thread of its own, as a live run's front end does; the 8-event task sequence
 * they record; clocks, page-faulted allocation and thread start. */
#ifndef CONCVIZ_BENCH_COLLECTOR_H
#define CONCVIZ_BENCH_COLLECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "concviz/clock.h"
#include "concviz/collector.h"
#include "concviz/event.h"

#define BENCH_COLL_PERIOD_NS 1000000L
#define BENCH_OBJ_MUTEX      0u
#define BENCH_OBJ_QUEUE      1u

struct bench_collector_thread {
    struct cv_collector *c;
    uint64_t t0; /* the rings' clock origin, in ticks */
    atomic_bool stop;
    uint64_t drains;
};

/* A task's life on one lane, 8 events: the kinds a worker records, on the declared objects. */
struct bench_step {
    uint16_t kind;
    uint32_t obj;
    uint64_t arg;
};
static const struct bench_step bench_steps[8] = {
    {CV_EV_TASK_START, 0, 0},
    {CV_EV_LOCK_ACQUIRE, BENCH_OBJ_MUTEX, 0},
    {CV_EV_LOCK_RELEASE, BENCH_OBJ_MUTEX, 0},
    {CV_EV_QUEUE_PUSH, BENCH_OBJ_QUEUE, 1},
    {CV_EV_QUEUE_POP, BENCH_OBJ_QUEUE, 0},
    {CV_EV_IO_BEGIN, 0, CV_IO_SLEEP},
    {CV_EV_IO_END, 0, CV_IO_SLEEP},
    {CV_EV_TASK_END, 0, 0},
};

/* The thread: drains up to now every 1 ms until stop. */
static inline void *bench_collector_main(void *arg)
{
    struct bench_collector_thread *x = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load_explicit(&x->stop, memory_order_acquire)) {
        uint64_t now = cv_clock_ticks_to_ns(cv_clock_ticks() - x->t0);
        cv_collector_drain(x->c, now, false);
        x->drains++;
        next.tv_nsec += BENCH_COLL_PERIOD_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return NULL;
}

/* A collector with nlanes worker lanes, a mutex and a queue declared. */
static inline struct cv_collector *bench_collector_new(unsigned nlanes)
{
    struct cv_collector *c = cv_collector_create(0);
    for (unsigned l = 0; l < nlanes; l++) {
        char name[CV_NAME_MAX];
        snprintf(name, sizeof name, "worker-%u", l);
        cv_collector_add_lane(c, l, name, CV_ROLE_WORKER);
    }
    cv_collector_add_object(c, BENCH_OBJ_MUTEX, CV_OBJ_MUTEX, "mutex", 0);
    cv_collector_add_object(c, BENCH_OBJ_QUEUE, CV_OBJ_QUEUE, "queue", 64);
    return c;
}

static inline uint64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Zeroed, aligned memory, its pages faulted in now (not inside a timed loop); exits if none. */
static inline void *bench_xalloc(size_t align, size_t bytes)
{
    bytes = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, bytes);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    memset(p, 0, bytes);
    return p;
}

static inline void bench_start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    if (pthread_create(t, NULL, fn, arg) != 0) {
        fprintf(stderr, "bench: pthread_create failed\n");
        exit(1);
    }
}

#endif

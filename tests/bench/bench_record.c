/*
 * bench_record: what recording an event costs and how fast the collector turns rings into a
 * timeline. Prints a table and the same figures as one "json: " line. Not a pass/fail test: the
 * targets (<= 15 ns per recorded event, > 50 M events/s drained) are reported, exit is 0.
 *
 *   1. clock: the source cv_clock_init chose, the TSC rate, ns per cv_clock_ticks() and per
 *      clock_gettime(CLOCK_MONOTONIC), back-to-back calls.
 *   2. recording: ns per cv_ring_record into a 64 Ki-slot ring, in timed batches of 60000 with
 *      the ring emptied between batches (untimed) so nothing is dropped: drained inline on one
 *      thread; drained by a collector thread every 1 ms (the producer waits, untimed, for room
 *      before each batch); and two producer threads, each with its own ring, at once.
 *   3. drain: cv_collector_drain(c, 0, true) over 4 pre-filled rings (1 M events each, stamps
 *      interleaved across lanes) and over 1 ring, fresh collector per run, setup untimed; and,
 *      for reference, 4 rings into a collector that has already drained one fill (its store paged
 *      in, as in a live run past its first million events).
 *
 * Also printed: drops, page faults inside the timed drains, and the producers' CPU share (thread
 * CPU time / wall time) with the load average, since other processes on a small machine inflate
 * the threaded figures.
 */
#include "bench_collector.h"
#include "bench_util.h"
#include "concviz/clock.h"
#include "concviz/collector.h"
#include "concviz/event.h"
#include "concviz/ring.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define CLOCK_RUNS      9
#define CLOCK_CALLS     20000000u
#define CLOCK_RUN_NS    300000000.0 /* fewer calls per run if 20 M would take longer than this */
#define REC_RUNS        9
#define REC_CAP         65536u
#define REC_BATCH       60000u
#define REC_BATCHES     334u /* ~20 M events per run */
#define COLL_BATCHES    67u  /* ~4 M events per run: each batch waits ~2-3 ms for the collector */
#define DRAIN_RUNS      5
#define DRAIN_LANES     4
#define DRAIN_CAP       (1u << 20)
#define DRAIN_EVENTS    1000000u /* per lane */
#define TARGET_REC_NS   15.0
#define TARGET_DRAIN_EV 50e6

static volatile uint64_t sink;

static struct cv_ring *ring_new(size_t capacity)
{
    return cv_ring_init(bench_xalloc(64, cv_ring_bytes(capacity)), capacity);
}

static uint64_t ring_drops(struct cv_ring *r)
{
    return atomic_load_explicit(&r->drops, memory_order_relaxed);
}

/* ---- 1. clock ---- */

static double time_ticks(uint64_t n)
{
    uint64_t acc = 0;
    uint64_t t0 = bench_mono_ns();
    for (uint64_t i = 0; i < n; i++)
        acc += cv_clock_ticks();
    uint64_t t1 = bench_mono_ns();
    sink = acc;
    return (double)(t1 - t0) / (double)n;
}

static double time_gettime(uint64_t n)
{
    uint64_t acc = 0;
    uint64_t t0 = bench_mono_ns();
    for (uint64_t i = 0; i < n; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        acc += (uint64_t)ts.tv_nsec;
    }
    uint64_t t1 = bench_mono_ns();
    sink = acc;
    return (double)(t1 - t0) / (double)n;
}

/* Calls per run: 20 M unless that would take longer than CLOCK_RUN_NS (a slow clock). */
static uint64_t clock_calls(double (*fn)(uint64_t))
{
    double probe = fn(200000);
    uint64_t n = CLOCK_CALLS;
    if (probe > 0 && probe * (double)n > CLOCK_RUN_NS)
        n = (uint64_t)(CLOCK_RUN_NS / probe);
    return n < 100000 ? 100000 : n;
}

static double clock_median(double (*fn)(uint64_t), uint64_t n)
{
    double v[CLOCK_RUNS];
    for (int i = 0; i < CLOCK_RUNS; i++)
        v[i] = fn(n);
    return bench_median(v, CLOCK_RUNS);
}

/* ---- 2. recording ---- */

/* Records event i of lane's sequence; task ids are unique across nlanes lanes. */
static inline void record_step(struct cv_ring *r, uint16_t lane, unsigned nlanes, uint64_t i)
{
    const struct bench_step *s = &bench_steps[i & 7];
    uint32_t task = (uint32_t)((i >> 3) * nlanes + lane);
    cv_ring_record(r, s->kind, lane, task, s->obj, s->arg);
}

/* One timed batch; returns its ns. */
static uint64_t record_batch(struct cv_ring *r, uint64_t first)
{
    uint64_t t0 = bench_mono_ns();
    for (uint64_t i = first; i < first + REC_BATCH; i++)
        record_step(r, 0, 1, i);
    return bench_mono_ns() - t0;
}

/*
 * Single producer, drained inline between batches. Returns ns per event; *cpu_share is the
 * thread's CPU time over wall time for the run (well under 1: something else had the CPU).
 */
static double record_inline(struct cv_ring *r, struct cv_event *buf, double *cpu_share)
{
    uint64_t timed = 0;
    uint64_t w0 = bench_mono_ns(), c0 = bench_thread_cpu_ns();
    for (uint64_t b = 0; b < REC_BATCHES; b++) {
        timed += record_batch(r, b * REC_BATCH);
        while (cv_ring_drain(r, buf, REC_BATCH) > 0)
            ;
    }
    uint64_t c1 = bench_thread_cpu_ns(), w1 = bench_mono_ns();
    *cpu_share = (double)(c1 - c0) / (double)(w1 - w0);
    return (double)timed / ((double)REC_BATCHES * REC_BATCH);
}

struct collector_run {
    double ns_per_event;
    uint64_t drops;    /* the ring's own count */
    uint64_t reported; /* drops the collector saw */
    uint64_t fed;      /* events the collector processed */
    uint64_t drains;
};

/* Single producer, a collector thread draining every 1 ms. */
static struct collector_run record_with_collector(struct cv_ring *r)
{
    struct collector_run out = {0};
    struct cv_ring *rings[1] = {r};
    struct bench_collector_thread x = {.c = bench_collector_new(1)};
    uint64_t drops0 = ring_drops(r);
    x.t0 = cv_clock_ticks();
    cv_collector_attach_rings(x.c, rings, 1, x.t0);
    atomic_init(&x.stop, false);
    pthread_t th;
    bench_start_thread(&th, bench_collector_main, &x);

    uint64_t timed = 0;
    const struct timespec pause = {0, 50000};
    for (uint64_t b = 0; b < COLL_BATCHES; b++) {
        while (cv_ring_capacity(r) - cv_ring_pending(r) < REC_BATCH)
            nanosleep(&pause, NULL); /* untimed: wait for the collector to make room */
        timed += record_batch(r, b * REC_BATCH);
    }
    atomic_store_explicit(&x.stop, true, memory_order_release);
    pthread_join(th, NULL);
    cv_collector_drain(x.c, 0, true);

    const struct cv_snapshot *s = cv_collector_snapshot(x.c, 0);
    out.ns_per_event = (double)timed / ((double)COLL_BATCHES * REC_BATCH);
    out.drops = ring_drops(r) - drops0;
    out.reported = s->events_dropped;
    out.fed = s->events_recorded;
    out.drains = x.drains;
    cv_collector_destroy(x.c);
    return out;
}

struct producer {
    struct cv_ring *ring;
    struct cv_event *buf;
    pthread_barrier_t *start;
    double ns_per_event;
    double cpu_share;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    pthread_barrier_wait(p->start);
    p->ns_per_event = record_inline(p->ring, p->buf, &p->cpu_share);
    return NULL;
}

/* ---- 3. drain ---- */

static struct cv_ring *drain_rings[DRAIN_LANES];

struct drain_run {
    double events_per_s;
    long minflt;        /* page faults taken inside the timed drain */
    uint64_t wall, cpu; /* ns of the timed drain, wall and this thread's CPU time */
    uint64_t evicted;
};

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* Round-robin over the lanes: every lane's stamps interleave with every other's. */
static void fill_rings(unsigned nlanes)
{
    uint64_t drops0 = 0, drops1 = 0;
    for (unsigned l = 0; l < nlanes; l++)
        drops0 += ring_drops(drain_rings[l]);
    for (uint64_t i = 0; i < DRAIN_EVENTS; i++)
        for (unsigned l = 0; l < nlanes; l++)
            record_step(drain_rings[l], (uint16_t)l, nlanes, i);
    for (unsigned l = 0; l < nlanes; l++)
        drops1 += ring_drops(drain_rings[l]);
    if (drops1 != drops0)
        fprintf(stderr, "bench_record: %" PRIu64 " events dropped while filling\n",
                drops1 - drops0);
}

/*
 * Times one final drain of nlanes freshly filled rings into a fresh collector. warm: the same
 * collector first drains one untimed fill, so its store and task table are already paged in
 * (the steady state of a live run) rather than faulted in during the timed drain.
 */
static struct drain_run drain_once(unsigned nlanes, bool warm)
{
    struct drain_run out = {0};
    struct cv_collector *c = bench_collector_new(nlanes);
    uint64_t t0 = cv_clock_ticks();
    cv_collector_attach_rings(c, drain_rings, nlanes, t0);
    if (warm) {
        fill_rings(nlanes);
        cv_collector_drain(c, 0, true);
    }
    fill_rings(nlanes);

    long f0 = minor_faults();
    uint64_t c0 = bench_thread_cpu_ns();
    uint64_t a = bench_mono_ns();
    size_t fed = cv_collector_drain(c, 0, true);
    uint64_t b = bench_mono_ns();
    out.cpu = bench_thread_cpu_ns() - c0;
    out.wall = b - a;
    out.minflt = minor_faults() - f0;

    uint64_t want = (uint64_t)nlanes * DRAIN_EVENTS;
    if (fed != want)
        fprintf(stderr, "bench_record: drain fed %zu of %" PRIu64 " events\n", fed, want);
    out.events_per_s = (double)fed * 1e9 / (double)(b - a);
    out.evicted = cv_collector_snapshot(c, 0)->store_evicted;
    cv_collector_destroy(c);
    return out;
}

/* ---- report ---- */

static const char *verdict(bool ok)
{
    return ok ? "meets" : "misses";
}

static void row(const char *what, double value, const char *unit, const char *target,
                const char *result)
{
    printf("  %-40s %12.2f  %-10s %-9s %s\n", what, value, unit, target, result);
}

/* The 1-minute load average, or -1: a busy machine inflates the threaded figures. */
static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static const char *json_bool(bool b)
{
    return b ? "true" : "false";
}

int main(void)
{
    printf("bench_record: cv_clock_ticks vs clock_gettime, cv_ring_record (1 thread; with a "
           "collector thread draining every 1 ms; 2 threads), cv_collector_drain (4 lanes, 1 "
           "lane); each figure is the median of N runs (clock %d, record %d, drain %d), timed "
           "with CLOCK_MONOTONIC\n",
           CLOCK_RUNS, REC_RUNS, DRAIN_RUNS);
    fflush(stdout);
    double load0 = load_average();

    /* 1. clock */
    enum cv_clock_source src = cv_clock_init();
    uint64_t n_ticks = clock_calls(time_ticks);
    double ticks_ns = clock_median(time_ticks, n_ticks);
    uint64_t n_gt = clock_calls(time_gettime);
    double gettime_ns = clock_median(time_gettime, n_gt);

    /* 2. recording */
    struct cv_event *buf = bench_xalloc(64, REC_BATCH * sizeof *buf);
    struct cv_event *buf2 = bench_xalloc(64, REC_BATCH * sizeof *buf2);
    struct cv_ring *r1 = ring_new(REC_CAP);
    struct cv_ring *r2 = ring_new(REC_CAP);
    double v[REC_RUNS], v2[REC_RUNS], v3[REC_RUNS], share[REC_RUNS];

    uint64_t drops0 = ring_drops(r1);
    for (int i = 0; i < REC_RUNS; i++)
        v[i] = record_inline(r1, buf, &share[i]);
    double rec_ns = bench_median(v, REC_RUNS);
    double rec_share = bench_median(share, REC_RUNS);
    uint64_t rec_drops = ring_drops(r1) - drops0;

    uint64_t coll_drops = 0, coll_reported = 0, coll_lost = 0, coll_drains = 0;
    const uint64_t coll_events = (uint64_t)COLL_BATCHES * REC_BATCH;
    for (int i = 0; i < REC_RUNS; i++) {
        struct collector_run cr = record_with_collector(r1);
        v[i] = cr.ns_per_event;
        coll_drops += cr.drops;
        coll_reported += cr.reported;
        coll_drains += cr.drains;
        coll_lost += cr.fed < coll_events ? coll_events - cr.fed : 0;
    }
    double coll_ns = bench_median(v, REC_RUNS);

    drops0 = ring_drops(r1) + ring_drops(r2);
    pthread_barrier_t start;
    for (int i = 0; i < REC_RUNS; i++) {
        pthread_barrier_init(&start, NULL, 2);
        struct producer p[2] = {{r1, buf, &start, 0, 0}, {r2, buf2, &start, 0, 0}};
        pthread_t th[2];
        for (int k = 0; k < 2; k++)
            bench_start_thread(&th[k], producer_main, &p[k]);
        for (int k = 0; k < 2; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&start);
        v[i] = p[0].ns_per_event;
        v2[i] = p[1].ns_per_event;
        v3[i] = 1e9 / p[0].ns_per_event + 1e9 / p[1].ns_per_event;
        share[i] = p[0].cpu_share < p[1].cpu_share ? p[0].cpu_share : p[1].cpu_share;
    }
    double two_ns[2] = {bench_median(v, REC_RUNS), bench_median(v2, REC_RUNS)};
    double two_agg = bench_median(v3, REC_RUNS);
    double two_share = bench_median(share, REC_RUNS);
    uint64_t two_drops = ring_drops(r1) + ring_drops(r2) - drops0;

    /* 3. drain */
    for (unsigned l = 0; l < DRAIN_LANES; l++)
        drain_rings[l] = ring_new(DRAIN_CAP);
    double d4[DRAIN_RUNS], d1[DRAIN_RUNS], dw[DRAIN_RUNS];
    long flt4 = 0, flt1 = 0, fltw = 0;
    uint64_t evicted4 = 0, drain_wall = 0, drain_cpu = 0;
    for (int i = 0; i < DRAIN_RUNS; i++) {
        struct drain_run dr[3] = {drain_once(DRAIN_LANES, false), drain_once(1, false),
                                  drain_once(DRAIN_LANES, true)};
        d4[i] = dr[0].events_per_s;
        d1[i] = dr[1].events_per_s;
        dw[i] = dr[2].events_per_s;
        flt4 += dr[0].minflt;
        flt1 += dr[1].minflt;
        fltw += dr[2].minflt;
        evicted4 = dr[0].evicted;
        for (int k = 0; k < 3; k++) {
            drain_wall += dr[k].wall;
            drain_cpu += dr[k].cpu;
        }
    }
    double drain_share = (double)drain_cpu / (double)drain_wall;
    double drain4 = bench_median(d4, DRAIN_RUNS);
    double drain1 = bench_median(d1, DRAIN_RUNS);
    double drainw = bench_median(dw, DRAIN_RUNS);
    double load1 = load_average();

    /* report */
    bool ok_rec = rec_ns <= TARGET_REC_NS, ok_coll = coll_ns <= TARGET_REC_NS;
    bool ok_two0 = two_ns[0] <= TARGET_REC_NS, ok_two1 = two_ns[1] <= TARGET_REC_NS;
    bool ok_d4 = drain4 > TARGET_DRAIN_EV, ok_d1 = drain1 > TARGET_DRAIN_EV;
    bool ok_dw = drainw > TARGET_DRAIN_EV;

    printf("\n  %-40s %12s  %-10s %-9s %s\n", "measure", "median", "unit", "target", "result");
    printf("  %-40s %12s  (%.3f GHz TSC)\n", "clock source", cv_clock_source_name(src),
           cv__clock.tsc_ghz);
    row("cv_clock_ticks()", ticks_ns, "ns/call", "", "");
    row("clock_gettime(CLOCK_MONOTONIC)", gettime_ns, "ns/call", "", "");
    row("cv_ring_record, 1 thread, inline drain", rec_ns, "ns/event", "<= 15", verdict(ok_rec));
    row("cv_ring_record, collector thread 1 ms", coll_ns, "ns/event", "<= 15", verdict(ok_coll));
    row("  drops with collector thread (total)", (double)coll_drops, "events", "0",
        verdict(coll_drops == 0));
    row("cv_ring_record, 2 threads: thread 0", two_ns[0], "ns/event", "<= 15", verdict(ok_two0));
    row("cv_ring_record, 2 threads: thread 1", two_ns[1], "ns/event", "<= 15", verdict(ok_two1));
    row("  2 threads aggregate", two_agg / 1e6, "Mevents/s", "", "");
    row("cv_collector_drain, 4 lanes x 1M", drain4 / 1e6, "Mevents/s", "> 50", verdict(ok_d4));
    row("cv_collector_drain, 1 lane x 1M", drain1 / 1e6, "Mevents/s", "> 50", verdict(ok_d1));
    row("  4 lanes, collector already warm", drainw / 1e6, "Mevents/s", "> 50", verdict(ok_dw));

    printf("\n  per run: %" PRIu64 " / %" PRIu64 " calls (ticks / gettime); %u events "
           "(1 and 2 threads), %" PRIu64 " (collector thread, %" PRIu64 " drains in all 9 runs)"
           "; drain %u events per lane\n",
           n_ticks, n_gt, REC_BATCHES * REC_BATCH, coll_events, coll_drains, DRAIN_EVENTS);
    printf("  drops: 1 thread %" PRIu64 ", collector thread %" PRIu64 " (collector saw %" PRIu64
           ", events it never got %" PRIu64 "), 2 threads %" PRIu64 "\n",
           rec_drops, coll_drops, coll_reported, coll_lost, two_drops);
    printf("  page faults per timed drain: %ld (4 lanes), %ld (1 lane), %ld (warm); 4-lane runs "
           "evict %" PRIu64 " events from the 1 M-event store\n",
           flt4 / DRAIN_RUNS, flt1 / DRAIN_RUNS, fltw / DRAIN_RUNS, evicted4);
    printf("  CPU share (thread CPU time / wall): producer 1 thread %.2f, 2 threads %.2f (lower), "
           "timed drains %.2f; load average %.2f at start, %.2f at end\n",
           rec_share, two_share, drain_share, load0, load1);
    if (rec_share < 0.9 || two_share < 0.9 || drain_share < 0.9)
        printf("  warning: the measured threads were not running all the time; another process "
               "is using the CPUs, so the figures above are inflated\n");

    printf(
        "json: {\"clock_source\":\"%s\",\"tsc_ghz\":%.4f,\"clock_ticks_ns\":%.3f,"
        "\"clock_gettime_ns\":%.3f,\"record_ns\":%.3f,\"record_collector_ns\":%.3f,"
        "\"record_collector_drops\":%" PRIu64 ",\"record_2t_ns\":[%.3f,%.3f],"
        "\"record_2t_events_per_s\":%.0f,\"drain_4lane_events_per_s\":%.0f,"
        "\"drain_1lane_events_per_s\":%.0f,\"drain_4lane_warm_events_per_s\":%.0f,"
        "\"target_record_ns\":%.1f,\"target_drain_events_per_s\":%.0f,"
        "\"record_meets\":%s,\"record_collector_meets\":%s,\"record_2t_meets\":[%s,%s],"
        "\"drain_4lane_meets\":%s,\"drain_1lane_meets\":%s,\"drain_4lane_warm_meets\":%s,"
        "\"cpu_share\":{\"record\":%.3f,\"record_2t\":%.3f,\"drain\":%.3f},\"loadavg\":[%.2f,%.2f],"
        "\"runs\":{\"clock\":%d,\"record\":%d,\"drain\":%d},"
        "\"record_ratio_to_clock\":%.3f,\"record_collector_ratio_to_clock\":%.3f}\n",
        cv_clock_source_name(src), cv__clock.tsc_ghz, ticks_ns, gettime_ns, rec_ns, coll_ns,
        coll_drops, two_ns[0], two_ns[1], two_agg, drain4, drain1, drainw, TARGET_REC_NS,
        TARGET_DRAIN_EV, json_bool(ok_rec), json_bool(ok_coll), json_bool(ok_two0),
        json_bool(ok_two1), json_bool(ok_d4), json_bool(ok_d1), json_bool(ok_dw), rec_share,
        two_share, drain_share, load0, load1, CLOCK_RUNS, REC_RUNS, DRAIN_RUNS, rec_ns / ticks_ns,
        coll_ns / ticks_ns);

    for (unsigned l = 0; l < DRAIN_LANES; l++)
        free(drain_rings[l]);
    free(r1);
    free(r2);
    free(buf);
    free(buf2);
    return 0;
}

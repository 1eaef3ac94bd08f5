/* Unit tests for the collector (concviz/collector.h): hand-built event streams and live rings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "concviz/clock.h"
#include "concviz/collector.h"
#include "concviz/event.h"
#include "concviz/ring.h"

static struct cv_event mk(uint64_t ts, unsigned kind, uint16_t lane, uint32_t task, uint32_t obj,
                          uint64_t arg)
{
    struct cv_event e = {
        .ts = ts, .arg = arg, .task = task, .obj = obj, .lane = lane, .kind = (uint16_t)kind};
    return e;
}

static void feed1(struct cv_collector *c, uint64_t ts, unsigned kind, uint16_t lane, uint32_t task,
                  uint32_t obj, uint64_t arg)
{
    struct cv_event e = mk(ts, kind, lane, task, obj, arg);
    cv_collector_feed(c, &e, 1);
}

/* A collector for a hand-built stream (store as for cv_collector_create): lanes 0, 1, ...
 * named by `lanes`, blank-separated ("main" is the main lane, every other a worker), and objects
 * 0, 1, ... from `objects`, each KIND:NAME or KIND:NAME:CAPACITY ("mutex:m queue:q:2"). */
static struct cv_collector *fixture(size_t store, const char *lanes, const char *objects)
{
    static const char *const kinds[] = {
#define CV_X_KIND(id, name) [CV_OBJ_##id] = name,
        CV_OBJECT_KINDS(CV_X_KIND)
#undef CV_X_KIND
    };
    struct cv_collector *c = cv_collector_create(store);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", lanes);
    uint16_t lane = 0;
    for (char *save = NULL, *name = strtok_r(buf, " ", &save); name;
         name = strtok_r(NULL, " ", &save))
        cv_collector_add_lane(c, lane++, name,
                              strcmp(name, "main") == 0 ? CV_ROLE_MAIN : CV_ROLE_WORKER);
    snprintf(buf, sizeof buf, "%s", objects);
    uint32_t obj = 0;
    for (char *save = NULL, *spec = strtok_r(buf, " ", &save); spec;
         spec = strtok_r(NULL, " ", &save)) {
        char *name = strchr(spec, ':');
        assert_non_null(name);
        *name++ = 0;
        char *cap = strchr(name, ':');
        if (cap)
            *cap++ = 0;
        unsigned kind = 0;
        while (kind < sizeof kinds / sizeof kinds[0] && strcmp(kinds[kind], spec) != 0)
            kind++;
        assert_true(kind < sizeof kinds / sizeof kinds[0]);
        cv_collector_add_object(c, obj++, (enum cv_object_kind)kind, name,
                                cap ? (uint32_t)strtoul(cap, NULL, 10) : 0);
    }
    return c;
}

#define NT CV_NO_TASK
#define NO CV_NONE

static const struct cv_lock_stats *find_lock(const struct cv_snapshot *s, uint32_t obj)
{
    for (size_t i = 0; i < s->nlocks; i++)
        if (s->locks[i].obj == obj)
            return &s->locks[i];
    fail_msg("no lock stats for object %u", (unsigned)obj);
    return NULL;
}

static const struct cv_queue_stats *find_queue(const struct cv_snapshot *s, uint32_t obj)
{
    for (size_t i = 0; i < s->nqueues; i++)
        if (s->queues[i].obj == obj)
            return &s->queues[i];
    fail_msg("no queue stats for object %u", (unsigned)obj);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */

/* A sanitizer's shadow memory takes page faults of its own for every fresh page the program
 * writes: fault counts are the program's own only without one. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SHADOW_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SHADOW_MEMORY 1
#endif
#endif

/* The store is not shared with a forked process (a run's workers never read it). Shared, each of
 * its pages made before the fork was copied at the drain's first write to it, a page fault each
 * (and a huge page split). 40,000 events fill 1.25 MB of the store's first chunk, made when the
 * collector was: fed while a forked child lives, they take a few faults, not one a page. */
static void test_store_not_shared_with_a_fork(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "main w1", "mutex:m");
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char b;
        close(gate[1]);
        _exit(read(gate[0], &b, 1) < 0);
    }
    close(gate[0]);
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    for (uint32_t i = 0; i < 40000; i++)
        feed1(c, 1000 + 10 * (uint64_t)i, CV_EV_LOCK_PAIR, 1, NT, 0, 5);
    getrusage(RUSAGE_THREAD, &r1);
    close(gate[1]);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    long faults = r1.ru_minflt - r0.ru_minflt;
#ifndef SHADOW_MEMORY
    if (faults >= 100)
        fail_msg("%ld page faults feeding 40,000 events while a fork lived", faults);
#else
    (void)faults;
#endif
    assert_int_equal(cv_collector_snapshot(c, 0)->events_recorded, 40000);
    cv_collector_destroy(c);
}

static void test_lane_state_accounting(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "main worker-1", "mutex:m");

    const struct cv_event evs[] = {
        mk(0, CV_EV_WORKER_START, 1, NT, 0, 0),     mk(10, CV_EV_TASK_START, 1, 5, 0, 0),
        mk(20, CV_EV_LOCK_WAIT, 1, 5, 0, 0),        mk(50, CV_EV_LOCK_ACQUIRE, 1, 5, 0, 0),
        mk(55, CV_EV_LOCK_RELEASE, 1, 5, 0, 0),     mk(60, CV_EV_IO_BEGIN, 1, 5, 0, CV_IO_SLEEP),
        mk(90, CV_EV_IO_END, 1, 5, 0, CV_IO_SLEEP), mk(100, CV_EV_TASK_END, 1, 5, 0, 0),
        mk(120, CV_EV_WORKER_EXIT, 1, NT, 0, 0),
    };

    /* Part way: open states are counted up to now_ns in the snapshot only. */
    cv_collector_feed(c, evs, 3); /* up to the lock wait at 20 */
    const struct cv_snapshot *s = cv_collector_snapshot(c, 35);
    assert_int_equal(s->now_ns, 35);
    assert_int_equal(s->nlanes, 2);
    assert_string_equal(s->lanes[0].name, "main");
    assert_int_equal(s->lanes[0].role, CV_ROLE_MAIN);
    assert_string_equal(s->lanes[1].name, "worker-1");
    assert_int_equal(s->lanes[1].role, CV_ROLE_WORKER);
    assert_int_equal(s->lanes[1].state, CV_LANE_LOCK_WAIT);
    assert_int_equal(s->lanes[1].waiting_on, 0);
    assert_int_equal(s->lanes[1].current_task, 5);
    assert_int_equal(s->lanes[1].since_ns, 20);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_IDLE], 10);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_RUNNING], 10);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_LOCK_WAIT], 15);
    /* The never-started main lane accrues nothing. */
    assert_int_equal(s->lanes[0].state, CV_LANE_OFF);
    for (unsigned k = 0; k < CV_LANE__COUNT; k++)
        assert_int_equal(s->lanes[0].state_ns[k], 0);
    /* A later snapshot counts further; the books themselves were not changed. */
    s = cv_collector_snapshot(c, 45);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_LOCK_WAIT], 25);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_RUNNING], 10);

    cv_collector_feed(c, evs + 3, 6);
    s = cv_collector_snapshot(c, 1000);
    const struct cv_lane_stats *l = &s->lanes[1];
    assert_int_equal(l->state, CV_LANE_OFF);
    assert_int_equal(l->state_ns[CV_LANE_RUNNING], 30); /* 10-20, 50-60, 90-100 */
    assert_int_equal(l->state_ns[CV_LANE_LOCK_WAIT], 30);
    assert_int_equal(l->state_ns[CV_LANE_IO], 30);
    assert_int_equal(l->state_ns[CV_LANE_IDLE], 30); /* 0-10, 100-120 */
    assert_int_equal(l->state_ns[CV_LANE_OFF], 0);
    assert_int_equal(l->state_ns[CV_LANE_QUEUE_WAIT], 0);
    assert_int_equal(l->tasks, 1);
    assert_int_equal(l->current_task, CV_NONE);
    assert_int_equal(l->waiting_on, CV_NONE);
    assert_int_equal(l->events, 9);
    assert_int_equal(s->events_recorded, 9);
    cv_collector_destroy(c);

    /* finish() closes open states: nothing accrues past end_ns. */
    c = cv_collector_create(0);
    cv_collector_add_lane(c, 1, "w", CV_ROLE_WORKER); /* the stream is on lane 1 */
    cv_collector_add_object(c, 0, CV_OBJ_MUTEX, "m", 0);
    cv_collector_feed(c, evs, 6); /* up to the io.begin at 60 */
    s = cv_collector_snapshot(c, 75);
    assert_int_equal(s->lanes[1].state, CV_LANE_IO);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_IO], 15);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_RUNNING], 20);
    cv_collector_finish(c, 80);
    s = cv_collector_snapshot(c, 5000);
    assert_int_equal(s->now_ns, 80);
    assert_int_equal(s->lanes[1].state, CV_LANE_OFF);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_IO], 20);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_RUNNING], 20);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_LOCK_WAIT], 30);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_IDLE], 10);
    s = cv_collector_snapshot(c, 90000);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_IO], 20);
    cv_collector_destroy(c);
}

/* The timeline: each 1 ms bucket shows the state the lane spent most of it in; a long run keeps
 * at most CV_TIMELINE_MAX buckets per lane by doubling their width. */
static void test_timeline(void **state)
{
    (void)state;
    const uint64_t ms = 1000000;
    struct cv_collector *c = fixture(0, "main worker-1", "mutex:m");
    /* worker: starts at 2 ms, runs to 3.4 ms, waits for the lock to 5.2 ms, runs to 8 ms */
    feed1(c, 2 * ms, CV_EV_WORKER_START, 1, NT, NO, 0);
    feed1(c, 2 * ms, CV_EV_TASK_START, 1, 0, NO, 0);
    feed1(c, 3 * ms + ms * 4 / 10, CV_EV_LOCK_WAIT, 1, 0, 0, 0);
    feed1(c, 5 * ms + ms / 5, CV_EV_LOCK_ACQUIRE, 1, 0, 0, 0);
    feed1(c, 8 * ms, CV_EV_LOCK_RELEASE, 1, 0, 0, 0);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 8 * ms);
    assert_int_equal(s->timeline_bucket_ns, ms);
    const struct cv_lane_stats *w = &s->lanes[1];
    assert_int_equal(s->lanes[0].timeline_n, 0); /* main never started */
    assert_int_equal(w->timeline_first, 2);
    /* closed: buckets 2..4, up to the last change of state (5.2 ms); after it, `state` */
    assert_int_equal(w->timeline_n, 3);
    const uint8_t want[] = {CV_LANE_RUNNING, CV_LANE_LOCK_WAIT, /* 0.4 run, 0.6 wait */
                            CV_LANE_LOCK_WAIT};                 /* a whole bucket of waiting */
    assert_memory_equal(w->timeline, want, sizeof want);
    assert_int_equal(w->state, CV_LANE_RUNNING);

    /* ten seconds more in one state: the width doubles until every bucket fits */
    feed1(c, 10008 * ms, CV_EV_TASK_END, 1, 0, NO, 0);
    s = cv_collector_snapshot(c, 10008 * ms);
    w = &s->lanes[1];
    assert_true(s->timeline_bucket_ns > ms);
    assert_true(w->timeline_n <= CV_TIMELINE_MAX);
    assert_true(w->timeline_n >= CV_TIMELINE_MAX / 2);
    /* the buckets cover the run: from the start to the open bucket at the end */
    assert_int_equal(w->timeline_first, 2 * ms / s->timeline_bucket_ns);
    assert_int_equal(w->timeline_first + w->timeline_n, 10008 * ms / s->timeline_bucket_ns);
    assert_int_equal(w->timeline[w->timeline_n - 1], CV_LANE_RUNNING);
    cv_collector_destroy(c);
}

/* Task spans per lane (the task ids the lanes view prints) and what an I/O wait is about. */
static void test_spans_and_io_text(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "worker-1", "");
    cv_collector_add_string(c, 3, "http://127.0.0.1:1/delay/5");
    feed1(c, 10, CV_EV_WORKER_START, 0, NT, NO, 0);
    feed1(c, 20, CV_EV_TASK_START, 0, 7, NO, 0);
    feed1(c, 30, CV_EV_IO_BEGIN, 0, 7, 3, CV_IO_HTTP);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 35);
    assert_int_equal(s->lanes[0].io_text, 3);
    assert_string_equal(s->strings[s->lanes[0].io_text], "http://127.0.0.1:1/delay/5");
    assert_int_equal(s->lanes[0].nspans, 1);
    assert_int_equal(s->lanes[0].spans[0].end_ns, UINT64_MAX); /* still running */
    feed1(c, 40, CV_EV_IO_END, 0, 7, NO, 200);
    feed1(c, 50, CV_EV_TASK_END, 0, 7, NO, 0);
    feed1(c, 60, CV_EV_TASK_START, 0, 9, NO, 0);
    feed1(c, 70, CV_EV_IO_BEGIN, 0, 9, 42, CV_IO_HTTP); /* an id never given: no text */
    s = cv_collector_snapshot(c, 75);
    assert_int_equal(s->lanes[0].io_text, CV_NONE);
    assert_int_equal(s->lanes[0].nspans, 2);
    assert_int_equal(s->lanes[0].spans[0].task, 7);
    assert_int_equal(s->lanes[0].spans[0].start_ns, 20);
    assert_int_equal(s->lanes[0].spans[0].end_ns, 50);
    assert_int_equal(s->lanes[0].spans[1].task, 9);
    /* a lane keeps at most CV_SPANS_MAX spans, the latest */
    uint64_t t = 100;
    feed1(c, t, CV_EV_IO_END, 0, 9, NO, 200);
    feed1(c, t, CV_EV_TASK_END, 0, 9, NO, 0);
    for (uint32_t k = 0; k < CV_SPANS_MAX + 10; k++, t += 2) {
        feed1(c, t, CV_EV_TASK_START, 0, 100 + k, NO, 0);
        feed1(c, t + 1, CV_EV_TASK_END, 0, 100 + k, NO, 0);
    }
    s = cv_collector_snapshot(c, t);
    const struct cv_lane_stats *l = &s->lanes[0];
    assert_true(l->nspans <= CV_SPANS_MAX && l->nspans >= CV_SPANS_MAX / 2);
    assert_int_equal(l->spans[l->nspans - 1].task, 100 + CV_SPANS_MAX + 9);
    for (uint32_t k = 1; k < l->nspans; k++)
        assert_true(l->spans[k].start_ns > l->spans[k - 1].start_ns);
    cv_collector_destroy(c);
}

static void test_lock_stats(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "a b", "mutex:m mutex:other");

    feed1(c, 0, CV_EV_WORKER_START, 0, NT, 0, 0);
    feed1(c, 0, CV_EV_WORKER_START, 1, NT, 0, 0);
    feed1(c, 10, CV_EV_LOCK_ACQUIRE, 0, NT, 0, 0); /* uncontended */
    const struct cv_snapshot *s = cv_collector_snapshot(c, 12);
    const struct cv_lock_stats *k = find_lock(s, 0);
    assert_string_equal(k->name, "m");
    assert_int_equal(k->kind, CV_OBJ_MUTEX);
    assert_int_equal(k->holder, 0);
    assert_int_equal(k->holders, 1);
    assert_int_equal(k->acquisitions, 1);
    assert_int_equal(k->contended, 0);
    assert_int_equal(k->handoffs, 0);

    feed1(c, 15, CV_EV_LOCK_WAIT, 1, NT, 0, 0);
    s = cv_collector_snapshot(c, 16);
    k = find_lock(s, 0);
    assert_int_equal(k->waiters, 1);
    assert_int_equal(s->lanes[1].state, CV_LANE_LOCK_WAIT);
    assert_int_equal(s->lanes[1].waiting_on, 0);

    feed1(c, 30, CV_EV_LOCK_RELEASE, 0, NT, 0, 0);
    s = cv_collector_snapshot(c, 30);
    k = find_lock(s, 0);
    assert_int_equal(k->holder, CV_NONE);
    assert_int_equal(k->holders, 0);

    feed1(c, 30, CV_EV_LOCK_ACQUIRE, 1, NT, 0, 0); /* contended, waited 15 */
    feed1(c, 40, CV_EV_LOCK_WAIT, 0, NT, 0, 0);
    s = cv_collector_snapshot(c, 41);
    k = find_lock(s, 0);
    assert_int_equal(k->holder, 1);
    assert_int_equal(k->holders, 1);
    assert_int_equal(k->waiters, 1);
    assert_int_equal(k->contended, 1);
    assert_int_equal(k->handoffs, 1);
    assert_int_equal(k->handoff_from, 0);
    assert_int_equal(k->handoff_to, 1);
    assert_int_equal(s->lanes[1].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[1].waiting_on, CV_NONE);

    feed1(c, 60, CV_EV_LOCK_RELEASE, 1, NT, 0, 0);
    feed1(c, 60, CV_EV_LOCK_ACQUIRE, 0, NT, 0, 0); /* contended, waited 20 */
    feed1(c, 70, CV_EV_LOCK_RELEASE, 0, NT, 0, 0);
    feed1(c, 80, CV_EV_LOCK_ACQUIRE, 0, NT, 0, 0); /* uncontended, same holder: no hand-off */
    feed1(c, 90, CV_EV_LOCK_RELEASE, 0, NT, 0, 0);
    /* Another lock, uncontended on lane 1: must not disturb lock 0. */
    feed1(c, 91, CV_EV_LOCK_ACQUIRE, 1, NT, 1, 0);
    feed1(c, 95, CV_EV_LOCK_RELEASE, 1, NT, 1, 0);

    s = cv_collector_snapshot(c, 100);
    k = find_lock(s, 0);
    assert_int_equal(k->acquisitions, 4);
    assert_int_equal(k->contended, 2);
    assert_int_equal(k->wait_ns_total, 35);
    assert_int_equal(k->wait_ns_max, 20);
    assert_int_equal(k->hold_ns_total, 20 + 30 + 10 + 10);
    assert_int_equal(k->handoffs, 2);
    assert_int_equal(k->handoff_from, 1);
    assert_int_equal(k->handoff_to, 0);
    assert_int_equal(k->holder, CV_NONE);
    assert_int_equal(k->holders, 0);
    assert_int_equal(k->waiters, 0);
    assert_int_equal(s->lanes[0].state_ns[CV_LANE_LOCK_WAIT], 20);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_LOCK_WAIT], 15);

    const struct cv_lock_stats *o = find_lock(s, 1);
    assert_int_equal(o->acquisitions, 1);
    assert_int_equal(o->contended, 0);
    assert_int_equal(o->wait_ns_total, 0);
    assert_int_equal(o->hold_ns_total, 4);
    assert_int_equal(o->handoffs, 0);
    assert_int_equal(o->handoff_from, CV_NONE);
    assert_int_equal(o->handoff_to, CV_NONE);
    assert_int_equal(o->holder, CV_NONE);

    /* An uncontended acquisition by another lane is a hand-off but not a contended one. */
    feed1(c, 100, CV_EV_LOCK_ACQUIRE, 1, NT, 0, 0);
    s = cv_collector_snapshot(c, 101);
    k = find_lock(s, 0);
    assert_int_equal(k->acquisitions, 5);
    assert_int_equal(k->contended, 2);
    assert_int_equal(k->wait_ns_total, 35);
    assert_int_equal(k->handoffs, 3);
    assert_int_equal(k->handoff_from, 1); /* the latest contended hand-over is unchanged */
    assert_int_equal(k->handoff_to, 0);
    assert_int_equal(k->holder, 1);
    assert_int_equal(s->gil_switches, 0);
    cv_collector_destroy(c);
}

static void test_gil(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "t0 t1", "gil:gil");

    feed1(c, 0, CV_EV_TASK_START, 0, 0, NO, 0);
    feed1(c, 0, CV_EV_TASK_START, 1, 1, NO, 0);
    feed1(c, 0, CV_EV_GIL_ACQUIRE, 0, 0, 0, 0); /* first holder: no switch */
    feed1(c, 5, CV_EV_GIL_WAIT, 1, 1, 0, 0);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 8);
    assert_int_equal(s->lanes[1].state, CV_LANE_GIL_WAIT);
    assert_int_equal(s->gil_switches, 0);
    feed1(c, 10, CV_EV_GIL_DROP_REQUEST, 1, 1, 0, 0);
    feed1(c, 15, CV_EV_GIL_RELEASE, 0, 0, 0, 0);
    feed1(c, 15, CV_EV_GIL_ACQUIRE, 1, 1, 0, 0); /* switch 1 */
    feed1(c, 25, CV_EV_GIL_RELEASE, 1, 1, 0, 0);
    feed1(c, 30, CV_EV_GIL_ACQUIRE, 1, 1, 0, 0); /* same lane again: no switch */
    feed1(c, 35, CV_EV_GIL_RELEASE, 1, 1, 0, 0);
    feed1(c, 40, CV_EV_GIL_ACQUIRE, 0, 0, 0, 0); /* switch 2 */
    s = cv_collector_snapshot(c, 42);
    assert_int_equal(s->gil_switches, 2);
    assert_int_equal(s->gil_drop_requests, 1);
    const struct cv_lock_stats *g = find_lock(s, 0);
    assert_int_equal(g->kind, CV_OBJ_GIL);
    assert_int_equal(g->acquisitions, 4);
    assert_int_equal(g->contended, 1);
    assert_int_equal(g->wait_ns_total, 10);
    assert_int_equal(g->holder, 0);
    assert_int_equal(g->handoff_from, 0);
    assert_int_equal(g->handoff_to, 1);
    assert_int_equal(s->lanes[1].state, CV_LANE_RUNNING);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_GIL_WAIT], 10);

    feed1(c, 50, CV_EV_GIL_DROP_REQUEST, 1, 1, 0, 0);
    feed1(c, 51, CV_EV_GIL_RELEASE, 0, 0, 0, 0);
    feed1(c, 52, CV_EV_GIL_ACQUIRE, 1, 1, 0, 0); /* switch 3 */
    s = cv_collector_snapshot(c, 53);
    assert_int_equal(s->gil_switches, 3);
    assert_int_equal(s->gil_drop_requests, 2);
    cv_collector_destroy(c);
}

static void test_semaphore_and_barrier(void **state)
{
    (void)state;
    struct cv_collector *c = cv_collector_create(0);
    for (uint32_t i = 0; i < 3; i++)
        cv_collector_add_lane(c, i, "w", CV_ROLE_WORKER);
    cv_collector_add_object(c, 0, CV_OBJ_SEMAPHORE, "sem", 2);
    cv_collector_add_object(c, 1, CV_OBJ_BARRIER, "bar", 2);
    for (uint16_t i = 0; i < 3; i++)
        feed1(c, 0, CV_EV_WORKER_START, i, NT, 0, 0);

    feed1(c, 0, CV_EV_SEM_ACQUIRE, 0, NT, 0, 0);
    feed1(c, 5, CV_EV_SEM_ACQUIRE, 1, NT, 0, 0);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 6);
    const struct cv_lock_stats *k = find_lock(s, 0);
    assert_int_equal(k->kind, CV_OBJ_SEMAPHORE);
    assert_int_equal(k->holders, 2);
    assert_int_equal(k->holder, 1); /* the last one */
    assert_int_equal(k->acquisitions, 2);
    assert_int_equal(k->contended, 0);

    feed1(c, 10, CV_EV_SEM_WAIT, 2, NT, 0, 0);
    s = cv_collector_snapshot(c, 12);
    k = find_lock(s, 0);
    assert_int_equal(k->waiters, 1);
    assert_int_equal(s->lanes[2].state, CV_LANE_SEM_WAIT);
    assert_int_equal(s->lanes[2].waiting_on, 0);

    feed1(c, 20, CV_EV_SEM_RELEASE, 0, NT, 0, 0);
    s = cv_collector_snapshot(c, 20);
    k = find_lock(s, 0);
    assert_int_equal(k->holders, 1);
    assert_true(k->holder != CV_NONE);

    feed1(c, 20, CV_EV_SEM_ACQUIRE, 2, NT, 0, 0);
    s = cv_collector_snapshot(c, 21);
    k = find_lock(s, 0);
    assert_int_equal(k->holders, 2);
    assert_int_equal(k->holder, 2);
    assert_int_equal(k->waiters, 0);
    assert_int_equal(k->contended, 1);
    assert_int_equal(k->wait_ns_total, 10);
    assert_int_equal(s->lanes[2].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[2].state_ns[CV_LANE_SEM_WAIT], 10);

    feed1(c, 30, CV_EV_SEM_RELEASE, 1, NT, 0, 0);
    feed1(c, 40, CV_EV_SEM_RELEASE, 2, NT, 0, 0);
    s = cv_collector_snapshot(c, 41);
    k = find_lock(s, 0);
    assert_int_equal(k->holders, 0);
    assert_int_equal(k->holder, CV_NONE);
    assert_int_equal(k->hold_ns_total, 20 + 25 + 20);

    /* Barrier: lane 0 inside a task waits, then both pass. */
    feed1(c, 100, CV_EV_TASK_START, 0, 7, NO, 0);
    feed1(c, 110, CV_EV_BARRIER_WAIT, 0, 7, 1, 0);
    s = cv_collector_snapshot(c, 120);
    assert_int_equal(s->lanes[0].state, CV_LANE_BARRIER);
    assert_int_equal(s->lanes[0].waiting_on, 1);
    assert_int_equal(find_lock(s, 1)->waiters, 1);
    feed1(c, 140, CV_EV_BARRIER_RELEASE, 1, NT, 1, 0); /* lane 1 arrives last: no wait */
    feed1(c, 140, CV_EV_BARRIER_RELEASE, 0, 7, 1, 0);
    s = cv_collector_snapshot(c, 150);
    assert_int_equal(s->lanes[0].state, CV_LANE_RUNNING);
    assert_int_equal(s->lanes[0].waiting_on, CV_NONE);
    assert_int_equal(s->lanes[0].state_ns[CV_LANE_BARRIER], 30);
    assert_int_equal(s->lanes[1].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_BARRIER], 0);
    const struct cv_lock_stats *b = find_lock(s, 1);
    assert_int_equal(b->kind, CV_OBJ_BARRIER);
    assert_int_equal(b->acquisitions, 2);
    assert_int_equal(b->contended, 1);
    assert_int_equal(b->wait_ns_total, 30);
    assert_int_equal(b->waiters, 0);
    assert_int_equal(b->holders, 0);
    assert_int_equal(b->holder, CV_NONE);
    cv_collector_destroy(c);
}

/* Event and Condition: their own wait states; wakes, sets, notifies, clears and timeouts; the
 * figures survive a checkpoint. */
static void test_event_and_condition(void **state)
{
    (void)state;
    struct cv_collector *c = cv_collector_create(0);
    for (uint32_t i = 0; i < 3; i++)
        cv_collector_add_lane(c, i, "w", CV_ROLE_WORKER);
    cv_collector_add_object(c, 0, CV_OBJ_EVENT, "stop", 0);
    cv_collector_add_object(c, 1, CV_OBJ_CONDITION, "ready", 0);
    for (uint16_t i = 0; i < 3; i++)
        feed1(c, 0, CV_EV_WORKER_START, i, NT, 0, 0);
    feed1(c, 10, CV_EV_EVENT_WAIT, 1, NT, 0, 0);
    feed1(c, 12, CV_EV_EVENT_WAIT, 2, NT, 0, 0);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 15);
    assert_int_equal(s->lanes[1].state, CV_LANE_EVENT_WAIT);
    assert_int_equal(s->lanes[1].waiting_on, 0);
    assert_int_equal(find_lock(s, 0)->waiters, 2);
    feed1(c, 30, CV_EV_EVENT_SET, 0, NT, 0, 2);
    feed1(c, 31, CV_EV_EVENT_WAKE, 1, NT, 0, 0);
    feed1(c, 32, CV_EV_WAIT_TIMEOUT, 2, NT, 0, 0); /* a timed wait that ran out first */
    feed1(c, 40, CV_EV_EVENT_CLEAR, 0, NT, 0, 0);
    s = cv_collector_snapshot(c, 41);
    const struct cv_lock_stats *k = find_lock(s, 0);
    assert_int_equal(k->kind, CV_OBJ_EVENT);
    assert_int_equal(k->waits, 2);
    assert_int_equal(k->signals, 1);
    assert_int_equal(k->clears, 1);
    assert_int_equal(k->acquisitions, 1); /* the wakes */
    assert_int_equal(k->timeouts, 1);
    assert_int_equal(k->wait_ns_total, 21);
    assert_int_equal(k->waiters, 0);
    assert_int_equal(s->lanes[1].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_EVENT_WAIT], 21);
    assert_int_equal(s->lanes[2].state_ns[CV_LANE_EVENT_WAIT], 20);

    feed1(c, 50, CV_EV_COND_WAIT, 1, NT, 1, 0);
    s = cv_collector_snapshot(c, 55);
    assert_int_equal(s->lanes[1].state, CV_LANE_COND_WAIT);
    feed1(c, 60, CV_EV_COND_NOTIFY, 0, NT, 1, 1);
    feed1(c, 61, CV_EV_COND_WAKE, 1, NT, 1, 0);
    s = cv_collector_snapshot(c, 62);
    k = find_lock(s, 1);
    assert_int_equal(k->kind, CV_OBJ_CONDITION);
    assert_int_equal(k->waits, 1);
    assert_int_equal(k->signals, 1);
    assert_int_equal(k->acquisitions, 1);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_COND_WAIT], 11);

    size_t len;
    unsigned char *buf = cv_collector_save(c, &len);
    struct cv_collector *b = cv_collector_create(0);
    for (uint32_t i = 0; i < 3; i++)
        cv_collector_add_lane(b, i, "w", CV_ROLE_WORKER);
    cv_collector_add_object(b, 0, CV_OBJ_EVENT, "stop", 0);
    cv_collector_add_object(b, 1, CV_OBJ_CONDITION, "ready", 0);
    assert_true(cv_collector_restore(b, buf, len, NULL, 0));
    s = cv_collector_snapshot(b, 62);
    k = find_lock(s, 0);
    assert_int_equal(k->waits + k->signals + k->clears + k->timeouts, 2 + 1 + 1 + 1);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_COND_WAIT], 11);
    free(buf);
    cv_collector_destroy(b);
    cv_collector_destroy(c);
}

static void test_queue(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "producer consumer", "mutex:unrelated queue:q:2");
    feed1(c, 0, CV_EV_WORKER_START, 0, NT, 0, 0);
    feed1(c, 0, CV_EV_WORKER_START, 1, NT, 0, 0);

    feed1(c, 10, CV_EV_QUEUE_PUSH, 0, NT, 1, 1);
    feed1(c, 20, CV_EV_QUEUE_PUSH, 0, NT, 1, 2);
    feed1(c, 30, CV_EV_QUEUE_PUSH_WAIT, 0, NT, 1, 2);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 35);
    const struct cv_queue_stats *q = find_queue(s, 1);
    assert_string_equal(q->name, "q");
    assert_int_equal(q->capacity, 2);
    assert_int_equal(q->producers_waiting, 1);
    assert_int_equal(q->push_blocked, 1);
    assert_int_equal(q->depth, 2);
    assert_int_equal(s->lanes[0].state, CV_LANE_QUEUE_WAIT);
    assert_int_equal(s->lanes[0].waiting_on, 1);

    feed1(c, 40, CV_EV_QUEUE_POP, 1, NT, 1, 1);
    feed1(c, 40, CV_EV_QUEUE_PUSH, 0, NT, 1, 2); /* the push that ends the wait */
    s = cv_collector_snapshot(c, 41);
    q = find_queue(s, 1);
    assert_int_equal(q->producers_waiting, 0);
    assert_int_equal(s->lanes[0].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[0].waiting_on, CV_NONE);
    assert_int_equal(s->lanes[0].state_ns[CV_LANE_QUEUE_WAIT], 10);

    feed1(c, 50, CV_EV_QUEUE_POP, 1, NT, 1, 1);
    feed1(c, 55, CV_EV_QUEUE_POP, 1, NT, 1, 0);
    feed1(c, 60, CV_EV_QUEUE_POP_WAIT, 1, NT, 1, 0);
    s = cv_collector_snapshot(c, 61);
    q = find_queue(s, 1);
    assert_int_equal(q->consumers_waiting, 1);
    assert_int_equal(q->pop_blocked, 1);
    assert_int_equal(s->lanes[1].state, CV_LANE_QUEUE_WAIT);
    feed1(c, 70, CV_EV_QUEUE_PUSH, 0, NT, 1, 1);
    feed1(c, 70, CV_EV_QUEUE_POP, 1, NT, 1, 0);

    s = cv_collector_snapshot(c, 80);
    q = find_queue(s, 1);
    assert_int_equal(q->pushed, 4);
    assert_int_equal(q->popped, 4);
    assert_int_equal(q->push_blocked, 1);
    assert_int_equal(q->pop_blocked, 1);
    assert_int_equal(q->producers_waiting, 0);
    assert_int_equal(q->consumers_waiting, 0);
    assert_int_equal(q->depth, 0);
    assert_int_equal(q->max_depth, 2);
    assert_int_equal(s->lanes[1].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_QUEUE_WAIT], 10);
    static const struct cv_depth_point want[] = {{10, 1}, {20, 2}, {40, 1}, {40, 2},
                                                 {50, 1}, {55, 0}, {70, 1}, {70, 0}};
    assert_int_equal(q->nseries, 8);
    assert_non_null(q->series);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(q->series[i].ts, want[i].ts);
        assert_int_equal(q->series[i].depth, want[i].depth);
    }
    /* The queue is not a lock. */
    assert_int_equal(s->nlocks, 1);
    assert_int_equal(s->nqueues, 1);
    cv_collector_destroy(c);
}

/* A deadlock's end: the waiting tasks are cancelled, the workers exit; their waits end without
 * an acquisition, and neither the locks nor the queue count them as waiting any more. */
static void test_abandoned_waits(void **state)
{
    (void)state;
    struct cv_collector *c =
        fixture(0, "worker-1 worker-2 consumer", "mutex:lock_a mutex:lock_b queue:q:4");
    for (uint16_t l = 0; l < 3; l++)
        feed1(c, 0, CV_EV_WORKER_START, l, NT, 0, 0);
    feed1(c, 1, CV_EV_TASK_START, 0, 0, 0, 0);
    feed1(c, 1, CV_EV_TASK_START, 1, 1, 0, 0);
    feed1(c, 2, CV_EV_LOCK_ACQUIRE, 0, 0, 0, 0);
    feed1(c, 2, CV_EV_LOCK_ACQUIRE, 1, 1, 1, 0);
    feed1(c, 3, CV_EV_LOCK_WAIT, 0, 0, 1, 0);
    feed1(c, 3, CV_EV_LOCK_WAIT, 1, 1, 0, 0);
    feed1(c, 3, CV_EV_QUEUE_POP_WAIT, 2, NT, 2, 0);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 4);
    assert_int_equal(find_lock(s, 0)->waiters, 1);
    assert_int_equal(find_queue(s, 2)->consumers_waiting, 1);

    feed1(c, 10, CV_EV_LOCK_RELEASE, 0, 0, 0, 0);
    feed1(c, 10, CV_EV_TASK_CANCEL, 0, 0, 0, 0);
    feed1(c, 11, CV_EV_WORKER_EXIT, 0, NT, 0, 0);
    feed1(c, 12, CV_EV_LOCK_RELEASE, 1, 1, 1, 0);
    feed1(c, 12, CV_EV_TASK_CANCEL, 1, 1, 0, 0);
    feed1(c, 13, CV_EV_WORKER_EXIT, 1, NT, 0, 0);
    feed1(c, 14, CV_EV_WORKER_EXIT, 2, NT, 0, 0);
    s = cv_collector_snapshot(c, 20);
    for (uint32_t obj = 0; obj < 2; obj++) {
        assert_int_equal(find_lock(s, obj)->waiters, 0);
        assert_int_equal(find_lock(s, obj)->holders, 0);
    }
    assert_int_equal(find_queue(s, 2)->consumers_waiting, 0);
    for (size_t l = 0; l < 3; l++) {
        assert_int_equal(s->lanes[l].waiting_on, CV_NONE);
        assert_int_equal(s->lanes[l].state, CV_LANE_OFF);
    }
    assert_int_equal(s->tasks.cancelled, 2);
    cv_collector_destroy(c);
}

/* A made-up but lawful run: workers take tasks, contend for a mutex, pass items through a
 * queue and sample a counter. Events [from, to) of it, in time order. */
static void checkpoint_run(struct cv_collector *c, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        uint64_t t0 = 1000000ull + (uint64_t)i * 150000;
        uint16_t lane = (uint16_t)(1 + i % 4);
        uint32_t task = i;
        feed1(c, t0, CV_EV_TASK_START, lane, task, 0, 0);
        if (i % 3 == 0)
            feed1(c, t0 + 100, CV_EV_LOCK_WAIT, lane, task, 0, 0);
        feed1(c, t0 + 900, CV_EV_LOCK_ACQUIRE, lane, task, 0, 0);
        feed1(c, t0 + 2000, CV_EV_LOCK_RELEASE, lane, task, 0, 0);
        feed1(c, t0 + 2100, CV_EV_QUEUE_PUSH, lane, task, 1, i % 5);
        feed1(c, t0 + 2200, CV_EV_COUNTER_VALUE, lane, task, 2, i);
        feed1(c, t0 + 3000 + (i % 7) * 10, i % 11 ? CV_EV_TASK_END : CV_EV_TASK_FAIL, lane, task, 0,
              0);
    }
}

static struct cv_collector *checkpoint_collector(void)
{
    struct cv_collector *c = fixture(4096, "main", "");
    for (uint32_t l = 1; l <= 4; l++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%u", l);
        cv_collector_add_lane(c, l, name, CV_ROLE_WORKER);
    }
    cv_collector_add_object(c, 0, CV_OBJ_MUTEX, "m", 0);
    cv_collector_add_object(c, 1, CV_OBJ_QUEUE, "q", 8);
    cv_collector_add_object(c, 2, CV_OBJ_COUNTER, "n", 0);
    for (uint16_t l = 0; l <= 4; l++)
        feed1(c, 0, CV_EV_WORKER_START, l, NT, 0, 0);
    return c;
}

/* Saving a collector mid-run and restoring it into a fresh one, then feeding both the rest:
 * the snapshots agree (spans: the latest ones a checkpoint keeps). A damaged checkpoint is
 * refused. */
static void test_checkpoint_restore(void **state)
{
    (void)state;
    struct cv_collector *a = checkpoint_collector();
    checkpoint_run(a, 0, 30000); /* long enough for the timeline to coarsen */
    size_t len;
    unsigned char *buf = cv_collector_save(a, &len);
    const uint32_t *order;
    size_t norder = cv_collector_order(a, &order);
    assert_true(norder > 20000);
    struct cv_collector *b = checkpoint_collector();
    assert_true(cv_collector_restore(b, buf, len, order, norder));
    checkpoint_run(a, 30000, 40000);
    checkpoint_run(b, 30000, 40000);
    uint64_t end = 1000000ull + 40000ull * 150000;
    const struct cv_snapshot *sa = cv_collector_snapshot(a, end);
    struct cv_snapshot ca = *sa; /* the scalars; arrays are per collector */
    const struct cv_snapshot *sb = cv_collector_snapshot(b, end);
    assert_memory_equal(&ca.tasks, &sb->tasks, sizeof ca.tasks);
    assert_int_equal(ca.inflight, sb->inflight);
    assert_int_equal(ca.inflight_max, sb->inflight_max);
    assert_int_equal(ca.events_recorded, sb->events_recorded);
    assert_int_equal(ca.timeline_bucket_ns, sb->timeline_bucket_ns);
    assert_true(ca.timeline_bucket_ns > 1000000); /* it did coarsen */
    assert_int_equal(ca.ncompleted, sb->ncompleted);
    assert_memory_equal(ca.completion_order, sb->completion_order,
                        ca.ncompleted * sizeof *ca.completion_order);
    assert_int_equal(ca.nlanes, sb->nlanes);
    for (size_t i = 0; i < ca.nlanes; i++) {
        const struct cv_lane_stats *x = &ca.lanes[i], *y = &sb->lanes[i];
        assert_int_equal(x->state, y->state);
        assert_memory_equal(x->state_ns, y->state_ns, sizeof x->state_ns);
        assert_int_equal(x->tasks, y->tasks);
        assert_int_equal(x->events, y->events);
        assert_int_equal(x->timeline_first, y->timeline_first);
        assert_int_equal(x->timeline_n, y->timeline_n);
        assert_memory_equal(x->timeline, y->timeline, x->timeline_n);
        uint32_t n = x->nspans < y->nspans ? x->nspans : y->nspans;
        assert_true(n >= 1024 || i == 0);
        for (uint32_t k = 1; k <= n; k++) {
            const struct cv_task_span *u = &x->spans[x->nspans - k], *v = &y->spans[y->nspans - k];
            assert_true(u->start_ns == v->start_ns && u->end_ns == v->end_ns && u->task == v->task);
        }
    }
    assert_int_equal(ca.nlocks, 1);
    const struct cv_lock_stats *ka = &ca.locks[0], *kb = &sb->locks[0];
    assert_int_equal(ka->acquisitions, kb->acquisitions);
    assert_int_equal(ka->contended, kb->contended);
    assert_int_equal(ka->wait_ns_total, kb->wait_ns_total);
    assert_int_equal(ka->wait_ns_max, kb->wait_ns_max);
    assert_int_equal(ka->hold_ns_total, kb->hold_ns_total);
    assert_int_equal(ka->holder, kb->holder);
    assert_int_equal(ka->holders, kb->holders);
    assert_int_equal(ka->waiters, kb->waiters);
    assert_int_equal(ka->handoff_from, kb->handoff_from);
    assert_int_equal(ka->handoff_to, kb->handoff_to);
    assert_int_equal(ka->handoffs, kb->handoffs);
    assert_int_equal(ca.queues[0].nseries, sb->queues[0].nseries);
    for (size_t k = 0; k < ca.queues[0].nseries; k++) {
        assert_int_equal(ca.queues[0].series[k].ts, sb->queues[0].series[k].ts);
        assert_int_equal(ca.queues[0].series[k].depth, sb->queues[0].series[k].depth);
    }
    assert_int_equal(ca.queues[0].pushed, sb->queues[0].pushed);
    assert_int_equal(ca.counters[0].value, sb->counters[0].value);

    /* damaged: cut short, a byte changed in a count, another collector's shape */
    struct cv_collector *d = checkpoint_collector();
    assert_false(cv_collector_restore(d, buf, len - 1, order, norder));
    cv_collector_destroy(d);
    d = checkpoint_collector();
    buf[4] ^= 1; /* the lane count */
    assert_false(cv_collector_restore(d, buf, len, order, norder));
    cv_collector_destroy(d);
    d = cv_collector_create(4096);
    assert_false(cv_collector_restore(d, buf, len, order, norder));
    cv_collector_destroy(d);
    free(buf);
    cv_collector_destroy(a);
    cv_collector_destroy(b);
}

/* queue.Queue's timeouts and task accounting: a put that timed out (Full), a get that timed out
 * (Empty), task_done, a join that waits (queue wait) and gives up, one that returns; all kept by
 * a checkpoint. */
static void test_queue_tasks(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "main producer consumer", "queue:q:1");
    feed1(c, 10, CV_EV_QUEUE_PUSH, 1, NT, 0, 1);
    feed1(c, 20, CV_EV_QUEUE_PUSH_WAIT, 1, NT, 0, 1);
    feed1(c, 30, CV_EV_WAIT_TIMEOUT, 1, NT, 0, 1); /* queue.Full */
    feed1(c, 40, CV_EV_QUEUE_JOIN_WAIT, 0, NT, 0, 1);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 45);
    const struct cv_queue_stats *q = find_queue(s, 0);
    assert_int_equal(s->lanes[0].state, CV_LANE_QUEUE_WAIT);
    assert_int_equal(s->lanes[1].state, CV_LANE_IDLE);
    assert_int_equal(q->put_timeouts, 1);
    assert_int_equal(q->producers_waiting, 0);
    assert_int_equal(q->joiners_waiting, 1);
    assert_int_equal(q->unfinished, 1);
    feed1(c, 50, CV_EV_WAIT_TIMEOUT, 0, NT, 0, 1); /* join gave up */
    feed1(c, 60, CV_EV_QUEUE_POP, 2, NT, 0, 0);
    feed1(c, 70, CV_EV_QUEUE_TASK_DONE, 2, NT, 0, 0);
    feed1(c, 80, CV_EV_QUEUE_POP_WAIT, 2, NT, 0, 0);
    feed1(c, 90, CV_EV_WAIT_TIMEOUT, 2, NT, 0, 0); /* queue.Empty */
    feed1(c, 100, CV_EV_QUEUE_JOIN, 0, NT, 0, 0);  /* returned at once */
    s = cv_collector_snapshot(c, 110);
    q = find_queue(s, 0);
    assert_int_equal(s->lanes[0].state, CV_LANE_IDLE);
    assert_int_equal(s->lanes[0].state_ns[CV_LANE_QUEUE_WAIT], 10);
    assert_int_equal(q->get_timeouts, 1);
    assert_int_equal(q->join_timeouts, 1);
    assert_int_equal(q->join_waits, 1);
    assert_int_equal(q->joiners_waiting, 0);
    assert_int_equal(q->consumers_waiting, 0);
    assert_int_equal(q->unfinished, 0);
    size_t len;
    unsigned char *buf = cv_collector_save(c, &len);
    const uint32_t *order;
    size_t norder = cv_collector_order(c, &order);
    struct cv_collector *d = fixture(0, "main producer consumer", "queue:q:1");
    assert_true(cv_collector_restore(d, buf, len, order, norder));
    const struct cv_queue_stats *r = find_queue(cv_collector_snapshot(d, 110), 0);
    assert_true(r->put_timeouts == 1 && r->get_timeouts == 1 && r->join_timeouts == 1 &&
                r->join_waits == 1 && r->unfinished == 0 && r->pushed == 1);
    free(buf);
    cv_collector_destroy(d);
    cv_collector_destroy(c);
}

static void test_queue_series_bounded(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(1000, "p", "queue:q");
    const uint32_t npoints = 9001, spike_at = 3001, spike = 999;
    for (uint32_t i = 0; i < npoints; i++) {
        uint32_t depth = i == spike_at ? spike : i % 17;
        feed1(c, 100 + (uint64_t)i, i % 2 ? CV_EV_QUEUE_POP : CV_EV_QUEUE_PUSH, 0, NT, 0, depth);
    }
    const struct cv_snapshot *s = cv_collector_snapshot(c, 20000);
    const struct cv_queue_stats *q = find_queue(s, 0);
    assert_int_equal(q->pushed + q->popped, npoints);
    assert_int_equal(q->max_depth, spike);
    assert_true(q->nseries > 0);
    assert_true(q->nseries <= 2048);
    bool found = false;
    for (size_t i = 0; i < q->nseries; i++) {
        if (i > 0)
            assert_true(q->series[i].ts > q->series[i - 1].ts); /* oldest first */
        if (q->series[i].depth == spike) {
            assert_int_equal(q->series[i].ts, 100 + spike_at);
            found = true;
        }
        assert_true(q->series[i].depth <= spike);
    }
    assert_true(found);
    /* The newest point is always kept. */
    assert_int_equal(q->series[q->nseries - 1].ts, 100 + npoints - 1);
    assert_int_equal(q->series[q->nseries - 1].depth, (npoints - 1) % 17);
    cv_collector_destroy(c);
}

static void test_tasks(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "main", "");
    for (uint32_t i = 1; i <= 3; i++)
        cv_collector_add_lane(c, i, "w", CV_ROLE_WORKER);

    for (uint32_t t = 0; t < 6; t++)
        feed1(c, t, CV_EV_TASK_SUBMIT, 0, t, NO, 0);
    feed1(c, 10, CV_EV_TASK_START, 1, 0, NO, 0);
    feed1(c, 12, CV_EV_TASK_START, 2, 1, NO, 0);
    feed1(c, 14, CV_EV_TASK_START, 3, 2, NO, 0);
    feed1(c, 16, CV_EV_TASK_CANCEL, 0, 3, NO, 0); /* never started */
    const struct cv_snapshot *s = cv_collector_snapshot(c, 17);
    assert_int_equal(s->inflight, 3);
    assert_int_equal(s->inflight_max, 3);
    assert_int_equal(s->tasks.cancelled, 1);
    assert_int_equal(s->ncompleted, 0);
    assert_int_equal(s->lanes[1].current_task, 0);
    assert_int_equal(s->lanes[3].current_task, 2);
    assert_int_equal(s->lanes[3].state, CV_LANE_RUNNING);

    feed1(c, 20, CV_EV_TASK_END, 2, 1, NO, 0);
    feed1(c, 25, CV_EV_TASK_FAIL, 1, 0, NO, 5);
    s = cv_collector_snapshot(c, 26);
    assert_int_equal(s->inflight, 1);
    assert_int_equal(s->lanes[1].current_task, CV_NONE);
    assert_int_equal(s->lanes[1].state, CV_LANE_IDLE);
    feed1(c, 30, CV_EV_TASK_CANCEL, 3, 2, NO, 0); /* started, then cancelled */
    s = cv_collector_snapshot(c, 31);
    assert_int_equal(s->inflight, 0);
    assert_int_equal(s->lanes[3].state, CV_LANE_IDLE);
    feed1(c, 40, CV_EV_TASK_START, 1, 4, NO, 0);
    feed1(c, 41, CV_EV_TASK_START, 2, 5, NO, 0);
    feed1(c, 42, CV_EV_TASK_RETRY, 2, 5, NO, 1);
    feed1(c, 43, CV_EV_TASK_TIMEOUT, 2, 5, NO, 0);
    feed1(c, 45, CV_EV_TASK_END, 2, 5, NO, 0);
    feed1(c, 50, CV_EV_TASK_END, 1, 4, NO, 0);

    s = cv_collector_snapshot(c, 60);
    assert_int_equal(s->tasks.submitted, 6);
    assert_int_equal(s->tasks.started, 5);
    assert_int_equal(s->tasks.completed, 3);
    assert_int_equal(s->tasks.failed, 1);
    assert_int_equal(s->tasks.cancelled, 2);
    assert_int_equal(s->tasks.retried, 1);
    assert_int_equal(s->tasks.timed_out, 1);
    assert_int_equal(s->inflight, 0);
    assert_int_equal(s->inflight_max, 3);
    static const uint32_t order[] = {1, 0, 5, 4};
    assert_int_equal(s->ncompleted, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(s->completion_order[i], order[i]);
    assert_int_equal(s->lanes[1].tasks, 2);
    assert_int_equal(s->lanes[2].tasks, 2);
    assert_int_equal(s->lanes[3].tasks, 1);
    assert_int_equal(s->lanes[0].tasks, 0);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_RUNNING], 15 + 10);
    cv_collector_destroy(c);
}

/* Task ids far apart (a damaged recording may name any id below the tracking limit): each is
 * tracked, a checkpoint keeps the one still running, and the table costs pages near the ids
 * used, not memory for every id below the largest (found by fuzz_recording: 512 MiB cleared per
 * replay, a timeout). */
static void test_far_task_ids(void **state)
{
    (void)state;
    struct mallinfo2 m0 = mallinfo2(); /* large blocks are mapped: hblkhd counts them */
    size_t before = m0.uordblks + m0.hblkhd;
    struct cv_collector *c = fixture(0, "main w", "");
    const uint32_t far = (1u << 24) - 1;
    feed1(c, 10, CV_EV_TASK_START, 1, far, NO, 0);
    feed1(c, 20, CV_EV_TASK_END, 1, far, NO, 0);
    feed1(c, 30, CV_EV_TASK_START, 1, 3, NO, 0);
    feed1(c, 40, CV_EV_TASK_END, 1, 3, NO, 0);
    feed1(c, 50, CV_EV_TASK_START, 1, far - 5000, NO, 0);
    feed1(c, 55, CV_EV_TASK_START, 1, 1u << 24, NO, 0); /* beyond the limit: counted, not kept */
    struct mallinfo2 m1 = mallinfo2();
    size_t grown = m1.uordblks + m1.hblkhd - before;
    assert_true(grown < 4u << 20);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 60);
    assert_int_equal(s->tasks.completed, 2);
    assert_int_equal(s->ncompleted, 2);
    assert_int_equal(s->completion_order[0], far);
    assert_int_equal(s->completion_order[1], 3);

    size_t len;
    unsigned char *buf = cv_collector_save(c, &len);
    const uint32_t *order;
    size_t norder = cv_collector_order(c, &order);
    struct cv_collector *d = fixture(0, "main w", "");
    assert_true(cv_collector_restore(d, buf, len, order, norder));
    /* the far task was running when saved: its end counts once in both */
    feed1(c, 70, CV_EV_TASK_END, 1, far - 5000, NO, 0);
    feed1(d, 70, CV_EV_TASK_END, 1, far - 5000, NO, 0);
    struct cv_snapshot sc = *cv_collector_snapshot(c, 80);
    const struct cv_snapshot *sd = cv_collector_snapshot(d, 80);
    assert_memory_equal(&sc.tasks, &sd->tasks, sizeof sc.tasks);
    assert_int_equal(sc.ncompleted, 3);
    assert_int_equal(sd->ncompleted, 3);
    assert_int_equal(sd->completion_order[2], far - 5000);
    free(buf);
    cv_collector_destroy(c);
    cv_collector_destroy(d);
}

static void test_drops_events(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "a b c", "");
    feed1(c, 10, CV_EV_DROPS, 1, NT, NO, 7);
    feed1(c, 20, CV_EV_DROPS, 2, NT, NO, 3);
    feed1(c, 30, CV_EV_DROPS, 1, NT, NO, 5);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 40);
    assert_int_equal(s->events_dropped, 15);
    assert_int_equal(s->lanes[0].drops, 0);
    assert_int_equal(s->lanes[1].drops, 12);
    assert_int_equal(s->lanes[2].drops, 3);
    assert_int_equal(s->events_recorded, 3);
    cv_collector_destroy(c);
}

/* Events lost: the lane is lost from its last event to its producer's gap event, its hold on the
 * mutex ends there, another lane's acquisition keeps the mutex to one holder, a release whose
 * acquisition was lost changes nothing, and task.fact ends a task whose end was lost. */
static void test_lost_events(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(0, "main a b", "mutex:m");
    feed1(c, 0, CV_EV_TASK_SUBMIT, 0, 0, NO, 0);
    feed1(c, 0, CV_EV_TASK_SUBMIT, 0, 1, NO, 0);
    feed1(c, 10, CV_EV_TASK_START, 1, 0, NO, 0);
    feed1(c, 10, CV_EV_TASK_START, 2, 1, NO, 0);
    feed1(c, 20, CV_EV_LOCK_ACQUIRE, 1, 0, 0, 0);
    /* a's release and more were lost; the consumer learns of it at 50 */
    feed1(c, 50, CV_EV_DROPS, 1, NT, NO, 4);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 50);
    assert_int_equal(s->lanes[1].state, CV_LANE_LOST);
    assert_int_equal(s->lanes[1].since_ns, 20); /* from its last event */
    assert_int_equal(s->locks[0].holders, 0);   /* its hold ended there, in our view */
    /* b takes the mutex: one holder */
    feed1(c, 60, CV_EV_LOCK_ACQUIRE, 2, 1, 0, 0);
    /* a records again: a gap of 4, then a release of a lock it is not known to hold */
    feed1(c, 70, CV_EV_GAP, 1, NT, NO, 4);
    feed1(c, 71, CV_EV_LOCK_RELEASE, 1, 0, 0, 0);
    s = cv_collector_snapshot(c, 80);
    assert_int_equal(s->lanes[1].state, CV_LANE_RUNNING);
    assert_int_equal(s->lanes[1].state_ns[CV_LANE_LOST], 50);
    assert_int_equal(s->locks[0].holders, 1);
    assert_int_equal(s->locks[0].holder, 2);
    /* a second drops event for the same gap (counted after the gap event): not lost again */
    feed1(c, 90, CV_EV_DROPS, 1, NT, NO, 0);
    s = cv_collector_snapshot(c, 90);
    assert_int_equal(s->lanes[1].state, CV_LANE_RUNNING);
    /* b's end is seen, a's is not: the run says a's task ended done */
    feed1(c, 100, CV_EV_LOCK_RELEASE, 2, 1, 0, 0);
    feed1(c, 100, CV_EV_TASK_END, 2, 1, NO, 0);
    feed1(c, 110, CV_EV_TASK_FACT, 0, 0, 0, 0);
    s = cv_collector_snapshot(c, 120);
    assert_int_equal(s->tasks.completed, 2);
    assert_int_equal(s->inflight, 0);
    assert_int_equal(s->ncompleted, 1);
    assert_int_equal(s->completed_unseen, 1);
    assert_int_equal(s->locks[0].holders, 0);
    cv_collector_destroy(c);
}

static void test_store(void **state)
{
    (void)state;
    struct cv_collector *c = fixture(4, "a", "");
    assert_int_equal(cv_collector_store_count(c), 0);
    assert_null(cv_collector_store_at(c, 0));

    for (uint64_t i = 0; i < 3; i++)
        feed1(c, 10 * i, CV_EV_COUNTER_VALUE, 0, NT, NO, i);
    assert_int_equal(cv_collector_store_count(c), 3);
    assert_int_equal(cv_collector_store_at(c, 0)->arg, 0);
    assert_int_equal(cv_collector_store_at(c, 2)->arg, 2);
    assert_null(cv_collector_store_at(c, 3));
    assert_int_equal(cv_collector_snapshot(c, 0)->store_evicted, 0);

    for (uint64_t i = 3; i < 11; i++)
        feed1(c, 10 * i, CV_EV_COUNTER_VALUE, 0, NT, NO, i);
    assert_int_equal(cv_collector_store_count(c), 4);
    for (size_t i = 0; i < 4; i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_non_null(e);
        assert_int_equal(e->arg, 7 + i);
        assert_int_equal(e->ts, 10 * (7 + i));
        assert_int_equal(e->kind, CV_EV_COUNTER_VALUE);
    }
    assert_null(cv_collector_store_at(c, 4));
    const struct cv_snapshot *s = cv_collector_snapshot(c, 200);
    assert_int_equal(s->store_evicted, 7);
    assert_int_equal(s->events_recorded, 11);
    cv_collector_destroy(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Live draining from rings. */

#define NRINGS 3

/* The same lock history fed with every hold as two events, and with the uncontended ones as one
 * lock.pair at the release (or a lock.held recorded late, then the release): the lock figures,
 * the lanes' times and timelines are the same. A waiter comes while a folded hold lasts (it waits
 * while the holder is not yet known). */
static void feed_lock_history(struct cv_collector *c, bool pairs)
{
    feed1(c, 0, CV_EV_WORKER_START, 0, NT, 0, 0);
    feed1(c, 0, CV_EV_WORKER_START, 1, NT, 0, 0);
    feed1(c, 1, CV_EV_TASK_START, 0, 0, 0, 0);
    feed1(c, 2, CV_EV_TASK_START, 1, 1, 0, 0);
    if (!pairs)
        feed1(c, 10, CV_EV_LOCK_ACQUIRE, 0, 0, 0, 0);
    feed1(c, 15, CV_EV_LOCK_WAIT, 1, 1, 0, 0);
    if (pairs)
        feed1(c, 30, CV_EV_LOCK_PAIR, 0, 0, 0, 20);
    else
        feed1(c, 30, CV_EV_LOCK_RELEASE, 0, 0, 0, 0);
    feed1(c, 31, CV_EV_LOCK_ACQUIRE, 1, 1, 0, 0); /* contended: a hand-over from lane 0 */
    feed1(c, 60, CV_EV_LOCK_RELEASE, 1, 1, 0, 0);
    if (pairs) {
        feed1(c, 85, CV_EV_LOCK_HELD, 0, 0, 0, 5); /* since 80: a hand-over back, uncontended */
        feed1(c, 90, CV_EV_LOCK_RELEASE, 0, 0, 0, 0);
        feed1(c, 95, CV_EV_LOCK_PAIR, 0, 0, 0, 4); /* 91-95, same holder */
        feed1(c, 99, CV_EV_LOCK_PAIR, 1, 1, 1, 3); /* another lock, 96-99 */
    } else {
        feed1(c, 80, CV_EV_LOCK_ACQUIRE, 0, 0, 0, 0);
        feed1(c, 90, CV_EV_LOCK_RELEASE, 0, 0, 0, 0);
        feed1(c, 91, CV_EV_LOCK_ACQUIRE, 0, 0, 0, 0);
        feed1(c, 95, CV_EV_LOCK_RELEASE, 0, 0, 0, 0);
        feed1(c, 96, CV_EV_LOCK_ACQUIRE, 1, 1, 1, 0);
        feed1(c, 99, CV_EV_LOCK_RELEASE, 1, 1, 1, 0);
    }
    feed1(c, 100, CV_EV_TASK_END, 0, 0, 0, 0);
    feed1(c, 100, CV_EV_TASK_END, 1, 1, 0, 0);
}

static void test_lock_pair(void **state)
{
    (void)state;
    struct cv_collector *two = fixture(0, "a b", "mutex:m mutex:other");
    struct cv_collector *one = fixture(0, "a b", "mutex:m mutex:other");
    feed_lock_history(two, false);
    feed_lock_history(one, true);
    const struct cv_snapshot *s2 = cv_collector_snapshot(two, 120);
    const struct cv_snapshot *s1 = cv_collector_snapshot(one, 120);
    for (uint32_t obj = 0; obj < 2; obj++) {
        const struct cv_lock_stats *a = find_lock(s2, obj), *b = find_lock(s1, obj);
        assert_int_equal(a->acquisitions, b->acquisitions);
        assert_int_equal(a->contended, b->contended);
        assert_int_equal(a->wait_ns_total, b->wait_ns_total);
        assert_int_equal(a->wait_ns_max, b->wait_ns_max);
        assert_int_equal(a->hold_ns_total, b->hold_ns_total);
        assert_int_equal(a->holder, b->holder);
        assert_int_equal(a->holders, b->holders);
        assert_int_equal(a->waiters, b->waiters);
        assert_int_equal(a->handoffs, b->handoffs);
        assert_int_equal(a->handoff_from, b->handoff_from);
        assert_int_equal(a->handoff_to, b->handoff_to);
    }
    const struct cv_lock_stats *k = find_lock(s1, 0);
    assert_int_equal(k->acquisitions, 4);
    assert_int_equal(k->contended, 1);
    assert_int_equal(k->wait_ns_total, 16);
    assert_int_equal(k->hold_ns_total, 20 + 29 + 10 + 4);
    assert_int_equal(k->handoffs, 2);
    assert_int_equal(k->handoff_from, 0);
    assert_int_equal(k->handoff_to, 1);
    assert_int_equal(find_lock(s1, 1)->hold_ns_total, 3);
    for (uint32_t i = 0; i < 2; i++) {
        assert_memory_equal(s2->lanes[i].state_ns, s1->lanes[i].state_ns,
                            sizeof s1->lanes[i].state_ns);
        assert_int_equal(s2->lanes[i].timeline_n, s1->lanes[i].timeline_n);
        assert_memory_equal(s2->lanes[i].timeline, s1->lanes[i].timeline, s1->lanes[i].timeline_n);
    }
    assert_int_equal(s1->lanes[1].state_ns[CV_LANE_LOCK_WAIT], 16);
    assert_int_equal(s1->events_recorded + 3, s2->events_recorded); /* three pairs */
    cv_collector_destroy(two);
    cv_collector_destroy(one);
}

static void rings_new(struct cv_ring **rings, size_t n, size_t capacity)
{
    for (size_t i = 0; i < n; i++) {
        void *mem = aligned_alloc(64, cv_ring_bytes(capacity));
        assert_non_null(mem);
        rings[i] = cv_ring_init(mem, capacity);
    }
}

static void rings_free(struct cv_ring **rings, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rings[i]);
}

/* Advances the fake clock to `at` and records one event on ring `lane`. */
static void record_at(struct cv_ring **rings, uint64_t at, uint16_t lane, unsigned kind,
                      uint64_t arg)
{
    uint64_t now = cv_clock_ticks();
    assert_true(at >= now);
    cv_clock_fake_advance(at - now);
    cv_ring_record(rings[lane], kind, lane, CV_NO_TASK, CV_NONE, arg);
}

static struct cv_collector *live_collector(struct cv_ring **rings, size_t store)
{
    struct cv_collector *c = cv_collector_create(store);
    for (uint32_t i = 0; i < NRINGS; i++)
        cv_collector_add_lane(c, i, "w", CV_ROLE_WORKER);
    cv_collector_attach_rings(c, rings, NRINGS, 0);
    return c;
}

/* Lanes whose rings rewind (the consumer keeps up, so each goes back to its first slot): the
 * drain follows the markers, live (events younger than the grace stay) and at the end, and the
 * store has every event once, in time order, with no marker among them. */
static void test_drain_follows_rewinds(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    const size_t cap = 1u << 15;
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, cap);
    for (size_t i = 0; i < NRINGS; i++)
        memset(cv_ring_slots(rings[i]), 0, cap * sizeof(struct cv_event));
    struct cv_collector *c = live_collector(rings, 0);
    const uint64_t n = 200000, step = 100000; /* 100 us apart: the 2 ms grace holds 20 back */
    for (uint64_t k = 1; k <= n; k++) {
        record_at(rings, k * step, (uint16_t)(k % NRINGS), CV_EV_COUNTER_VALUE, k);
        if (k % 997 == 0)
            cv_collector_drain(c, k * step, false);
    }
    cv_collector_drain(c, 0, true);
    assert_int_equal(cv_collector_store_count(c), n);
    for (uint64_t i = 0; i < n; i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_int_equal(e->kind, CV_EV_COUNTER_VALUE);
        assert_int_equal(e->arg, i + 1);
        assert_int_equal(e->ts, (i + 1) * step);
        assert_int_equal(e->lane, (i + 1) % NRINGS);
    }
    assert_int_equal(cv_collector_snapshot(c, n * step)->events_dropped, 0);
    /* each ring took 66,667 events and the consumer stayed within 1,000 of its head: rewinds kept
     * every lane within its first 3 rewind points, so the slots past them are untouched */
    for (size_t i = 0; i < NRINGS; i++) {
        const struct cv_event *slots = cv_ring_slots(rings[i]);
        for (size_t j = 3 * CV_RING_REWIND_EVERY + 1; j < cap; j++)
            if (slots[j].kind || slots[j].ts)
                fail_msg("ring %zu slot %zu written: it did not rewind", i, j);
    }
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

static void test_drain_global_order(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 64);
    struct cv_collector *c = live_collector(rings, 0);

    /* Lane 0 at 1,4,7; lane 1 at 2,5,8; lane 2 at 3,6,9. */
    for (uint64_t t = 1; t <= 9; t++)
        record_at(rings, t, (uint16_t)((t - 1) % 3), CV_EV_COUNTER_VALUE, t);
    assert_int_equal(cv_collector_drain(c, 0, true), 9);
    assert_int_equal(cv_collector_store_count(c), 9);
    for (size_t i = 0; i < 9; i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_int_equal(e->ts, i + 1);
        assert_int_equal(e->arg, i + 1);
        assert_int_equal(e->lane, i % 3);
    }
    for (size_t i = 0; i < NRINGS; i++)
        assert_int_equal(cv_ring_pending(rings[i]), 0);
    assert_int_equal(cv_collector_drain(c, 0, true), 0);

    /* Uneven runs: lane 2 has a burst that sits between lane 0's events. */
    record_at(rings, 20, 0, CV_EV_COUNTER_VALUE, 20);
    record_at(rings, 21, 2, CV_EV_COUNTER_VALUE, 21);
    record_at(rings, 22, 2, CV_EV_COUNTER_VALUE, 22);
    record_at(rings, 23, 2, CV_EV_COUNTER_VALUE, 23);
    record_at(rings, 24, 0, CV_EV_COUNTER_VALUE, 24);
    record_at(rings, 25, 1, CV_EV_COUNTER_VALUE, 25);
    record_at(rings, 26, 2, CV_EV_COUNTER_VALUE, 26);
    record_at(rings, 27, 0, CV_EV_COUNTER_VALUE, 27);
    assert_int_equal(cv_collector_drain(c, 0, true), 8);
    assert_int_equal(cv_collector_store_count(c), 17);
    for (size_t i = 9; i < 17; i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_int_equal(e->ts, 20 + (i - 9));
        assert_int_equal(e->arg, e->ts);
    }
    const struct cv_snapshot *s = cv_collector_snapshot(c, 30);
    assert_int_equal(s->events_recorded, 17);
    assert_int_equal(s->events_dropped, 0);
    assert_int_equal(s->lanes[0].events, 6);
    assert_int_equal(s->lanes[2].events, 7);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

/* A lock.pair in a ring holds the hold in clock ticks; drained, in ns, the acquisition at its
 * own time: lane 1's events during the hold are fed before it, in the store's time order. */
static void test_drain_lock_pair(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 64);
    struct cv_collector *c = live_collector(rings, 0);
    cv_collector_add_object(c, 0, CV_OBJ_MUTEX, "m", 1);
    record_at(rings, 10, 0, CV_EV_WORKER_START, 0);
    uint64_t acq = cv_clock_stamp(); /* lane 0 takes m at 10 */
    record_at(rings, 15, 1, CV_EV_COUNTER_VALUE, 1);
    cv_clock_fake_advance(25);
    uint64_t rel = cv_clock_stamp(); /* and lets it go at 40 */
    cv_ring_record_at(rings[0], rel, CV_EV_LOCK_PAIR, 0, CV_NO_TASK, 0, rel - acq);
    assert_int_equal(cv_collector_drain(c, 0, true), 3);
    const struct cv_event *e = cv_collector_store_at(c, 2);
    assert_int_equal(e->kind, CV_EV_LOCK_PAIR);
    assert_int_equal(e->ts, cv_clock_ticks_to_ns(rel));
    assert_int_equal(e->arg, cv_clock_ticks_to_ns(rel) - cv_clock_ticks_to_ns(acq));
    const struct cv_snapshot *s = cv_collector_snapshot(c, 50);
    const struct cv_lock_stats *k = find_lock(s, 0);
    assert_int_equal(k->acquisitions, 1);
    assert_int_equal(k->contended, 0);
    assert_int_equal(k->hold_ns_total, e->arg);
    assert_int_equal(k->holders, 0);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

static void test_drain_grace(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 64);
    struct cv_collector *c = live_collector(rings, 0);

    record_at(rings, 1000000, 0, CV_EV_COUNTER_VALUE, 1);
    record_at(rings, 1500000, 1, CV_EV_COUNTER_VALUE, 2);
    record_at(rings, 2000000, 2, CV_EV_COUNTER_VALUE, 3); /* exactly now - grace: fed */
    record_at(rings, 2000001, 0, CV_EV_COUNTER_VALUE, 4); /* younger: held back */
    record_at(rings, 3000000, 1, CV_EV_COUNTER_VALUE, 5);
    record_at(rings, 3500000, 2, CV_EV_COUNTER_VALUE, 6);

    /* Before the grace has passed for anything, nothing is fed. */
    assert_int_equal(cv_collector_drain(c, 2000000, false), 0);
    assert_int_equal(cv_collector_store_count(c), 0);

    assert_int_equal(cv_collector_drain(c, 4000000, false), 3);
    assert_int_equal(cv_collector_store_count(c), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(cv_collector_store_at(c, i)->arg, i + 1);
    assert_int_equal(cv_ring_pending(rings[0]), 1);
    assert_int_equal(cv_ring_pending(rings[1]), 1);
    assert_int_equal(cv_ring_pending(rings[2]), 1);
    /* Same now again: nothing new is old enough. */
    assert_int_equal(cv_collector_drain(c, 4000000, false), 0);

    /* Advancing now releases the next one only. */
    assert_int_equal(cv_collector_drain(c, 5000000, false), 2);
    assert_int_equal(cv_collector_store_count(c), 5);
    assert_int_equal(cv_collector_store_at(c, 3)->arg, 4);
    assert_int_equal(cv_collector_store_at(c, 4)->arg, 5);

    /* The final drain feeds the rest, whatever now says. */
    assert_int_equal(cv_collector_drain(c, 0, true), 1);
    assert_int_equal(cv_collector_store_count(c), 6);
    for (size_t i = 0; i < 6; i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_int_equal(e->arg, i + 1);
        if (i > 0)
            assert_true(e->ts > cv_collector_store_at(c, i - 1)->ts);
    }
    assert_int_equal(cv_collector_store_at(c, 5)->ts, 3500000);
    for (size_t i = 0; i < NRINGS; i++)
        assert_int_equal(cv_ring_pending(rings[i]), 0);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

static void test_drain_ring_drops(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 64);
    uint64_t cap = cv_ring_capacity(rings[0]);
    struct cv_collector *c = live_collector(rings, 0);

    for (uint64_t i = 0; i < cap + 6; i++)
        record_at(rings, 10 + i, 0, CV_EV_COUNTER_VALUE, i);
    record_at(rings, 5000, 1, CV_EV_COUNTER_VALUE, 0);

    size_t fed = cv_collector_drain(c, 0, true);
    assert_int_equal(fed, cap + 1 + 1); /* the events plus one drops event */
    const struct cv_snapshot *s = cv_collector_snapshot(c, 6000);
    assert_int_equal(s->events_dropped, 6);
    assert_int_equal(s->lanes[0].drops, 6);
    assert_int_equal(s->lanes[1].drops, 0);
    assert_int_equal(s->lanes[0].events, cap + 1);

    /* The kept events are the first `cap`, in order. */
    uint64_t next = 0;
    size_t ndrops = 0;
    for (size_t i = 0; i < cv_collector_store_count(c); i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        if (e->kind == CV_EV_DROPS) {
            assert_int_equal(e->lane, 0);
            assert_int_equal(e->arg, 6);
            ndrops++;
        } else if (e->lane == 0) {
            assert_int_equal(e->arg, next);
            next++;
        }
    }
    assert_int_equal(ndrops, 1);
    assert_int_equal(next, cap);

    /* Drops are reported once. */
    assert_int_equal(cv_collector_drain(c, 0, true), 0);
    s = cv_collector_snapshot(c, 6000);
    assert_int_equal(s->events_dropped, 6);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

/* A pass looks into a ring only if its head moved since a pass left it empty (or it dropped):
 * rings that stay idle are passed over, and what comes into one later, held back by the grace,
 * or lost to a full ring is still all fed, in order, the losses reported once. */
static void test_drain_idle_rings(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 64);
    uint64_t cap = cv_ring_capacity(rings[0]);
    struct cv_collector *c = live_collector(rings, 0);

    assert_int_equal(cv_collector_drain(c, 0, false), 0); /* all empty */
    assert_int_equal(cv_collector_drain(c, 0, false), 0);
    record_at(rings, 10, 1, CV_EV_COUNTER_VALUE, 1);
    assert_int_equal(cv_collector_drain(c, 0, true), 1);
    assert_int_equal(cv_ring_pending(rings[1]), 0);
    assert_int_equal(cv_collector_drain(c, 0, true), 0); /* ring 1 idle again */

    /* an event younger than the grace stays in its ring, and is fed by a later pass */
    record_at(rings, 3000000, 0, CV_EV_COUNTER_VALUE, 2);
    assert_int_equal(cv_collector_drain(c, 4000000, false), 0);
    assert_int_equal(cv_ring_pending(rings[0]), 1);
    assert_int_equal(cv_collector_drain(c, 4000000, false), 0);
    assert_int_equal(cv_collector_drain(c, 5000000, false), 1);
    assert_int_equal(cv_ring_pending(rings[0]), 0);

    /* an idle ring filled past its capacity between two passes: its events and one drops event */
    for (uint64_t i = 0; i < cap + 3; i++)
        record_at(rings, 6000000 + i, 2, CV_EV_COUNTER_VALUE, 100 + i);
    assert_int_equal(cv_collector_drain(c, 0, true), cap + 1);
    assert_int_equal(cv_collector_drain(c, 0, true), 0);
    const struct cv_snapshot *s = cv_collector_snapshot(c, 7000000);
    assert_int_equal(s->events_dropped, 3);
    assert_int_equal(s->lanes[2].drops, 3);
    assert_int_equal(s->lanes[2].events, cap + 1); /* the drops event is one of them */

    /* the ring that dropped, drained, takes events again; rings attached anew are looked into */
    record_at(rings, 8000000, 2, CV_EV_COUNTER_VALUE, 7);
    record_at(rings, 8000001, 1, CV_EV_COUNTER_VALUE, 8);
    cv_collector_attach_rings(c, rings, NRINGS, 0);
    assert_int_equal(cv_collector_drain(c, 0, true), 3); /* with the gap event before 7 */
    assert_int_equal(cv_collector_drain(c, 0, true), 0);
    s = cv_collector_snapshot(c, 9000000);
    assert_int_equal(s->events_recorded, 1 + 1 + cap + 1 + 3);
    assert_int_equal(s->events_dropped, 3);
    uint64_t last = 0;
    for (size_t i = 0; i < cv_collector_store_count(c); i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_true(e->ts >= last);
        last = e->ts;
    }
    for (size_t i = 0; i < NRINGS; i++)
        assert_int_equal(cv_ring_pending(rings[i]), 0);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

/* An event published long after its time stamp (more than the grace) arrives behind events
 * already fed: it is placed at the frontier, so the store and the tap stay in time order (a
 * recording's chunks would otherwise not add up). */
static size_t late_tapped;
static uint64_t late_last;
static bool late_ordered = true;
static void late_tap(void *ctx, const struct cv_event *ev, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].ts < late_last)
            late_ordered = false;
        late_last = ev[i].ts;
        late_tapped++;
    }
}

static void test_drain_late_event(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 64);
    struct cv_collector *c = live_collector(rings, 0);
    cv_collector_set_tap(c, late_tap, NULL);

    record_at(rings, 5000000, 0, CV_EV_COUNTER_VALUE, 1);
    assert_int_equal(cv_collector_drain(c, 10000000, false), 1);
    /* stamped at 3 ms, published after the 5 ms event was fed */
    cv_clock_use_fake(3000000);
    cv_ring_record(rings[1], CV_EV_COUNTER_VALUE, 1, CV_NO_TASK, CV_NONE, 2);
    record_at(rings, 6000000, 2, CV_EV_COUNTER_VALUE, 3);
    assert_int_equal(cv_collector_drain(c, 20000000, false), 2);
    assert_int_equal(cv_collector_drain(c, 0, true), 0);
    cv_collector_tap_flush(c);
    assert_int_equal(cv_collector_store_count(c), 3);
    assert_int_equal(cv_collector_store_at(c, 1)->arg, 2);
    assert_int_equal(cv_collector_store_at(c, 1)->ts, 5000000);
    assert_int_equal(cv_collector_store_at(c, 2)->ts, 6000000);
    assert_int_equal(late_tapped, 3);
    assert_true(late_ordered);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

/* Many events over several non-final drains: the store comes out in time order, and each
 * lane's own events stay in their recorded order. */
static void test_drain_merge_stress(void **state)
{
    (void)state;
    cv_clock_use_fake(0);
    struct cv_ring *rings[NRINGS];
    rings_new(rings, NRINGS, 4096);
    struct cv_collector *c = live_collector(rings, 1u << 16);

    uint64_t seq[NRINGS] = {0};
    uint64_t t = 1;
    unsigned x = 12345;
    const unsigned total = 12000;
    size_t fed = 0;
    for (unsigned i = 0; i < total; i++) {
        x = x * 1103515245u + 12345u;
        uint16_t lane = (uint16_t)((x >> 16) % NRINGS);
        t += (x >> 8) % 3 == 0 ? 0 : ((x >> 4) % 50000); /* equal stamps happen too */
        record_at(rings, t, lane, CV_EV_COUNTER_VALUE, seq[lane]++);
        if (i % 997 == 0)
            fed += cv_collector_drain(c, t, false);
    }
    fed += cv_collector_drain(c, t, false);
    fed += cv_collector_drain(c, 0, true);
    assert_int_equal(fed, total);
    assert_int_equal(cv_collector_store_count(c), total);

    uint64_t want[NRINGS] = {0};
    uint64_t last = 0;
    for (size_t i = 0; i < total; i++) {
        const struct cv_event *e = cv_collector_store_at(c, i);
        assert_true(e->ts >= last);
        last = e->ts;
        assert_true(e->lane < NRINGS);
        assert_int_equal(e->arg, want[e->lane]);
        want[e->lane]++;
    }
    for (size_t i = 0; i < NRINGS; i++)
        assert_int_equal(want[i], seq[i]);
    assert_int_equal(cv_collector_snapshot(c, t)->events_dropped, 0);
    cv_collector_destroy(c);
    rings_free(rings, NRINGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_state_accounting),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_spans_and_io_text),
        cmocka_unit_test(test_lock_stats),
        cmocka_unit_test(test_lock_pair),
        cmocka_unit_test(test_gil),
        cmocka_unit_test(test_semaphore_and_barrier),
        cmocka_unit_test(test_event_and_condition),
        cmocka_unit_test(test_queue),
        cmocka_unit_test(test_queue_tasks),
        cmocka_unit_test(test_queue_series_bounded),
        cmocka_unit_test(test_abandoned_waits),
        cmocka_unit_test(test_checkpoint_restore),
        cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_far_task_ids),
        cmocka_unit_test(test_drops_events),
        cmocka_unit_test(test_lost_events),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_drain_global_order),
        cmocka_unit_test(test_drain_follows_rewinds),
        cmocka_unit_test(test_drain_lock_pair),
        cmocka_unit_test(test_drain_grace),
        cmocka_unit_test(test_drain_ring_drops),
        cmocka_unit_test(test_drain_idle_rings),
        cmocka_unit_test(test_drain_late_event),
        cmocka_unit_test(test_drain_merge_stress),
        cmocka_unit_test(test_store_not_shared_with_a_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

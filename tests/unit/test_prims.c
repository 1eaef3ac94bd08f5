/* Every primitive, exercised by small workloads registered here and run under real models. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concviz/clock.h"
#include "concviz/concviz.h"
#include "concviz/run.h"

#include "../../engine/src/internal.h"
#include "pagemap.h"

/* Shared state of the test workloads (allocated in the run's shared memory). */
struct tstate {
    struct cv_mutex *mutex;
    struct cv_sem *sem;
    struct cv_queue *queue;
    struct cv_barrier *barrier;
    struct cv_counter *counter;
    uint64_t plain;
    _Atomic int inside, max_inside;
    _Atomic uint64_t sum;
    _Atomic uint32_t arrivals[8];
    _Atomic uint32_t violations;
    uint64_t last_popped;
    struct cv_event_obj *event;
    struct cv_cond *cond;
    _Atomic uint32_t waiting, woken;
    /* the queue.Queue tests: results of the calls and when they returned */
    int r_put, r_put_now, r_get, r_join_short, r_join, r_done, r_done_extra;
    uint64_t put_ns, get_ns, last_done_ns, join_ns;
    uint32_t unfinished_at_join;
};

static const struct cv_param_def no_params[] = {{NULL, 0, NULL, NULL, NULL, 0, 0}};

static struct tstate *state_of(struct cv_ctx *ctx)
{
    return cv_run_workload_state(ctx->run);
}

static int plan_workers(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_set_tasks(run, cv_run_workers(run));
    return CV_OK;
}

static int plan_two_roles(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_role(run, "producer");
    cv_run_add_role(run, "consumer");
    return CV_OK;
}

static int plan_three_roles(struct cv_run *run, char **cause)
{
    (void)cause;
    cv_run_add_role(run, "a");
    cv_run_add_role(run, "b");
    cv_run_add_role(run, "c");
    return CV_OK;
}

static int setup_all(struct cv_run *run, char **cause)
{
    (void)cause;
    struct tstate *st = cv_shared_alloc(run, sizeof *st);
    st->mutex = cv_mutex_create(run, "m");
    st->sem = cv_sem_create(run, "s", 2);
    st->queue = cv_queue_create(run, "q", 4);
    st->barrier = cv_barrier_create(run, "b", 3);
    st->counter = cv_counter_create(run, "c", CV_COUNTER_ATOMIC);
    cv_run_set_workload_state(run, st);
    return CV_OK;
}

/* setup_all and an Event `e` and a Condition `cv` over the mutex `m` */
static int setup_signals(struct cv_run *run, char **cause)
{
    int rc = setup_all(run, cause);
    struct tstate *st = cv_run_workload_state(run);
    st->event = cv_event_create(run, "e");
    st->cond = cv_cond_create(run, "cv", st->mutex);
    return st->event && st->cond ? rc : CV_ERR_RUNTIME;
}

#define MUTEX_ITERS 20000

static int mutex_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    for (int i = 0; i < MUTEX_ITERS; i++) {
        if (!cv_mutex_lock(ctx, st->mutex))
            return -1;
        uint64_t v = st->plain;
        cv_cpu(ctx, 200); /* long enough for the four to collide on a loaded host */
        st->plain = v + 1;
        cv_mutex_unlock(ctx, st->mutex);
    }
    return 0;
}

/* HOLDS holds of the mutex per task, each HOLD_NS of CPU work (t_hold_short: 20 us, under
 * CV_PENDING_CPU_NS; t_hold_long: 2 ms, over it). */
#define HOLDS 5
static int holds(struct cv_ctx *ctx, uint64_t hold_ns)
{
    struct tstate *st = state_of(ctx);
    for (int i = 0; i < HOLDS; i++) {
        if (!cv_mutex_lock(ctx, st->mutex))
            return -1;
        bool ok = cv_cpu(ctx, hold_ns);
        cv_mutex_unlock(ctx, st->mutex);
        if (!ok)
            return -1;
    }
    return 0;
}
static int hold_short_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    return holds(ctx, 20 * 1000);
}
static int hold_long_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    return holds(ctx, 2 * 1000000);
}

static int sem_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    if (!cv_sem_acquire(ctx, st->sem))
        return -1;
    int now = atomic_fetch_add(&st->inside, 1) + 1;
    int seen = atomic_load(&st->max_inside);
    while (now > seen && !atomic_compare_exchange_weak(&st->max_inside, &seen, now))
        ;
    cv_sleep(ctx, 20 * 1000000ull);
    atomic_fetch_sub(&st->inside, 1);
    cv_sem_release(ctx, st->sem);
    return 0;
}

#define QUEUE_ITEMS 1000

static int queue_role(struct cv_ctx *ctx, uint32_t role)
{
    struct tstate *st = state_of(ctx);
    if (role == 0) {
        for (uint64_t i = 1; i <= QUEUE_ITEMS; i++)
            if (!cv_queue_push(ctx, st->queue, i))
                return -1;
        return 0;
    }
    for (int i = 0; i < QUEUE_ITEMS; i++) {
        uint64_t item;
        if (!cv_queue_pop(ctx, st->queue, &item))
            return -1;
        if (item != st->last_popped + 1)
            atomic_fetch_add(&st->violations, 1);
        st->last_popped = item;
        atomic_fetch_add(&st->sum, item);
    }
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define MS 1000000ull

/* Fills the queue (capacity 4), then a put waits 50 ms and raises Full, a put_nowait raises it
 * at once; drains it, then a get waits 50 ms and raises Empty. */
static int queue_timeout_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    for (uint64_t i = 1; i <= 4; i++)
        if (cv_queue_push_timed(ctx, st->queue, i, 0) != CV_QUEUE_OK)
            return -1;
    uint64_t t0 = mono_ns();
    st->r_put = (int)cv_queue_push_timed(ctx, st->queue, 5, 50 * MS);
    st->put_ns = mono_ns() - t0;
    st->r_put_now = (int)cv_queue_push_timed(ctx, st->queue, 5, 0);
    uint64_t item;
    for (int i = 0; i < 4; i++)
        if (cv_queue_pop_timed(ctx, st->queue, &item, CV_QUEUE_FOREVER) != CV_QUEUE_OK)
            return -1;
    t0 = mono_ns();
    st->r_get = (int)cv_queue_pop_timed(ctx, st->queue, &item, 50 * MS);
    st->get_ns = mono_ns() - t0;
    return 0;
}

#define JOIN_ITEMS 20

/* The producer puts JOIN_ITEMS, joins with a 5 ms timeout (the consumer takes 3 ms an item:
 * gives up), then joins for good; the consumer marks each item done after its work. */
static int queue_join_role(struct cv_ctx *ctx, uint32_t role)
{
    struct tstate *st = state_of(ctx);
    if (role == 0) {
        for (uint64_t i = 1; i <= JOIN_ITEMS; i++)
            if (!cv_queue_push(ctx, st->queue, i))
                return -1;
        st->r_join_short = (int)cv_queue_join(ctx, st->queue, 5 * MS);
        st->r_join = (int)cv_queue_join(ctx, st->queue, CV_QUEUE_FOREVER);
        st->join_ns = mono_ns();
        st->unfinished_at_join = cv_queue_unfinished(st->queue);
        return 0;
    }
    for (int i = 0; i < JOIN_ITEMS; i++) {
        uint64_t item;
        if (!cv_queue_pop(ctx, st->queue, &item) || !cv_sleep(ctx, 3 * MS))
            return -1;
        st->last_done_ns = mono_ns();
        if (cv_queue_task_done(ctx, st->queue) != 0)
            atomic_fetch_add(&st->violations, 1);
    }
    return 0;
}

/* One put, one get, two task_done: the second is one too many (ValueError). */
static int task_done_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    uint64_t item;
    if (!cv_queue_push(ctx, st->queue, 7) || !cv_queue_pop(ctx, st->queue, &item))
        return -1;
    st->r_done = cv_queue_task_done(ctx, st->queue);
    st->r_done_extra = cv_queue_task_done(ctx, st->queue);
    return 0;
}

#define PHASES 5

static int barrier_role(struct cv_ctx *ctx, uint32_t role)
{
    struct tstate *st = state_of(ctx);
    for (uint32_t p = 0; p < PHASES; p++) {
        cv_cpu(ctx, 200000ull * (role + 1)); /* uneven arrival */
        atomic_fetch_add(&st->arrivals[p], 1);
        uint64_t phase = cv_barrier_wait(ctx, st->barrier);
        if (phase != p || atomic_load(&st->arrivals[p]) != 3)
            atomic_fetch_add(&st->violations, 1);
    }
    return 0;
}

static int counter_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    for (int i = 0; i < 50000; i++)
        if (!cv_counter_add(ctx, st->counter, 0, NULL))
            return -1;
    return 0;
}

/* Holds one of 2 permits for 30 ms. Under epoll tasks 0 and 1 get in first and the rest queue;
 * the queued ones record how many hold a permit with them (2 unless a wake-up was lost). */
static int sem_rounds_task(struct cv_ctx *ctx, uint32_t task)
{
    struct tstate *st = state_of(ctx);
    if (!cv_sem_acquire(ctx, st->sem))
        return -1;
    int now = atomic_fetch_add(&st->inside, 1) + 1;
    cv_sleep(ctx, 10 * 1000000ull);
    if (task >= 2) {
        int seen = atomic_load(&st->max_inside);
        now = atomic_load(&st->inside);
        while (now > seen && !atomic_compare_exchange_weak(&st->max_inside, &seen, now))
            ;
    }
    cv_sleep(ctx, 20 * 1000000ull);
    atomic_fetch_sub(&st->inside, 1);
    cv_sem_release(ctx, st->sem);
    return 0;
}

static int trylock_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    if (!cv_mutex_trylock(ctx, st->mutex))
        return -1;
    bool again = cv_mutex_trylock(ctx, st->mutex); /* held (by us): must fail */
    cv_mutex_unlock(ctx, st->mutex);
    if (again)
        return -2;
    if (!cv_mutex_trylock(ctx, st->mutex)) /* free again */
        return -3;
    cv_mutex_unlock(ctx, st->mutex);
    return 0;
}

static int short_sleep_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    return cv_sleep(ctx, 30 * 1000000ull) ? 0 : -1;
}

static int cpu_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    return cv_cpu(ctx, 50 * 1000000ull) ? 0 : -1;
}

static int long_sleep_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    return cv_sleep(ctx, 10ull * 1000000000ull) ? 0 : -1;
}

static int fail_odd_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)ctx;
    return task % 2 ? -5 : 0;
}

#define MS 1000000ull

/* A wait with a timeout on an Event nobody sets returns false after the timeout. */
static int event_timeout_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    uint64_t t0 = cv_clock_mono_ns();
    if (cv_event_wait(ctx, st->event, 20 * MS) || cv_clock_mono_ns() - t0 < 19 * MS)
        atomic_fetch_add(&st->violations, 1);
    return 0;
}

/* a sets the Event once both others wait; b and c wait without a timeout; then the flag stays
 * set until cleared */
static int event_role(struct cv_ctx *ctx, uint32_t role)
{
    struct tstate *st = state_of(ctx);
    if (role == 0) {
        if (!cv_sleep(ctx, 30 * MS))
            return -1;
        cv_event_set(ctx, st->event);
        return 0;
    }
    if (!cv_event_wait(ctx, st->event, 0) || !cv_event_is_set(st->event))
        atomic_fetch_add(&st->violations, 1);
    atomic_fetch_add(&st->woken, 1);
    if (!cv_event_wait(ctx, st->event, 1 * MS)) /* set: at once */
        atomic_fetch_add(&st->violations, 1);
    return 0;
}

/* clear makes it unset: a wait then times out */
static int event_clear_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    cv_event_set(ctx, st->event);
    cv_event_clear(ctx, st->event);
    if (cv_event_is_set(st->event) || cv_event_wait(ctx, st->event, 5 * MS))
        atomic_fetch_add(&st->violations, 1);
    return 0;
}

/* A waiter: with the lock, wait; woken, it holds the lock again (`inside` is set while it holds
 * it, for 10 ms). */
static int cond_waiter(struct cv_ctx *ctx, struct tstate *st)
{
    if (!cv_mutex_lock(ctx, st->mutex))
        return -1;
    atomic_fetch_add(&st->waiting, 1);
    if (!cv_cond_wait(ctx, st->cond, 0))
        atomic_fetch_add(&st->violations, 1);
    atomic_store(&st->inside, 1);
    atomic_fetch_add(&st->woken, 1);
    cv_sleep(ctx, 10 * MS);
    atomic_store(&st->inside, 0);
    cv_mutex_unlock(ctx, st->mutex);
    return 0;
}

/* notify(1) with two waiting: one wakes, and holds the lock again before the notifier gets it
 * back (the notifier waits for it to say it woke, then for the lock) */
static bool notify_one(struct cv_ctx *ctx, struct tstate *st, uint32_t woken_after)
{
    if (!cv_mutex_lock(ctx, st->mutex))
        return false;
    uint64_t n = cv_cond_notify(ctx, st->cond, 1);
    cv_mutex_unlock(ctx, st->mutex);
    for (int i = 0; i < 5000 && atomic_load(&st->woken) < woken_after; i++)
        if (!cv_sleep(ctx, 1 * MS))
            return false;
    if (!cv_mutex_lock(ctx, st->mutex)) /* waits for the woken one's 10 ms */
        return false;
    if (n != 1 || atomic_load(&st->inside) || atomic_load(&st->woken) != woken_after)
        atomic_fetch_add(&st->violations, 1);
    cv_mutex_unlock(ctx, st->mutex);
    cv_sleep(ctx, 20 * MS);
    return atomic_load(&st->woken) == woken_after; /* no other woken meanwhile */
}

static int cond_role(struct cv_ctx *ctx, uint32_t role)
{
    struct tstate *st = state_of(ctx);
    if (role != 0)
        return cond_waiter(ctx, st);
    while (atomic_load(&st->waiting) < 2) /* each counts itself with the lock held, then waits */
        if (!cv_sleep(ctx, 1 * MS))
            return -1;
    if (!notify_one(ctx, st, 1) || !notify_one(ctx, st, 2))
        atomic_fetch_add(&st->violations, 1);
    if (cv_cond_notify_all(ctx, st->cond) != 0) /* nobody waits now */
        atomic_fetch_add(&st->violations, 1);
    return 0;
}

/* A timed wait nobody notifies returns false with the lock held again. */
static int cond_timeout_task(struct cv_ctx *ctx, uint32_t task)
{
    (void)task;
    struct tstate *st = state_of(ctx);
    if (!cv_mutex_lock(ctx, st->mutex))
        return -1;
    uint64_t t0 = cv_clock_mono_ns();
    if (cv_cond_wait(ctx, st->cond, 15 * MS) || cv_clock_mono_ns() - t0 < 14 * MS ||
        cv_mutex_trylock(ctx, st->mutex))
        atomic_fetch_add(&st->violations, 1);
    cv_mutex_unlock(ctx, st->mutex);
    return 0;
}

static const struct cv_workload wl_event_timeout = {.name = "t_event_timeout",
                                                    .summary = "test",
                                                    .params = no_params,
                                                    .shape = CV_SHAPE_TASKS,
                                                    .plan = plan_workers,
                                                    .setup = setup_signals,
                                                    .task = event_timeout_task};
static const struct cv_workload wl_event = {.name = "t_event",
                                            .summary = "test",
                                            .params = no_params,
                                            .shape = CV_SHAPE_ROLES,
                                            .plan = plan_three_roles,
                                            .setup = setup_signals,
                                            .role = event_role};
static const struct cv_workload wl_event_clear = {.name = "t_event_clear",
                                                  .summary = "test",
                                                  .params = no_params,
                                                  .shape = CV_SHAPE_TASKS,
                                                  .plan = plan_workers,
                                                  .setup = setup_signals,
                                                  .task = event_clear_task};
static const struct cv_workload wl_cond = {.name = "t_cond",
                                           .summary = "test",
                                           .params = no_params,
                                           .shape = CV_SHAPE_ROLES,
                                           .plan = plan_three_roles,
                                           .setup = setup_signals,
                                           .role = cond_role};
static const struct cv_workload wl_cond_timeout = {.name = "t_cond_timeout",
                                                   .summary = "test",
                                                   .params = no_params,
                                                   .shape = CV_SHAPE_TASKS,
                                                   .plan = plan_workers,
                                                   .setup = setup_signals,
                                                   .task = cond_timeout_task};

static const struct cv_workload wl_mutex = {.name = "t_mutex",
                                            .summary = "test",
                                            .params = no_params,
                                            .shape = CV_SHAPE_TASKS,
                                            .plan = plan_workers,
                                            .setup = setup_all,
                                            .task = mutex_task};
static const struct cv_workload wl_hold_short = {.name = "t_hold_short",
                                                 .summary = "test",
                                                 .params = no_params,
                                                 .shape = CV_SHAPE_TASKS,
                                                 .plan = plan_workers,
                                                 .setup = setup_all,
                                                 .task = hold_short_task};
static const struct cv_workload wl_hold_long = {.name = "t_hold_long",
                                                .summary = "test",
                                                .params = no_params,
                                                .shape = CV_SHAPE_TASKS,
                                                .plan = plan_workers,
                                                .setup = setup_all,
                                                .task = hold_long_task};
static const struct cv_workload wl_sem = {.name = "t_sem",
                                          .summary = "test",
                                          .params = no_params,
                                          .shape = CV_SHAPE_TASKS,
                                          .plan = plan_workers,
                                          .setup = setup_all,
                                          .task = sem_task};
static const struct cv_workload wl_queue = {.name = "t_queue",
                                            .summary = "test",
                                            .params = no_params,
                                            .shape = CV_SHAPE_ROLES,
                                            .plan = plan_two_roles,
                                            .setup = setup_all,
                                            .role = queue_role};
static const struct cv_workload wl_queue_timeout = {.name = "t_queue_timeout",
                                                    .summary = "test",
                                                    .params = no_params,
                                                    .shape = CV_SHAPE_TASKS,
                                                    .plan = plan_workers,
                                                    .setup = setup_all,
                                                    .task = queue_timeout_task};
static const struct cv_workload wl_queue_join = {.name = "t_queue_join",
                                                 .summary = "test",
                                                 .params = no_params,
                                                 .shape = CV_SHAPE_ROLES,
                                                 .plan = plan_two_roles,
                                                 .setup = setup_all,
                                                 .role = queue_join_role};
static const struct cv_workload wl_task_done = {.name = "t_task_done",
                                                .summary = "test",
                                                .params = no_params,
                                                .shape = CV_SHAPE_TASKS,
                                                .plan = plan_workers,
                                                .setup = setup_all,
                                                .task = task_done_task};
static const struct cv_workload wl_barrier = {.name = "t_barrier",
                                              .summary = "test",
                                              .params = no_params,
                                              .shape = CV_SHAPE_ROLES,
                                              .plan = plan_three_roles,
                                              .setup = setup_all,
                                              .role = barrier_role};
static const struct cv_workload wl_counter = {.name = "t_counter",
                                              .summary = "test",
                                              .params = no_params,
                                              .shape = CV_SHAPE_TASKS,
                                              .plan = plan_workers,
                                              .setup = setup_all,
                                              .task = counter_task};
static const struct cv_workload wl_cpu = {.name = "t_cpu",
                                          .summary = "test",
                                          .params = no_params,
                                          .shape = CV_SHAPE_TASKS,
                                          .plan = plan_workers,
                                          .setup = setup_all,
                                          .task = cpu_task};
static const struct cv_workload wl_sleep = {.name = "t_sleep",
                                            .summary = "test",
                                            .params = no_params,
                                            .shape = CV_SHAPE_TASKS,
                                            .plan = plan_workers,
                                            .setup = setup_all,
                                            .task = long_sleep_task};
static const struct cv_workload wl_sem_rounds = {.name = "t_sem_rounds",
                                                 .summary = "test",
                                                 .params = no_params,
                                                 .shape = CV_SHAPE_TASKS,
                                                 .plan = plan_workers,
                                                 .setup = setup_all,
                                                 .task = sem_rounds_task};
static const struct cv_workload wl_trylock = {.name = "t_trylock",
                                              .summary = "test",
                                              .params = no_params,
                                              .shape = CV_SHAPE_TASKS,
                                              .plan = plan_workers,
                                              .setup = setup_all,
                                              .task = trylock_task};
static const struct cv_workload wl_nap = {.name = "t_nap",
                                          .summary = "test",
                                          .params = no_params,
                                          .shape = CV_SHAPE_TASKS,
                                          .plan = plan_workers,
                                          .setup = setup_all,
                                          .task = short_sleep_task};
static const struct cv_workload wl_fail = {.name = "t_fail",
                                           .summary = "test",
                                           .params = no_params,
                                           .shape = CV_SHAPE_TASKS,
                                           .plan = plan_workers,
                                           .setup = setup_all,
                                           .task = fail_odd_task};

/* A run of workload `wl` under `model` with `workers` (0 = roles), via a scenario file. */
struct trun {
    struct cv_scenario *sc;
    struct cv_run *run;
    struct cv_value *sum;
    char path[64];
};

static void trun_create(struct trun *t, const char *wl, const char *model, unsigned workers,
                        int gil)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "/tmp/cv_prims_XXXXXX");
    int fd = mkstemp(t->path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "[scenario]\nname = t\ntitle = t\nlesson = t\nworkload = %s\nmodels = serial threads "
            "epoll\n",
            wl);
    fclose(f);
    char *cause = NULL;
    assert_int_equal(cv_scenario_load(t->path, &t->sc, &cause), CV_OK);
    struct cv_run_config cfg = {
        .scenario = t->sc, .model = cv_model_from_name(model), .workers = workers, .gil = gil};
    int rc = cv_run_create(&cfg, &t->run, &cause);
    if (rc != CV_OK)
        fail_msg("cv_run_create: %s", cause);
    assert_int_equal(cv_run_start(t->run, &cause), CV_OK);
}

static void trun_finish(struct trun *t)
{
    char *cause = NULL;
    int rc = cv_run_finish(t->run, &cause);
    if (rc != CV_OK)
        fail_msg("cv_run_finish: %s", cause);
    t->sum = cv_run_summary(t->run, false, NULL);
}

static void trun_run(struct trun *t, const char *wl, const char *model, unsigned workers, int gil)
{
    trun_create(t, wl, model, workers, gil);
    trun_finish(t);
}

static void trun_free(struct trun *t)
{
    cv_value_free(t->sum);
    cv_run_destroy(t->run);
    cv_scenario_free(t->sc);
    unlink(t->path);
}

static double field(const struct cv_value *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const struct cv_value *cur = v;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save))
        cur = cv_value_child(cur, tok);
    if (!cur || cur->type != CV_VAL_NUM)
        fail_msg("no numeric field %s", path);
    return cur->num;
}

static struct tstate *tstate(struct trun *t)
{
    return cv_run_workload_state(t->run);
}

static void test_mutex_excludes_and_counts(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_mutex", "threads", 4, 0);
    assert_int_equal(tstate(&t)->plain, 4 * MUTEX_ITERS);
    assert_int_equal((int)field(t.sum, "locks.m.acquisitions"), 4 * MUTEX_ITERS);
    assert_true(field(t.sum, "locks.m.contended") > 0);
    assert_true(field(t.sum, "locks.m.wait_s_total") > 0);
    assert_true(field(t.sum, "locks.m.hold_s_total") > 0);
    assert_int_equal((int)field(t.sum, "events.dropped"), 0);
    trun_free(&t);
}

/* The main lane's ring has the pages of its burst of submits made when the run is created
 * (one call, not a trap a page while the run starts); every other lane's producer makes its own
 * ahead of its writes (cv__ring_make_ahead), so a worker's ring starts with nothing made, and a
 * lane that records little holds little. */
static void test_submit_pages_made_at_start(void **unused)
{
    (void)unused;
    struct trun t;
    trun_create(&t, "t_mutex", "threads", 4, 0);
    struct cv_run *run = t.run;
    struct cv_ring *r0 = run->rings[0];
    assert_true(r0->made >= run->ntasks + 1);
    if (!pages_present(cv_ring_slots(r0), r0->made * sizeof(struct cv_event)))
        fail_msg("the main lane's first %zu slots are not all made", (size_t)r0->made);
    trun_finish(&t);
    for (uint32_t i = 1; i < run->nlanes; i++) /* 4 x 20,000 holds: made ahead as they went */
        assert_true(run->rings[i]->made >= 2 * CV_RING_REWIND_EVERY);
    trun_free(&t);
}

/* Uncontended holds (one lane): one lock.pair event each, the figures exact. */
static void test_mutex_uncontended_pairs(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_mutex", "serial", 0, 0);
    double tasks = field(t.sum, "tasks.completed");
    assert_true(tasks >= 1);
    assert_int_equal((int)field(t.sum, "locks.m.acquisitions"), (int)tasks * MUTEX_ITERS);
    assert_int_equal((int)field(t.sum, "locks.m.contended"), 0);
    assert_true(field(t.sum, "locks.m.hold_s_total") > 0);
    /* one event per hold, and a handful for the lane and its tasks */
    assert_true(field(t.sum, "events.recorded") < tasks * (MUTEX_ITERS + 10) + 10);
    assert_int_equal((int)field(t.sum, "events.dropped"), 0);
    trun_free(&t);
}

/* A hold whose CPU work passes CV_PENDING_CPU_NS is recorded while it lasts (lock.held, then
 * lock.release: one event more per hold than a short one), its hold time whole. */
static void test_mutex_long_hold_recorded_early(void **unused)
{
    (void)unused;
    struct trun s, l;
    trun_run(&s, "t_hold_short", "serial", 0, 0);
    trun_run(&l, "t_hold_long", "serial", 0, 0);
    double tasks = field(l.sum, "tasks.completed");
    assert_true(tasks >= 1 && tasks == field(s.sum, "tasks.completed"));
    assert_int_equal((int)field(l.sum, "locks.m.acquisitions"), (int)tasks * HOLDS);
    assert_int_equal((int)field(s.sum, "locks.m.acquisitions"), (int)tasks * HOLDS);
    assert_int_equal((int)(field(l.sum, "events.recorded") - field(s.sum, "events.recorded")),
                     (int)tasks * HOLDS);
    /* CPU work is calibrated units: a loaded host calibrates them slow, hence the margin */
    assert_true(field(l.sum, "locks.m.hold_s_total") >= tasks * HOLDS * 0.001);
    assert_true(field(l.sum, "locks.m.hold_s_total") > 10 * field(s.sum, "locks.m.hold_s_total"));
    trun_free(&s);
    trun_free(&l);
}

static void test_semaphore_bounds_holders(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_sem", "threads", 6, 0);
    assert_int_equal(atomic_load(&tstate(&t)->max_inside), 2);
    assert_int_equal((int)field(t.sum, "locks.s.acquisitions"), 6);
    assert_true(field(t.sum, "locks.s.contended") >= 1);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 6);
    trun_free(&t);
}

static void test_queue_fifo_and_bounded(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_queue", "threads", 0, 0);
    assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
    assert_int_equal(atomic_load(&tstate(&t)->sum), (uint64_t)QUEUE_ITEMS * (QUEUE_ITEMS + 1) / 2);
    assert_true(field(t.sum, "queues.q.max_depth") <= 4);
    assert_int_equal((int)field(t.sum, "queues.q.pushed"), QUEUE_ITEMS);
    assert_int_equal((int)field(t.sum, "queues.q.popped"), QUEUE_ITEMS);
    trun_free(&t);
}

/* A lane figure summed over every lane (lane names differ between models). */
static double lanes_sum(const struct cv_value *sum, const char *key)
{
    const struct cv_value *lanes = cv_value_get(sum, "lanes");
    double total = 0;
    for (size_t i = 0; lanes && i < lanes->n; i++) {
        const struct cv_value *v = cv_value_get(lanes->items[i], key);
        total += v && v->type == CV_VAL_NUM ? v->num : 0;
    }
    return total;
}

/* put and get give up after about their timeout (generous bounds: a busy 2-core machine) and
 * say so; the summary counts them. */
static void check_queue_timeouts(const char *model)
{
    struct trun t;
    trun_run(&t, "t_queue_timeout", model, 1, 0);
    struct tstate *st = tstate(&t);
    assert_int_equal(st->r_put, CV_QUEUE_TIMED_OUT);
    assert_int_equal(st->r_put_now, CV_QUEUE_TIMED_OUT);
    assert_int_equal(st->r_get, CV_QUEUE_TIMED_OUT);
    assert_true(st->put_ns >= 49 * MS && st->put_ns < 2000 * MS);
    assert_true(st->get_ns >= 49 * MS && st->get_ns < 2000 * MS);
    assert_int_equal((int)field(t.sum, "queues.q.put_timeouts"), 2);
    assert_int_equal((int)field(t.sum, "queues.q.get_timeouts"), 1);
    assert_int_equal((int)field(t.sum, "queues.q.pushed"), 4);
    assert_int_equal((int)field(t.sum, "queues.q.unfinished"), 4); /* no task_done */
    assert_true(lanes_sum(t.sum, "queue_wait_s") >= 0.09);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 1);
    trun_free(&t);
}

static void test_queue_timeouts(void **unused)
{
    (void)unused;
    check_queue_timeouts("threads");
    check_queue_timeouts("epoll");
}

/* join gives up at its timeout while tasks are unfinished, then returns only after the last
 * task_done, with none unfinished. */
static void check_queue_join(const char *model)
{
    struct trun t;
    trun_run(&t, "t_queue_join", model, 0, 0);
    struct tstate *st = tstate(&t);
    assert_int_equal(st->r_join_short, CV_QUEUE_TIMED_OUT);
    assert_int_equal(st->r_join, CV_QUEUE_OK);
    assert_true(st->join_ns >= st->last_done_ns);
    assert_int_equal(st->unfinished_at_join, 0);
    assert_int_equal(atomic_load(&st->violations), 0);
    assert_int_equal((int)field(t.sum, "queues.q.join_waits"), 2);
    assert_int_equal((int)field(t.sum, "queues.q.join_timeouts"), 1);
    assert_int_equal((int)field(t.sum, "queues.q.unfinished"), 0);
    assert_int_equal((int)field(t.sum, "queues.q.popped"), JOIN_ITEMS);
    assert_true(lanes_sum(t.sum, "queue_wait_s") >= 0.03);
    trun_free(&t);
}

static void test_queue_join_waits_for_last_task_done(void **unused)
{
    (void)unused;
    check_queue_join("threads");
    check_queue_join("epoll");
}

static void test_task_done_too_many(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_task_done", "threads", 1, 0);
    assert_int_equal(tstate(&t)->r_done, 0);
    assert_int_equal(tstate(&t)->r_done_extra, CV_ERR_USAGE);
    assert_int_equal(cv_queue_unfinished(tstate(&t)->queue), 0);
    assert_int_equal((int)field(t.sum, "queues.q.unfinished"), 0);
    trun_free(&t);
}

static void test_barrier_phases(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_barrier", "threads", 0, 0);
    assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
    for (int p = 0; p < PHASES; p++)
        assert_int_equal(atomic_load(&tstate(&t)->arrivals[p]), 3);
    /* Every lane but the last to arrive waited at some barrier. */
    assert_true(field(t.sum, "lanes.a.barrier_s") > 0);
    assert_true(field(t.sum, "lanes.b.barrier_s") > 0);
    assert_int_equal((int)field(t.sum, "locks.b.acquisitions"), 3 * PHASES);
    trun_free(&t);
}

static void test_atomic_counter_exact(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_counter", "threads", 4, 0);
    assert_int_equal(cv_counter_value(tstate(&t)->counter), 4 * 50000);
    trun_free(&t);
}

static void test_gil_serialises_cpu(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_cpu", "threads", 2, 1);
    /* Two tasks of 50 ms CPU under one GIL cannot overlap: at least ~100 ms of wall time. */
    assert_true(field(t.sum, "wall_s") >= 0.08);
    assert_true(field(t.sum, "results.gil_switches") > 0);
    assert_true(field(t.sum, "lanes.worker-1.gil_wait_s") +
                    field(t.sum, "lanes.worker-2.gil_wait_s") >
                0.02);
    assert_int_equal((int)field(t.sum, "locks.GIL.acquisitions") >= 2, 1);
    trun_free(&t);
}

static void test_serial_runs_on_one_lane(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_counter", "serial", 3, 0);
    /* serial runs one worker whatever was asked */
    assert_int_equal((int)field(t.sum, "workers"), 1);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 1);
    assert_int_equal((int)field(t.sum, "runtime.os_threads"), 1);
    trun_free(&t);
}

static void test_failed_tasks_counted(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_fail", "threads", 4, 0);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 2);
    assert_int_equal((int)field(t.sum, "tasks.failed"), 2);
    trun_free(&t);
}

/* Regression: releases that free several permits before a woken waiter runs must each let a
 * waiter in (a shared "woken" flag once made this run one task at a time). */
static void test_semaphore_uses_every_permit(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_sem_rounds", "epoll", 8, 0);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 8);
    assert_int_equal(atomic_load(&tstate(&t)->max_inside), 2);
    trun_free(&t);
}

static void test_trylock(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_trylock", "serial", 1, 0);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 1);
    assert_int_equal((int)field(t.sum, "locks.m.acquisitions"), 2);
    assert_int_equal((int)field(t.sum, "locks.m.contended"), 0);
    trun_free(&t);
}

static void test_sleep_is_io(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_nap", "threads", 3, 0);
    /* each lane waited at least its 30 ms in I/O (overlap is checked by gather-sleep's test) */
    for (int w = 1; w <= 3; w++) {
        char path[64];
        snprintf(path, sizeof path, "lanes.worker-%d.io_s", w);
        assert_true(field(t.sum, path) >= 0.029);
    }
    assert_true(field(t.sum, "wall_s") >= 0.029);
    trun_free(&t);
}

static void test_stop_interrupts_waits(void **unused)
{
    (void)unused;
    struct trun t;
    trun_create(&t, "t_sleep", "threads", 2, 0);
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    cv_run_stop(t.run);
    trun_finish(&t);
    assert_int_equal(cv_run_state(t.run), CV_RUN_STOPPED);
    assert_true(field(t.sum, "wall_s") < 5.0);
    assert_int_equal((int)field(t.sum, "tasks.cancelled"), 2);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 0);
    trun_free(&t);
}

static void test_usage_errors(void **unused)
{
    (void)unused;
    char path[] = "/tmp/cv_prims_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("[scenario]\nname = t\ntitle = t\nlesson = t\nworkload = t_queue\nmodels = threads\n", f);
    fclose(f);
    struct cv_scenario *sc = NULL;
    char *cause = NULL;
    assert_int_equal(cv_scenario_load(path, &sc, &cause), CV_OK);
    struct cv_run *run = NULL;
    struct cv_run_config cfg = {.scenario = sc, .model = CV_MODEL_SERIAL, .gil = -1};
    assert_int_equal(cv_run_create(&cfg, &run, &cause), CV_ERR_USAGE);
    assert_string_equal(cause, "scenario t does not support model serial (supported: threads)");
    free(cause);
    cfg.model = CV_MODEL_THREADS;
    cfg.workers = 3;
    assert_int_equal(cv_run_create(&cfg, &run, &cause), CV_ERR_USAGE);
    assert_non_null(strstr(cause, "sizes its workers by role"));
    free(cause);
    cv_scenario_free(sc);
    unlink(path);
}

static void test_event_wait_times_out(void **unused)
{
    (void)unused;
    static const char *const models[] = {"threads", "epoll"};
    for (size_t m = 0; m < 2; m++) {
        struct trun t;
        trun_run(&t, "t_event_timeout", models[m], 3, 0);
        assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
        assert_int_equal((int)field(t.sum, "locks.e.timeouts"), 3);
        assert_int_equal((int)field(t.sum, "locks.e.waits"), 3);
        assert_int_equal((int)field(t.sum, "locks.e.wakes"), 0);
        /* a pool's first lane, or the event loop's first task */
        assert_true(field(t.sum, m ? "lanes.task-0.event_wait_s" : "lanes.worker-1.event_wait_s") >=
                    0.019);
        trun_free(&t);
    }
}

static void test_event_set_wakes_all(void **unused)
{
    (void)unused;
    static const char *const models[] = {"threads", "epoll"};
    for (size_t m = 0; m < 2; m++) {
        struct trun t;
        trun_run(&t, "t_event", models[m], 0, 0);
        assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
        assert_int_equal(atomic_load(&tstate(&t)->woken), 2);
        assert_int_equal((int)field(t.sum, "locks.e.sets"), 1);
        assert_int_equal((int)field(t.sum, "locks.e.wakes"), 2);
        assert_true(field(t.sum, "lanes.b.event_wait_s") > 0.01);
        assert_true(field(t.sum, "lanes.c.event_wait_s") > 0.01);
        trun_free(&t);
    }
    struct trun t;
    trun_run(&t, "t_event_clear", "threads", 1, 0);
    assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
    assert_int_equal((int)field(t.sum, "locks.e.clears"), 1);
    assert_int_equal((int)field(t.sum, "locks.e.timeouts"), 1);
    trun_free(&t);
}

static void test_event_waits_release_the_gil(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_event", "threads", 0, 1);
    assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
    assert_int_equal((int)field(t.sum, "locks.e.wakes"), 2);
    /* the setter got the GIL while b and c waited: they did not hold it */
    assert_true(field(t.sum, "lanes.a.gil_wait_s") < 0.01);
    trun_free(&t);
}

static void test_cond_notify_one_and_reacquire(void **unused)
{
    (void)unused;
    static const char *const models[] = {"threads", "epoll"};
    for (size_t m = 0; m < 2; m++) {
        struct trun t;
        trun_run(&t, "t_cond", models[m], 0, 0);
        assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
        assert_int_equal(atomic_load(&tstate(&t)->woken), 2);
        assert_int_equal((int)field(t.sum, "locks.cv.waits"), 2);
        assert_int_equal((int)field(t.sum, "locks.cv.notifies"), 3);
        assert_int_equal((int)field(t.sum, "locks.cv.wakes"), 2);
        /* the one woken second waited through the first one's turn */
        assert_true(field(t.sum, "lanes.b.cond_wait_s") + field(t.sum, "lanes.c.cond_wait_s") >
                    0.03);
        trun_free(&t);
    }
}

static void test_cond_wait_times_out_with_the_lock(void **unused)
{
    (void)unused;
    struct trun t;
    trun_run(&t, "t_cond_timeout", "threads", 2, 0);
    assert_int_equal(atomic_load(&tstate(&t)->violations), 0);
    assert_int_equal((int)field(t.sum, "locks.cv.timeouts"), 2);
    assert_int_equal((int)field(t.sum, "tasks.completed"), 2);
    trun_free(&t);
}

static int register_all(void **unused)
{
    (void)unused;
    const struct cv_workload *all[] = {
        &wl_mutex,        &wl_sem,           &wl_queue,      &wl_barrier,     &wl_counter,
        &wl_cpu,          &wl_sleep,         &wl_fail,       &wl_trylock,     &wl_nap,
        &wl_sem_rounds,   &wl_event_timeout, &wl_event,      &wl_event_clear, &wl_cond,
        &wl_cond_timeout, &wl_queue_timeout, &wl_queue_join, &wl_task_done,   &wl_hold_short,
        &wl_hold_long};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (cv_workload_register(all[i]) != CV_OK)
            return -1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutex_excludes_and_counts),
        cmocka_unit_test(test_mutex_uncontended_pairs),
        cmocka_unit_test(test_mutex_long_hold_recorded_early),
        cmocka_unit_test(test_submit_pages_made_at_start),
        cmocka_unit_test(test_semaphore_bounds_holders),
        cmocka_unit_test(test_queue_fifo_and_bounded),
        cmocka_unit_test(test_queue_timeouts),
        cmocka_unit_test(test_queue_join_waits_for_last_task_done),
        cmocka_unit_test(test_task_done_too_many),
        cmocka_unit_test(test_barrier_phases),
        cmocka_unit_test(test_atomic_counter_exact),
        cmocka_unit_test(test_gil_serialises_cpu),
        cmocka_unit_test(test_serial_runs_on_one_lane),
        cmocka_unit_test(test_failed_tasks_counted),
        cmocka_unit_test(test_semaphore_uses_every_permit),
        cmocka_unit_test(test_trylock),
        cmocka_unit_test(test_sleep_is_io),
        cmocka_unit_test(test_stop_interrupts_waits),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_event_wait_times_out),
        cmocka_unit_test(test_event_set_wakes_all),
        cmocka_unit_test(test_event_waits_release_the_gil),
        cmocka_unit_test(test_cond_notify_one_and_reacquire),
        cmocka_unit_test(test_cond_wait_times_out_with_the_lock),
    };
    return cmocka_run_group_tests(tests, register_all, NULL);
}

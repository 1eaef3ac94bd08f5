/*
 * epoll: one OS thread, like asyncio. Every task is a coroutine (coro.c) started at once, as
 * create_task does; at every wait (sleep, lock, semaphore, queue, barrier) the task parks, which
 * switches back to the loop. The loop runs ready tasks, then waits in epoll_wait until the
 * earliest timer or an I/O event. CPU work inside a task blocks the loop, and the loop lane shows
 * it: busy between polls, idle inside them.
 *
 * Lanes: lane 0 is the loop (it also submits), lanes 1..n are the tasks. Every lane is written by
 * this one thread. Another thread (or a signal handler) wakes a task by setting its flag and
 * writing the loop's eventfd. hybrid (hybrid.c) is the same loop plus executor lanes n+1..n+w.
 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Events per task lane. A ring is touched only as far as its lane writes, so a big one costs
 * address space, not memory; thousands of tasks get smaller ones to keep even that modest. */
#define TASK_RING_MANY (1u << 14)
#define XPROC_TAG      (UINT64_C(1) << 40) /* epoll data of an executor process's return pipe */

uint32_t cv__loop_lanes(const struct cv_run *run)
{
    return 1 + task_count(run) + offload_count(run);
}

void cv__loop_lane_name(const struct cv_run *run, uint32_t lane, char *buf, size_t n)
{
    if (lane == 0)
        snprintf(buf, n, "loop");
    else if (lane > task_count(run))
        snprintf(buf, n, "offload-%u", lane - task_count(run));
    else if (run->wl->shape == CV_SHAPE_ROLES && lane - 1 < run->nroles)
        snprintf(buf, n, "%s", run->role_names[lane - 1]);
    else
        snprintf(buf, n, "task-%u", lane - 1);
}

size_t cv__loop_ring_size(const struct cv_run *run, uint32_t lane)
{
    if (lane == 0 || lane > task_count(run))
        return run->ring_capacity;
    return task_count(run) <= LOOP_MANY_TASKS ? run->ring_capacity : TASK_RING_MANY;
}

const struct cv_wait_ops cv__loop_wait = {.park = cv__co_park,
                                          .unpark = cv__co_unpark,
                                          .http_get = cv__co_http_get,
                                          .offload = cv__co_offload};

/* The loop */

static void take_remote(struct loop *L)
{
    uint64_t n;
    while (read(L->evfd, &n, sizeof n) < 0 && errno == EINTR)
        ;
    bool stopping = cv_stopping(&L->run->ctxs[0]);
    for (uint32_t lane = 1; lane <= L->ntask_lanes; lane++) {
        struct co *c = &L->cos[lane];
        if (atomic_exchange(&L->remote[lane], 0) || (stopping && c->state == CO_PARKED)) {
            if (c->state == CO_PARKED)
                cv__co_make_ready(L, c);
            else if (c->state != CO_DONE)
                c->wake_pending = true;
        }
    }
}

/* wait_for: a task still running past its time is reported and cancelled at its wait. */
static uint64_t give_up_tasks(struct loop *L)
{
    if (!L->run->task_timeout_ns)
        return 0;
    uint64_t now = cv_clock_mono_ns(), next = 0;
    for (uint32_t lane = 1; lane <= L->ntask_lanes; lane++) {
        struct co *c = &L->cos[lane];
        if (!c->give_up || c->state == CO_DONE)
            continue;
        if (c->give_up > now) {
            if (!next || c->give_up < next)
                next = c->give_up;
            continue;
        }
        c->give_up = 0;
        struct cv_ctx *ctx = &L->run->ctxs[lane];
        cv_ring_record(ctx->ring, CV_EV_TASK_TIMEOUT, (uint16_t)lane, lane - 1, CV_NO_OBJ, 0);
        atomic_fetch_or(&L->run->task_flags[lane - 1], CV__TASK_CANCEL);
        if (c->state == CO_PARKED)
            cv__co_make_ready(L, c);
        else
            c->wake_pending = true;
    }
    return next;
}

static int poll_timeout_ms(struct loop *L)
{
    if (L->ready_n)
        return 0;
    uint64_t due = L->ntimers ? L->timers[0]->deadline : 0;
    uint64_t give_up = give_up_tasks(L);
    if (give_up && (!due || give_up < due))
        due = give_up;
    if (L->curl_due && (!due || L->curl_due < due))
        due = L->curl_due;
    uint64_t watch = cv__xproc_due(L);
    if (watch && (!due || watch < due))
        due = watch;
    if (!due)
        return 1000; /* nothing scheduled: wake now and then to notice a stop */
    uint64_t now = cv_clock_mono_ns();
    if (due <= now)
        return 0;
    uint64_t ms = (due - now + 999999) / 1000000;
    return ms > 1000 ? 1000 : (int)ms;
}

int cv__loop_run(struct cv_run *run)
{
    struct loop L = {
        .run = run, .thread = pthread_self(), .ncos = run->nlanes, .ntask_lanes = task_count(run)};
    struct pool_arg *pool_args = cv_xcalloc(offload_count(run) + 1, sizeof *pool_args);
    pthread_mutex_init(&L.pool_mu, NULL);
    pthread_cond_init(&L.pool_cv, NULL);
    struct cv_ctx *loop_ctx = &run->ctxs[0];
    int rc = 0;
    L.cos = cv_xcalloc(L.ncos, sizeof *L.cos);
    san_fiber_init_current(&L.san);
    L.ready = cv_xcalloc(L.ncos, sizeof *L.ready);
    L.timers = cv_xcalloc(L.ncos, sizeof *L.timers);
    L.remote = cv_xcalloc(L.ncos, sizeof *L.remote);
    L.epfd = L.evfd = -1;
    /* the first task whose stack could not be made, and why: reported once the loop has freed
     * every stack, since short of memory, the message itself could not be allocated before */
    uint32_t stack_fail = UINT32_MAX;
    int stack_err = 0;
    bool xprocs = run->ops->id == CV_MODEL_HYBRID && !strcmp(cv_param_str(run, "offload"), "procs");
    if (xprocs) {
        /* a write to a dead executor process's pipe must fail with EPIPE, not end concviz */
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    }
    if (xprocs && cv__xproc_start(&L) != 0) {
        rc = -1;
        goto out;
    }
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    L.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (L.epfd < 0 || L.evfd < 0) {
        cv_run_error(run, "cannot create the event loop: %s", strerror(errno));
        rc = -1;
        goto out;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.evfd, &ev);
    for (uint32_t i = 0; i < L.nxprocs; i++) {
        struct epoll_event xev = {.events = EPOLLIN, .data.u64 = XPROC_TAG + i};
        epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.xprocs[i].from, &xev);
    }
    L.multi = curl_multi_init();
    if (!L.multi) {
        cv_run_error(run, "cannot start libcurl's multi interface");
        rc = -1;
        goto out;
    }
    curl_multi_setopt(L.multi, CURLMOPT_SOCKETFUNCTION, cv__curl_socket);
    curl_multi_setopt(L.multi, CURLMOPT_SOCKETDATA, &L);
    curl_multi_setopt(L.multi, CURLMOPT_TIMERFUNCTION, cv__curl_timer);
    curl_multi_setopt(L.multi, CURLMOPT_TIMERDATA, &L);
    cv__g_loop = &L;
    if (!xprocs && cv__pool_start(&L, pool_args) != 0) {
        rc = -1;
        cv_run_stop(run);
    }
    run->os_threads = 1 + L.npool + L.nxprocs;
    run->os_processes = 1 + L.nxprocs;

    cv__submit_all(run);
    uint32_t ntasks = task_count(run);
    /* create_task for every task: each starts at the loop's next turn */
    uint32_t done = 0;
    for (uint32_t lane = 1; lane <= L.ntask_lanes; lane++) {
        L.cos[lane].lane = lane;
        L.cos[lane].state = CO_NEW;
        cv__co_make_ready(&L, &L.cos[lane]);
    }
    while (done < ntasks) {
        /* run what is ready, in order */
        size_t n = L.ready_n;
        for (size_t k = 0; k < n; k++) {
            struct co *c = &L.cos[L.ready[L.ready_head]];
            L.ready_head = (L.ready_head + 1) % L.ncos;
            L.ready_n--;
            if (c->state == CO_NEW && cv_stopping(loop_ctx)) {
                /* the run stopped before this task started: cancelled, never run */
                cv_ring_record(loop_ctx->ring, CV_EV_TASK_CANCEL, 0, c->lane - 1, CV_NO_OBJ, 0);
                c->state = CO_DONE;
                done++;
                continue;
            }
            int err;
            if (c->state == CO_NEW)
                cv__lane_spawning(run, c->lane);
            if (c->state == CO_NEW && (err = cv__co_start(&L, c)) != 0) {
                cv_ring_record(loop_ctx->ring, CV_EV_TASK_CANCEL, 0, c->lane - 1, CV_NO_OBJ, 0);
                if (stack_fail == UINT32_MAX) {
                    stack_fail = c->lane - 1;
                    stack_err = -err;
                }
                c->state = CO_DONE;
                done++;
                rc = -1;
                cv_run_stop(run);
                continue;
            }
            if (c->state == CO_NEW && run->task_timeout_ns)
                c->give_up = cv_clock_mono_ns() + run->task_timeout_ns;
            c->state = CO_RUNNING;
            L.current = c;
            san_switch_begin(&L.san, &c->san);
            swapcontext(&L.loop_uc, &c->uc);
            san_switch_end(&L.san, NULL);
            L.current = NULL;
            if (c->state == CO_PARKED && c->http)
                cv__curl_start(&L, c);
            if (c->state == CO_DONE) {
                cv__co_free(c);
                done++;
            }
        }
        if (L.stop_after) {
            L.stop_after = false;
            cv_run_stop(run);
        }
        if (done == ntasks)
            break;
        int timeout = poll_timeout_ms(&L);
        struct epoll_event evs[64];
        cv_emit(loop_ctx, CV_EV_LOOP_POLL_BEGIN, CV_NO_OBJ, (uint64_t)timeout);
        int got = epoll_wait(L.epfd, evs, 64, timeout);
        cv_emit(loop_ctx, CV_EV_LOOP_POLL_END, CV_NO_OBJ, got > 0 ? (uint64_t)got : 0);
        if (got < 0 && errno != EINTR) {
            cv_run_error(run, "epoll_wait: %s", strerror(errno));
            rc = -1;
            break;
        }
        int running;
        for (int i = 0; i < got; i++) {
            if (evs[i].data.u64 == UINT64_MAX) {
                take_remote(&L);
                continue;
            }
            if (evs[i].data.u64 >= XPROC_TAG) {
                cv__xproc_readable(&L, (uint32_t)(evs[i].data.u64 - XPROC_TAG));
                continue;
            }
            int what = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(L.multi, (curl_socket_t)evs[i].data.u64, what, &running);
        }
        if (L.curl_due && L.curl_due <= cv_clock_mono_ns()) {
            L.curl_due = 0;
            curl_multi_socket_action(L.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        cv__curl_done(&L);
        if (cv_stopping(loop_ctx))
            take_remote(&L);
        cv__expire_timers(&L);
        give_up_tasks(&L);
        cv__xproc_watch(&L);
    }
    cv_emit(loop_ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
out:
    cv__pool_stop(&L);
    cv__xproc_stop(&L);
    if (L.failed)
        rc = -1;
    free(pool_args);
    if (L.multi)
        curl_multi_cleanup(L.multi);
    cv__g_loop = NULL;
    for (uint32_t lane = 1; lane < L.ncos; lane++)
        cv__co_free(&L.cos[lane]);
    if (L.epfd >= 0)
        close(L.epfd);
    if (L.evfd >= 0)
        close(L.evfd);
    pthread_mutex_destroy(&L.pool_mu);
    pthread_cond_destroy(&L.pool_cv);
    free(L.cos);
    free(L.ready);
    free(L.timers);
    free((void *)L.remote);
    if (stack_fail != UINT32_MAX)
        cv_run_error(run, "out of memory: cannot allocate a stack for task %u: %s", stack_fail,
                     strerror(stack_err));
    return rc;
}

const struct cv_model_ops cv__model_epoll = {
    .id = CV_MODEL_EPOLL,
    .lanes = cv__loop_lanes,
    .run = cv__loop_run,
    .wait = &cv__loop_wait,
    .lane_name = cv__loop_lane_name,
    .ring_size = cv__loop_ring_size,
};

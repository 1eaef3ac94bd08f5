/* Coroutines: every task of the loop runs on a stack of its own, switched to with swapcontext
 * (and told to the sanitizers, fiber-san.h). A task parks by switching back to the loop; the
 * loop, or another thread through the loop's eventfd, makes it ready again. */
#include "loop.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

/* Memcheck must be told about stacks we switch to, or it takes every coroutine switch for a
 * huge stack frame and every access on a coroutine stack for an invalid one. The client
 * requests are a few no-op instructions when not running under valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef VALGRIND_STACK_REGISTER
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id)   ((void)(id))
#endif

#define STACK_BYTES (256u << 10) /* virtual; a task touches a few pages of it */

/* One run at a time per process uses the epoll model. Read by other threads (cv__co_unpark). */
struct loop *_Atomic cv__g_loop;

void cv__co_park(struct cv_ctx *ctx, uint64_t deadline_ns)
{
    struct loop *L = cv__g_loop;
    struct co *c = &L->cos[ctx->lane];
    if (c->wake_pending) {
        c->wake_pending = false;
        return;
    }
    c->state = CO_PARKED;
    c->deadline = deadline_ns;
    if (deadline_ns)
        cv__timer_add(L, c);
    san_switch_begin(&c->san, &L->san);
    swapcontext(&c->uc, &L->loop_uc);
    san_switch_end(&c->san, &L->san);
    /* resumed by the loop: woken, or the deadline passed */
}

void cv__co_unpark(struct cv_run *run, uint32_t lane)
{
    struct loop *L = cv__g_loop;
    if (!L || lane == 0 || lane > L->ntask_lanes)
        return;
    if (!pthread_equal(pthread_self(), L->thread)) {
        /* another thread or a signal handler: async-signal-safe hand-over */
        atomic_store(&L->remote[lane], 1);
        uint64_t one = 1;
        ssize_t w = write(L->evfd, &one, sizeof one);
        (void)w;
        return;
    }
    (void)run;
    struct co *c = &L->cos[lane];
    if (c->state == CO_PARKED)
        cv__co_make_ready(L, c);
    else if (c->state != CO_DONE)
        c->wake_pending = true;
}

static void co_main(void)
{
    struct loop *L = cv__g_loop;
    struct co *c = L->current;
    san_switch_end(&c->san, &L->san);
    struct cv_ctx *ctx = &L->run->ctxs[c->lane];
    cv__lane_ready(L->run, c->lane);
    cv_emit(ctx, CV_EV_WORKER_START, CV_NO_OBJ, 0);
    cv__run_task(ctx, c->lane - 1);
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    c->state = CO_DONE;
    san_switch_begin(NULL, &L->san); /* this stack is never switched to again */
    setcontext(&L->loop_uc);
}

int cv__co_start(struct loop *L, struct co *c)
{
    c->stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (c->stack == MAP_FAILED) {
        c->stack = NULL;
        return -errno;
    }
    mprotect(c->stack, 4096, PROT_NONE); /* guard page: an overflow faults, not corrupts */
    c->stack_id = VALGRIND_STACK_REGISTER(c->stack, (char *)c->stack + STACK_BYTES);
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = c->stack;
    c->uc.uc_stack.ss_size = STACK_BYTES;
    c->uc.uc_link = &L->loop_uc;
    makecontext(&c->uc, co_main, 0);
    san_fiber_create(&c->san, c->stack, STACK_BYTES);
    return 0;
}

void cv__co_free(struct co *c)
{
    if (c->stack) {
        san_fiber_destroy(&c->san);
        VALGRIND_STACK_DEREGISTER(c->stack_id);
        munmap(c->stack, STACK_BYTES);
    }
    c->stack = NULL;
}

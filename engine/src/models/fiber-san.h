/* Telling the sanitizers about the epoll model's stack switches.
 *
 * The epoll model runs every task on a stack of its own and switches with swapcontext. ASan and
 * TSan each keep per-stack state (ASan: which stack is current, for use-after-return and stack
 * bounds; TSan: the happens-before clock of the running "thread"), and a switch they are not told
 * about makes them report races and stack errors that are not there, or miss real ones. These
 * helpers are empty in a build without sanitizers.
 *
 * The protocol (both sanitizers' documented fiber interfaces):
 *   before a switch:  san_switch_begin(&from->san, to)      (from == NULL: the fiber ends)
 *   right after one:  san_switch_end(&self->san)            (in the context now running)
 */
#ifndef CONCVIZ_FIBER_SAN_H
#define CONCVIZ_FIBER_SAN_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define CV_SAN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CV_SAN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CV_SAN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CV_SAN_TSAN 1
#endif
#endif

#ifdef CV_SAN_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif
#ifdef CV_SAN_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* One execution context: the loop's own stack, or a task's. */
struct san_fiber {
    const void *bottom; /* the stack's lowest address and size (the loop's: learnt on its */
    size_t size;        /* first switch back) */
    void *fake_stack;   /* ASan: its fake stack while it is switched out */
    void *tsan;         /* TSan: its fiber */
};

/* The loop's own context: the thread it runs on. */
static inline void san_fiber_init_current(struct san_fiber *f)
{
    f->bottom = NULL;
    f->size = 0;
    f->fake_stack = NULL;
#ifdef CV_SAN_TSAN
    f->tsan = __tsan_get_current_fiber();
#else
    f->tsan = NULL;
#endif
}

/* A task's context, on the stack [bottom, bottom + size). */
static inline void san_fiber_create(struct san_fiber *f, const void *bottom, size_t size)
{
    f->bottom = bottom;
    f->size = size;
    f->fake_stack = NULL;
#ifdef CV_SAN_TSAN
    f->tsan = __tsan_create_fiber(0);
#else
    f->tsan = NULL;
#endif
}

static inline void san_fiber_destroy(struct san_fiber *f)
{
#ifdef CV_SAN_TSAN
    if (f->tsan)
        __tsan_destroy_fiber(f->tsan);
#endif
    f->tsan = NULL;
}

/* Before switching from `from` (NULL when it ends for good) to `to`. */
static inline void san_switch_begin(struct san_fiber *from, struct san_fiber *to)
{
#ifdef CV_SAN_ASAN
    __sanitizer_start_switch_fiber(from ? &from->fake_stack : NULL, to->bottom, to->size);
#endif
#ifdef CV_SAN_TSAN
    __tsan_switch_to_fiber(to->tsan, 0);
#endif
    (void)from;
    (void)to;
}

/* Right after a switch, in the context now running; `prev`, when given, learns the bounds of the
 * stack switched away from (how the loop's stack becomes known). */
static inline void san_switch_end(struct san_fiber *self, struct san_fiber *prev)
{
#ifdef CV_SAN_ASAN
    const void *bottom = NULL;
    size_t size = 0;
    __sanitizer_finish_switch_fiber(self->fake_stack, prev ? &bottom : NULL, prev ? &size : NULL);
    if (prev && bottom) {
        prev->bottom = bottom;
        prev->size = size;
    }
#endif
    (void)self;
    (void)prev;
}

#endif

/* What runs next on the loop: the ring of ready coroutines, in the order they were made ready,
 * and the heap of timed parks, earliest deadline first. */
#include "loop.h"
#include "core/heap.h"

/* Timer heap: earliest deadline first; each coroutine knows its place (heap_at) */

#define CO_DEADLINE(L, c) ((c)->deadline)
#define CO_MOVED(L, c, i) ((c)->heap_at = (i) + 1)
CV_HEAP_DEFINE(timer_heap, struct co *, struct loop *, CO_DEADLINE, CO_MOVED)

static void heap_up(struct loop *L, size_t i)
{
    timer_heap_up(L->timers, i, L);
}

static void heap_down(struct loop *L, size_t i)
{
    timer_heap_down(L->timers, L->ntimers, i, L);
}

void cv__timer_add(struct loop *L, struct co *c)
{
    L->timers[L->ntimers++] = c;
    heap_up(L, L->ntimers - 1);
}

static void timer_remove(struct loop *L, struct co *c)
{
    if (!c->heap_at)
        return;
    size_t i = c->heap_at - 1;
    c->heap_at = 0;
    struct co *last = L->timers[--L->ntimers];
    if (i == L->ntimers)
        return;
    L->timers[i] = last;
    heap_up(L, i);
    heap_down(L, last->heap_at - 1);
}

void cv__co_make_ready(struct loop *L, struct co *c)
{
    if (c->state != CO_PARKED && c->state != CO_NEW)
        return;
    timer_remove(L, c);
    if (c->state == CO_PARKED)
        c->state = CO_READY;
    L->ready[(L->ready_head + L->ready_n) % L->ncos] = c->lane;
    L->ready_n++;
}

void cv__expire_timers(struct loop *L)
{
    uint64_t now = cv_clock_mono_ns();
    while (L->ntimers && L->timers[0]->deadline <= now)
        cv__co_make_ready(L, L->timers[0]);
}

/* Ring layout and the consumer side; the producer side is inline in ring.h. */
#include "concviz/ring.h"

#include <string.h>

static size_t round_pow2(size_t n)
{
    size_t p = 64;
    while (p < n)
        p <<= 1;
    return p;
}

size_t cv_ring_bytes(size_t capacity)
{
    return sizeof(struct cv_ring) + round_pow2(capacity) * sizeof(struct cv_event);
}

struct cv_ring *cv_ring_init(void *mem, size_t capacity)
{
    struct cv_ring *r = mem;
    memset(r, 0, sizeof *r);
    r->mask = round_pow2(capacity) - 1;
    r->buf_off = sizeof(struct cv_ring);
    return r;
}

size_t cv_ring_drain(struct cv_ring *r, struct cv_event *out, size_t max)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t n = h - t;
    if (n > max)
        n = max;
    const struct cv_event *slots = cv_ring_slots(r);
    uint64_t first = t & r->mask;
    uint64_t run1 = r->mask + 1 - first;
    if (run1 > n)
        run1 = n;
    memcpy(out, slots + first, run1 * sizeof *out);
    memcpy(out + run1, slots, (n - run1) * sizeof *out);
    atomic_store_explicit(&r->tail, t + n, memory_order_release);
    return (size_t)n;
}

uint64_t cv_ring_pending(struct cv_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
           atomic_load_explicit(&r->tail, memory_order_relaxed);
}

uint64_t cv_ring_take_drops(struct cv_ring *r)
{
    uint64_t d = atomic_load_explicit(&r->drops, memory_order_relaxed);
    uint64_t n = d - r->drops_seen;
    r->drops_seen = d;
    return n;
}

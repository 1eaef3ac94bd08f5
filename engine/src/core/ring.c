/* Ring layout and the consumer side; the producer side is inline in ring.h. */
#include "concviz/ring.h"
#include "pages.h"

#include <string.h>

static size_t round_pow2(size_t n)
{
    size_t p = 64;
    while (p < n)
        p <<= 1;
    return p;
}

/* Makes the pages of slots [*made, pos + 2 * CV_RING_REWIND_EVERY) in one call and moves *made
 * there. */
static void make_slots(struct cv_ring *r, uint64_t *made, uint64_t pos, int advice)
{
    uint64_t to = pos + 2 * CV_RING_REWIND_EVERY;
    if (to > r->mask + 1)
        to = r->mask + 1;
    if (to <= *made)
        return;
    cv__pages_advise(cv_ring_slots(r) + *made, (to - *made) * sizeof(struct cv_event), advice);
    *made = to;
}

void cv__ring_make_ahead(struct cv_ring *r, uint64_t pos)
{
    make_slots(r, &r->made, pos, MADV_POPULATE_WRITE);
}

void cv__ring_read_ahead(struct cv_ring *r, uint64_t last)
{
    make_slots(r, &r->read_made, last, MADV_POPULATE_READ);
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
    if (t < h)
        cv_ring_read_ahead(r, h);
    const struct cv_event *slots = cv_ring_slots(r);
    size_t n = 0;
    /* in runs that end at a lap's end or where a rewind marker may be */
    while (t < h && n < max) {
        t = cv_ring_follow(r, t, h);
        uint64_t first = t & r->mask;
        uint64_t run = r->mask + 1 - first;
        uint64_t to_mark = CV_RING_REWIND_EVERY - (t & (CV_RING_REWIND_EVERY - 1));
        if (run > to_mark)
            run = to_mark;
        if (run > h - t)
            run = h - t;
        if (run > max - n)
            run = max - n;
        memcpy(out + n, slots + first, run * sizeof *out);
        n += run;
        t += run;
    }
    atomic_store_explicit(&r->tail, t, memory_order_release);
    return n;
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

/* Per-lane single-producer single-consumer event rings. Recording takes no lock and allocates
 * nothing: stamp, fill a slot, publish with a release store. A full ring counts a drop. */
#ifndef CONCVIZ_RING_H
#define CONCVIZ_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "concviz/clock.h"
#include "concviz/event.h"

/*
 * Lives in shared memory (so forked workers can produce). The producer's and the consumer's
 * fields sit on separate cache lines; buf_off is an offset from the ring itself, never a pointer.
 */
struct cv_ring {
    _Alignas(64) _Atomic uint64_t head; /* written by the producer only */
    uint64_t cached_tail;               /* producer's last view of tail */
    uint64_t gap;                       /* producer's: events lost since it last recorded one */
    uint64_t fastest; /* producer's: the fewest ticks CV_RING_REWIND_EVERY events took; 0: none */
    uint64_t made;    /* producer's: slots whose pages it has made (cv__ring_make_ahead) */
    _Atomic uint64_t drops;             /* events refused because the ring was full */
    _Alignas(64) _Atomic uint64_t tail; /* written by the consumer only */
    uint64_t drops_seen;                /* consumer's view of drops */
    uint64_t read_made;                 /* consumer's: slots it has made (cv_ring_read_ahead) */
    _Alignas(64) uint64_t mask;         /* capacity - 1; capacity is a power of two */
    uint64_t buf_off;                   /* offset of the slots from this struct */
};

/* Bytes needed for a ring of `capacity` slots (rounded up to a power of two, at least 64),
 * header included. */
size_t cv_ring_bytes(size_t capacity);
/* Lays a ring out in `mem` (cv_ring_bytes(capacity) bytes, 64-byte aligned). */
struct cv_ring *cv_ring_init(void *mem, size_t capacity);

static inline struct cv_event *cv_ring_slots(struct cv_ring *r)
{
    return (struct cv_event *)((char *)r + r->buf_off);
}

static inline uint64_t cv_ring_capacity(const struct cv_ring *r)
{
    return r->mask + 1;
}

/*
 * Rewinding. A slot index maps to slot (index & mask), so a lane that records steadily would
 * walk its whole ring, hundreds of pages it touches once each, before the first slot comes round
 * again; a fresh page costs a fault in the producer's process and one in the consumer's (about
 * 18 us in all here: a run of 100,000 tiny tasks in worker processes took 8% longer with events,
 * 3% with rings small enough to wrap). So every CV_RING_REWIND_EVERY indices the producer looks
 * at the consumer's tail, and when the consumer has read past the first quarter of the ring in
 * this lap, it writes a marker (kind CV_RING_SKIP, arg = the next lap's first index) and goes on
 * at the next lap's first index, which is the ring's first slot: a lane the consumer keeps up
 * with stays in its first quarter or so. The indices passed over count as used until the
 * consumer passes the marker (they hold the slots the consumer has read), so the full check
 * stays exact, and the room left at a rewind is the slots before the consumer's. That room must
 * also last CV_RING_REWIND_ROOM_NS at the fastest rate the lane has recorded at (over
 * CV_RING_REWIND_EVERY events): the consumer may be late, and a lane that once recorded tens of
 * millions of events a second, even in a burst after a pause, never rewinds and keeps the whole
 * ring as room. A marker and the event after it are published together. The consumer follows a
 * marker with cv_ring_follow.
 */
#define CV_RING_REWIND_EVERY   4096u        /* a power of two */
#define CV_RING_REWIND_ROOM_NS 100000000ull /* 100 ms */
#define CV_RING_SKIP           0xffffu      /* the kind of a rewind marker: never an event kind */

/* Makes the pages of the slots up to 2 * CV_RING_REWIND_EVERY past slot `pos`, in one call, where
 * the first write to each would cost a trap into the kernel (10-30 us on a virtual machine, 1-2
 * us a page made in bulk). Producer side, at the rewind check's indices. */
void cv__ring_make_ahead(struct cv_ring *r, uint64_t pos);

/* The consumer's side of it, with `last` slots of the lap written: a consumer in another process
 * (the reader of a forked worker's ring, of a traced program's) has the pages up to
 * 2 * CV_RING_REWIND_EVERY slots past them made in its own process before it reads them, once a
 * lap holds CV_RING_REWIND_EVERY events (a lane that records a few events never has more made). */
void cv__ring_read_ahead(struct cv_ring *r, uint64_t last);
/* Before reading up to the producer's head `end` (above 0). */
static inline void cv_ring_read_ahead(struct cv_ring *r, uint64_t end)
{
    uint64_t last = ((end - 1) & r->mask) + 1;
    if (__builtin_expect(last >= CV_RING_REWIND_EVERY &&
                             last + CV_RING_REWIND_EVERY > r->read_made && r->read_made <= r->mask,
                         0))
        cv__ring_read_ahead(r, last);
}

/* At index h, a multiple of CV_RING_REWIND_EVERY past the ring's first slot: the index to record
 * at, the next lap's first after a marker at h when the consumer is far enough on. */
static inline uint64_t cv__ring_rewind(struct cv_ring *r, uint64_t h)
{
    if (r->made <= r->mask && (h & r->mask) + 2 * CV_RING_REWIND_EVERY > r->made)
        cv__ring_make_ahead(r, h & r->mask);
    /* the lane's last CV_RING_REWIND_EVERY events (its own, still in their slots) took now -
     * then; the fastest such run is kept. The clock is read without stepping a stepped fake
     * clock, so that runs on one stay as they were. */
    uint64_t then = cv_ring_slots(r)[(h - CV_RING_REWIND_EVERY) & r->mask].ts;
    uint64_t now = cv_clock_ticks();
    uint64_t took = now > then ? now - then : 0;
    if (!r->fastest || took < r->fastest)
        r->fastest = took;
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    r->cached_tail = t;
    uint64_t pos = h & r->mask, unread = h - t;
    /* the consumer's slot in this lap (not the last), a quarter of the ring or more in */
    if (unread > pos || pos - unread < (r->mask + 1) / 4)
        return h;
    /* the room left, pos - unread slots, lasts the room time at the lane's fastest rate so far:
     * a lane that ever recorded fast (a burst after a pause is the same lane) keeps its ring */
    if ((unsigned __int128)(pos - unread) * cv_clock_ticks_to_ns(r->fastest) <
        (unsigned __int128)CV_RING_REWIND_ROOM_NS * CV_RING_REWIND_EVERY)
        return h;
    uint64_t next = (h | r->mask) + 1;
    struct cv_event *m = &cv_ring_slots(r)[pos];
    m->ts = 0;
    m->arg = next;
    m->task = UINT32_MAX;
    m->obj = UINT32_MAX;
    m->lane = 0;
    m->kind = CV_RING_SKIP;
    m->reserved = 0;
    return next;
}

/* The next free slot, or NULL (a drop, counted) when the ring is full. Producer side. The first
 * event recorded after drops is preceded by a gap event saying how many were lost, so that the
 * consumer knows where the lane's record resumes (it needs two free slots then). */
static inline struct cv_event *cv_ring_reserve(struct cv_ring *r, uint64_t *h_out)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (__builtin_expect(h - r->cached_tail > r->mask, 0)) { /* full, or after drops */
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h - r->cached_tail + (r->gap != 0) > r->mask) {
            /* the producer is its only writer: a plain increment, no locked instruction on a
             * line the consumer reads (a full ring drops event after event) */
            atomic_store_explicit(&r->drops,
                                  atomic_load_explicit(&r->drops, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            r->gap++;
            r->cached_tail = h - r->mask - 1; /* the next call comes back here, for the gap */
            return NULL;
        }
        if (r->gap) {
            struct cv_event *g = &cv_ring_slots(r)[h & r->mask];
            g->ts = cv_clock_stamp();
            g->arg = r->gap;
            g->task = UINT32_MAX;
            g->obj = UINT32_MAX;
            g->lane = 0; /* the consumer knows the ring's lane */
            g->kind = CV_EV_GAP;
            g->reserved = 0;
            r->gap = 0;
            h++;
        }
    } else if (__builtin_expect((h & (CV_RING_REWIND_EVERY - 1)) == 0, 0) && (h & r->mask) != 0) {
        h = cv__ring_rewind(r, h);
    }
    *h_out = h;
    return &cv_ring_slots(r)[h & r->mask];
}

static inline void cv_ring_fill(struct cv_event *e, uint64_t ts, unsigned kind, uint16_t lane,
                                uint32_t task, uint32_t obj, uint64_t arg)
{
    e->ts = ts;
    e->arg = arg;
    e->task = task;
    e->obj = obj;
    e->lane = lane;
    e->kind = (uint16_t)kind;
    e->reserved = 0;
}

/* Records one event, stamped now. Producer side; one producer per ring. */
static inline void cv_ring_record(struct cv_ring *r, unsigned kind, uint16_t lane, uint32_t task,
                                  uint32_t obj, uint64_t arg)
{
#ifdef CONCVIZ_NO_EVENTS /* a build without instrumentation, to measure what it costs */
    (void)r, (void)kind, (void)lane, (void)task, (void)obj, (void)arg;
    return;
#endif
    uint64_t h;
    struct cv_event *e = cv_ring_reserve(r, &h);
    if (!e)
        return;
    cv_ring_fill(e, cv_clock_stamp(), kind, lane, task, obj, arg);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* Records one event stamped `ts` (raw ticks), for a producer that takes over a ring whose own
 * producer is gone (a traced process that died): ts must not be before the ring's last event. */
static inline void cv_ring_record_at(struct cv_ring *r, uint64_t ts, unsigned kind, uint16_t lane,
                                     uint32_t task, uint32_t obj, uint64_t arg)
{
#ifdef CONCVIZ_NO_EVENTS
    (void)r, (void)ts, (void)kind, (void)lane, (void)task, (void)obj, (void)arg;
    return;
#endif
    uint64_t h;
    struct cv_event *e = cv_ring_reserve(r, &h);
    if (!e)
        return;
    cv_ring_fill(e, ts, kind, lane, task, obj, arg);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* Records one event stamped now whose arg is the time since `since` (raw ticks): lock.held. */
static inline void cv_ring_record_since(struct cv_ring *r, unsigned kind, uint16_t lane,
                                        uint32_t task, uint32_t obj, uint64_t since)
{
#ifdef CONCVIZ_NO_EVENTS
    (void)r, (void)kind, (void)lane, (void)task, (void)obj, (void)since;
    return;
#endif
    uint64_t now = cv_clock_stamp();
    cv_ring_record_at(r, now, kind, lane, task, obj, now > since ? now - since : 0);
}

/* A time stamp for an event recorded later with cv_ring_record_at (0 in a build without events,
 * which reads no clock). */
static inline uint64_t cv_ring_stamp(void)
{
#ifdef CONCVIZ_NO_EVENTS
    return 0;
#else
    return cv_clock_stamp();
#endif
}

/* The stamp of the latest event recorded (0 when none was). */
static inline uint64_t cv_ring_last_ts(struct cv_ring *r)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    return h ? cv_ring_slots(r)[(h - 1) & r->mask].ts : 0;
}

/* Consumer side: the index the lane's record goes on at from index pos (below end, the head the
 * consumer read): past a rewind marker at pos, the next lap's first; else pos. A marker counts
 * only where a producer writes one, and only when it names the next lap's first index and that
 * is below end (a marker and its event are published together): anything else at pos is an
 * event, so that a ring a traced program scribbled on cannot send the consumer past its head. */
static inline uint64_t cv_ring_follow(const struct cv_ring *r, uint64_t pos, uint64_t end)
{
    if ((pos & (CV_RING_REWIND_EVERY - 1)) || !(pos & r->mask))
        return pos;
    const struct cv_event *m = &cv_ring_slots((struct cv_ring *)r)[pos & r->mask];
    uint64_t next = (pos | r->mask) + 1;
    return m->kind == CV_RING_SKIP && m->arg == next && next < end ? next : pos;
}

/* Copies up to `max` events out (consumer side) and frees their slots. Returns the count. */
size_t cv_ring_drain(struct cv_ring *r, struct cv_event *out, size_t max);
/* Slots in use: events waiting to be drained, and those a rewind passed over until the consumer
 * passes its marker. */
uint64_t cv_ring_pending(struct cv_ring *r);
/* Drops since the last call (consumer side). */
uint64_t cv_ring_take_drops(struct cv_ring *r);

#endif

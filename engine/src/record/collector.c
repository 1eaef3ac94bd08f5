/*
 * The collector: turns a stream of events into lane states, lock/queue/task aggregates and a
 * bounded timeline store. Live runs feed it from the rings (merged in time order); recordings
 * and tests feed it directly. It runs on one thread (the front end's) and takes no locks.
 */
#include "concviz/collector.h"
#include "concviz/concviz.h"
#include "core/heap.h"

#include <stdio.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif
#include <string.h>
#include <sys/mman.h>

#define DEFAULT_STORE    (1u << 20)
#define SERIES_MAX       2048
#define HELD_MAX         8
#define GRACE_NS         2000000u /* events younger than this may still be in flight */
#define TASK_TRACK_LIMIT (1u << 24)
#define TASK_PAGE        1024u /* task records are kept in pages made on first use */
#define TASK_PAGES       (TASK_TRACK_LIMIT / TASK_PAGE)
#define TL_WIDTH0        1000000u /* first timeline bucket width: 1 ms */

/* The drain's merge: lane numbers, by the time of each lane's next event (key[lane]). */
#define LANE_KEY(key, lane) ((key)[lane])
CV_HEAP_DEFINE(merge, uint32_t, const uint64_t *, LANE_KEY, CV_HEAP_UNTRACKED)

static const char *const state_names[] = {
#define CV_X_NAME(id, name, ...) name,
    CV_LANE_STATES(CV_X_NAME)
#undef CV_X_NAME
};

static const char *const object_names[] = {
#define CV_X_NAME(name, str) str,
    CV_OBJECT_KINDS(CV_X_NAME)
#undef CV_X_NAME
};

uint64_t cv_snapshot_worker_ns(const struct cv_snapshot *s)
{
    uint64_t t = 0;
    for (size_t i = 0; i < s->nlanes; i++)
        if (s->lanes[i].role == CV_ROLE_WORKER)
            for (unsigned st = 0; st < CV_LANE_OFF; st++)
                t += s->lanes[i].state_ns[st];
    return t;
}

const char *cv_lane_state_name(unsigned state)
{
    return state < CV_LANE__COUNT ? state_names[state] : "unknown";
}

const char *cv_object_kind_name(unsigned kind)
{
    return kind < CV_OBJ__COUNT ? object_names[kind] : "unknown";
}

/* What a lane in the queue-wait state waits for. */
enum qwait { QW_POP, QW_PUSH, QW_JOIN };

/* T_LOST: its lane started another task while its end was in events lost (ended, how unknown) */
enum task_status { T_UNKNOWN, T_SUBMITTED, T_STARTED, T_DONE, T_FAILED, T_CANCELLED, T_LOST };

struct task_rec {
    uint64_t submit_ns, start_ns, end_ns;
    uint32_t lane;
    uint8_t status;
};

struct held {
    uint32_t obj;
    uint64_t since;
};

struct lane_priv {
    bool declared;
    bool in_task;
    uint8_t qwait;      /* its queue wait: enum qwait */
    uint8_t stall_prev; /* while stalled: the state it goes back to */
    /* Events lost on the lane that the consumer counted (drops) less those its producer said it
     * lost when it recorded again (gap): above 0, the lane's record has a hole not yet closed. */
    int64_t lost_pending;
    uint64_t last_ts; /* its latest event's time */
    uint64_t wait_since;
    unsigned nheld;
    struct held held[HELD_MAX];
};

/* A lane's timeline: the state of each closed bucket, absolute buckets [first, first + n), and the
 * time per state in the open bucket first + n. */
struct lane_tl {
    uint8_t *b;
    uint64_t first;
    uint32_t n, cap;
    bool started;
    uint64_t open_end; /* when the open bucket ends */
    uint64_t acc[CV_LANE__COUNT];
    struct cv_task_span *spans;
    uint32_t nspans, spans_cap;
};

struct objref {
    int8_t kind; /* -1 = undeclared */
    uint32_t index;
    uint32_t capacity; /* as declared */
};

struct lock_priv {
    uint32_t last_holder;
};

struct queue_priv {
    struct cv_depth_point *series;
    size_t n;
};

/* Drain state for one pass: each ring is read in place between its tail and a head snapshot
 * (start: the tail when the pass began). */
struct cursor {
    uint64_t pos, end, start;
};

struct cv_collector {
    /* A deadlock was found at frozen_ns: what comes after is the run being stopped, not the
     * program, and leaves the state as it was found (see deadlock_freeze). */
    bool frozen;
    uint64_t frozen_ns;
    size_t nlanes, lanes_cap; /* the lane arrays below hold lanes_cap */
    struct cv_lane_stats *lanes;
    struct lane_priv *lp;
    struct cv_lane_stats *view; /* lanes with open states counted, for snapshots */
    struct lane_tl *tl;
    uint64_t tl_width; /* ns per timeline bucket; doubles to keep CV_TIMELINE_MAX per lane */

    size_t nobjs;
    struct objref *objs;
    size_t nlocks, nqueues, ncounters;
    struct cv_lock_stats *locks;
    struct lock_priv *lockp;
    struct cv_queue_stats *queues;
    struct queue_priv *queuep;
    struct cv_counter_stats *counters;

    struct task_rec **task_pages; /* TASK_PAGES entries, NULL until a task of the page is seen */
    size_t npages_top;            /* every page made is below this one */
    uint32_t *order;
    size_t norder, order_cap;

    struct cv_event *store;
    size_t store_cap, store_bytes;
    size_t store_pos;  /* next slot to write */
    size_t store_made; /* slots whose pages are made: STORE_MADE at a time, ahead of the writes */
    uint64_t store_total; /* events ever stored */

    struct cv_ring *const *rings;
    size_t nrings;
    uint64_t t0;
    uint32_t *heap;
    /* The drain's memory of each ring: the head at which it last left the ring empty
     * (UINT64_MAX: it did not), so that a ring whose head has not moved since is passed over
     * without touching its consumer's cache line; and its per-pass arrays, by ring. */
    uint64_t *idle_head;
    struct cursor *cur;
    uint64_t *key;
    uint32_t *active;  /* the rings looked into by a pass */
    uint64_t frontier; /* latest timestamp fed from the rings */

    char **strings; /* texts by id */
    size_t nstrings;

    cv_tap_fn tap; /* every event fed also goes here, in batches */
    void *tap_ctx;
    cv_resolve_fn resolve; /* declares an object an event names before it was declared */
    void *resolve_ctx;
    struct cv_event *tapbuf;
    size_t ntap;

    bool finished;
    struct cv_snapshot snap;
};

#define STORE_MADE ((2u << 20) / sizeof(struct cv_event))

/* Makes the pages of the store's next STORE_MADE slots in one call: written one page at a time,
 * each would cost a trap (a million events are 8k pages). */
static void store_make(struct cv_collector *c)
{
    size_t n =
        c->store_cap - c->store_made < STORE_MADE ? c->store_cap - c->store_made : STORE_MADE;
    cv_make_pages(c->store + c->store_made, n * sizeof *c->store);
    c->store_made += n;
}

struct cv_collector *cv_collector_try_create(size_t store_capacity)
{
    struct cv_collector *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->tl_width = TL_WIDTH0;
    c->store_cap = store_capacity ? store_capacity : DEFAULT_STORE;
    /* Huge pages where the kernel offers them: a million events would otherwise cost ~8k page
     * faults on first touch, a third of the drain time. */
    c->store_bytes = c->store_cap * sizeof *c->store;
    void *m =
        mmap(NULL, c->store_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        free(c);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    madvise(m, c->store_bytes, MADV_HUGEPAGE);
#endif
    /* Blank in a forked worker, which never reads it: shared, each page made before the fork
     * would be copied at the drain's next write to it (a trap a page, and a huge page split).
     * Blank, not absent (MADV_DONTFORK): a tool that scans the child's memory, valgrind's leak
     * check, still finds the mapping it was told of. */
    madvise(m, c->store_bytes, MADV_WIPEONFORK);
    c->store = m;
    /* The first pages made now, before a run's clock starts, not in its first drain, where
     * clearing them would take CPU from a worker; the next ones a chunk at a time, ahead. */
    store_make(c);
    return c;
}

struct cv_collector *cv_collector_create(size_t store_capacity)
{
    struct cv_collector *c = cv_collector_try_create(store_capacity);
    if (!c) {
        fputs("concviz: out of memory for the timeline store\n", stderr);
        abort();
    }
    return c;
}

void cv_collector_destroy(struct cv_collector *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nqueues; i++)
        free(c->queuep[i].series);
    free(c->lanes);
    free(c->lp);
    free(c->view);
    for (size_t i = 0; i < c->nlanes; i++) {
        free(c->tl[i].b);
        free(c->tl[i].spans);
    }
    free(c->tl);
    free(c->objs);
    free(c->locks);
    free(c->lockp);
    free(c->queues);
    free(c->queuep);
    free(c->counters);
    if (c->task_pages)
        for (size_t i = 0; i < c->npages_top; i++)
            free(c->task_pages[i]);
    free(c->task_pages);
    free(c->order);
    munmap(c->store, c->store_bytes);
    free(c->heap);
    free(c->idle_head);
    free(c->cur);
    free(c->key);
    free(c->active);
    for (size_t i = 0; i < c->nstrings; i++)
        free(c->strings[i]);
    free(c->strings);
    free(c->tapbuf);
    free(c);
}

const char *cv_collector_string(const struct cv_collector *c, uint32_t id)
{
    return id < c->nstrings ? c->strings[id] : NULL;
}

size_t cv_collector_nstrings(const struct cv_collector *c)
{
    return c->nstrings;
}

bool cv_collector_object(const struct cv_collector *c, uint32_t id, struct cv_object_decl *out)
{
    if (id >= c->nobjs || c->objs[id].kind < 0)
        return false;
    const struct objref *o = &c->objs[id];
    out->id = id;
    out->kind = (enum cv_object_kind)o->kind;
    out->capacity = o->capacity;
    switch (out->kind) {
    case CV_OBJ_QUEUE:
        out->name = c->queues[o->index].name;
        break;
    case CV_OBJ_COUNTER:
        out->name = c->counters[o->index].name;
        break;
    default:
        out->name = c->locks[o->index].name;
        break;
    }
    return true;
}

size_t cv_collector_nobjects(const struct cv_collector *c)
{
    return c->nobjs;
}

void cv_collector_add_string(struct cv_collector *c, uint32_t id, const char *text)
{
    if (id == CV_NONE)
        return;
    if (id >= c->nstrings) {
        size_t n = (size_t)id + 1;
        c->strings = cv_xrealloc(c->strings, n * sizeof *c->strings);
        memset(c->strings + c->nstrings, 0, (n - c->nstrings) * sizeof *c->strings);
        c->nstrings = n;
    }
    free(c->strings[id]);
    c->strings[id] = cv_strdup(text);
}

static void ensure_lane(struct cv_collector *c, uint32_t lane)
{
    if (lane < c->nlanes)
        return;
    size_t n = (size_t)lane + 1;
    if (n > c->lanes_cap) {
        /* lanes come one at a time, by the thousand under epoll: grow by half each time, so
         * adding them costs linear time, not quadratic */
        size_t cap = c->lanes_cap + c->lanes_cap / 2 > n ? c->lanes_cap + c->lanes_cap / 2 : n;
        c->lanes = cv_xrealloc(c->lanes, cap * sizeof *c->lanes);
        c->lp = cv_xrealloc(c->lp, cap * sizeof *c->lp);
        c->view = cv_xrealloc(c->view, cap * sizeof *c->view);
        c->tl = cv_xrealloc(c->tl, cap * sizeof *c->tl);
        c->lanes_cap = cap;
    }
    for (size_t i = c->nlanes; i < n; i++) {
        memset(&c->lanes[i], 0, sizeof c->lanes[i]);
        memset(&c->lp[i], 0, sizeof c->lp[i]);
        memset(&c->tl[i], 0, sizeof c->tl[i]);
        c->lanes[i].state = CV_LANE_OFF;
        c->lanes[i].current_task = CV_NONE;
        c->lanes[i].waiting_on = CV_NONE;
        c->lanes[i].io_text = CV_NONE;
        snprintf(c->lanes[i].name, sizeof c->lanes[i].name, "lane-%zu", i);
        c->lanes[i].role = CV_ROLE_WORKER;
    }
    c->nlanes = n;
}

void cv_collector_add_lane(struct cv_collector *c, uint32_t lane, const char *name,
                           enum cv_lane_role role)
{
    ensure_lane(c, lane);
    snprintf(c->lanes[lane].name, sizeof c->lanes[lane].name, "%s", name);
    c->lanes[lane].role = role;
    c->lp[lane].declared = true;
}

void cv_collector_add_object(struct cv_collector *c, uint32_t obj, enum cv_object_kind kind,
                             const char *name, uint32_t capacity)
{
    if (obj >= c->nobjs) {
        size_t n = (size_t)obj + 1;
        c->objs = cv_xrealloc(c->objs, n * sizeof *c->objs);
        for (size_t i = c->nobjs; i < n; i++)
            c->objs[i].kind = -1;
        c->nobjs = n;
    }
    struct objref *r = &c->objs[obj];
    if (r->kind >= 0)
        return; /* declared once */
    r->kind = (int8_t)kind;
    r->capacity = capacity;
    switch (kind) {
    case CV_OBJ_QUEUE: {
        r->index = (uint32_t)c->nqueues++;
        c->queues = cv_xrealloc(c->queues, c->nqueues * sizeof *c->queues);
        c->queuep = cv_xrealloc(c->queuep, c->nqueues * sizeof *c->queuep);
        struct cv_queue_stats *q = &c->queues[r->index];
        memset(q, 0, sizeof *q);
        q->obj = obj;
        q->capacity = capacity;
        snprintf(q->name, sizeof q->name, "%s", name);
        c->queuep[r->index].series = cv_xmalloc(SERIES_MAX * sizeof(struct cv_depth_point));
        c->queuep[r->index].n = 0;
        break;
    }
    case CV_OBJ_COUNTER: {
        r->index = (uint32_t)c->ncounters++;
        c->counters = cv_xrealloc(c->counters, c->ncounters * sizeof *c->counters);
        struct cv_counter_stats *k = &c->counters[r->index];
        memset(k, 0, sizeof *k);
        k->obj = obj;
        snprintf(k->name, sizeof k->name, "%s", name);
        break;
    }
    default: {
        r->index = (uint32_t)c->nlocks++;
        c->locks = cv_xrealloc(c->locks, c->nlocks * sizeof *c->locks);
        c->lockp = cv_xrealloc(c->lockp, c->nlocks * sizeof *c->lockp);
        struct cv_lock_stats *l = &c->locks[r->index];
        memset(l, 0, sizeof *l);
        l->obj = obj;
        l->kind = kind;
        snprintf(l->name, sizeof l->name, "%s", name);
        l->holder = l->handoff_from = l->handoff_to = CV_NONE;
        c->lockp[r->index].last_holder = CV_NONE;
        break;
    }
    }
}

void cv_collector_set_resolver(struct cv_collector *c, cv_resolve_fn fn, void *ctx)
{
    c->resolve = fn;
    c->resolve_ctx = ctx;
}

static struct cv_lock_stats *lock_of(struct cv_collector *c, uint32_t obj, uint32_t *index)
{
    if (__builtin_expect(obj >= c->nobjs || c->objs[obj].kind < 0, 0) && obj != CV_NONE &&
        c->resolve)
        c->resolve(c->resolve_ctx, c, obj);
    if (obj >= c->nobjs)
        return NULL;
    struct objref *r = &c->objs[obj];
    if (r->kind < 0 || r->kind == CV_OBJ_QUEUE || r->kind == CV_OBJ_COUNTER)
        return NULL;
    *index = r->index;
    return &c->locks[r->index];
}

static struct cv_queue_stats *queue_of(struct cv_collector *c, uint32_t obj, uint32_t *index)
{
    if (obj >= c->nobjs || c->objs[obj].kind != CV_OBJ_QUEUE)
        return NULL;
    *index = c->objs[obj].index;
    return &c->queues[*index];
}

/* A task's record; tasks are numbered densely by a run, but a damaged recording may name any id,
 * so the table is paged and a far id costs one page, not the whole range below it. */
static struct task_rec *task_of(struct cv_collector *c, uint32_t task)
{
    if (task == CV_NONE || task >= TASK_TRACK_LIMIT)
        return NULL;
    if (!c->task_pages)
        c->task_pages = cv_xcalloc(TASK_PAGES, sizeof *c->task_pages);
    size_t pg = task / TASK_PAGE;
    if (!c->task_pages[pg]) {
        c->task_pages[pg] = cv_xcalloc_made(TASK_PAGE, sizeof **c->task_pages);
        if (pg >= c->npages_top)
            c->npages_top = pg + 1;
    }
    return &c->task_pages[pg][task % TASK_PAGE];
}

/* The state a bucket shows: the one it spent most time in; on a tie, the first in panel order. */
static uint8_t tl_pick(const uint64_t *acc)
{
    unsigned best = CV_LANE_OFF;
    for (unsigned s = 0; s < CV_LANE__COUNT; s++)
        if (acc[s] > acc[best] || (acc[s] == acc[best] && acc[s] && s < best))
            best = s;
    return (uint8_t)best;
}

/* Merging two buckets into one of twice the width: a wait or a run outranks idle and off. */
static uint8_t tl_merge(uint8_t a, uint8_t b)
{
    if (a == b || b == CV_LANE_OFF)
        return a;
    if (a == CV_LANE_OFF || a == CV_LANE_IDLE)
        return b;
    return a;
}

/* Doubles the bucket width of every lane: bucket k becomes k / 2. */
static void tl_coarsen(struct cv_collector *c)
{
    for (size_t i = 0; i < c->nlanes; i++) {
        struct lane_tl *t = &c->tl[i];
        if (!t->started)
            continue;
        uint64_t open = t->first + t->n, nfirst = t->first / 2, nopen = open / 2;
        uint32_t nn = 0;
        for (uint32_t k = 0; k < t->n; k++) {
            uint64_t at = (t->first + k) / 2 - nfirst;
            if (at >= nn) {
                t->b[at] = t->b[k];
                nn = (uint32_t)at + 1;
            } else {
                t->b[at] = tl_merge(t->b[at], t->b[k]);
            }
        }
        if (nn && nfirst + nn > nopen) { /* the closed half of the new open bucket */
            nn--;
            t->acc[t->b[nn]] += c->tl_width;
        }
        t->first = nfirst;
        t->n = nn;
        t->open_end = (nfirst + nn + 1) * c->tl_width * 2;
    }
    c->tl_width *= 2;
}

static void tl_push(struct lane_tl *t, uint8_t st)
{
    if (t->n == t->cap) { /* grows as the lane lives, up to CV_TIMELINE_MAX */
        t->cap = t->cap ? 2 * t->cap : 64;
        t->b = cv_xrealloc(t->b, t->cap);
    }
    t->b[t->n++] = st;
}

/* Adds [t0, t1) in state st to lane i's timeline. */
static void tl_add(struct cv_collector *c, size_t i, enum cv_lane_state st, uint64_t t0,
                   uint64_t t1)
{
    struct lane_tl *t = &c->tl[i];
    if (__builtin_expect(t->started && t1 < t->open_end && t0 < t1, 1)) {
        t->acc[st] += t1 - (t0 > t->open_end - c->tl_width ? t0 : t->open_end - c->tl_width);
        return; /* within the open bucket: the common case */
    }
    if (!t->started) {
        if (st == CV_LANE_OFF || t0 >= t1)
            return; /* not started yet */
        t->started = true;
        t->first = t0 / c->tl_width;
    }
    while (t0 < t1) {
        uint64_t w = c->tl_width, end = (t->first + t->n + 1) * w;
        if (t0 < end - w)
            t0 = end - w; /* never before the open bucket */
        uint64_t upto = t1 < end ? t1 : end;
        t->acc[st] += upto - t0;
        t0 = upto;
        if (t0 < end)
            break;
        if (t->n == CV_TIMELINE_MAX) {
            tl_coarsen(c); /* the open bucket now ends later */
            continue;
        }
        uint8_t pick = tl_pick(t->acc);
        memset(t->acc, 0, sizeof t->acc);
        tl_push(t, pick);
        for (; t1 - t0 >= c->tl_width && t->n < CV_TIMELINE_MAX; t0 += c->tl_width)
            tl_push(t, (uint8_t)st); /* whole buckets in one state */
    }
    t->open_end = (t->first + t->n + 1) * c->tl_width;
}

/* A task starts on a lane: a new span (the oldest half goes when the lane has CV_SPANS_MAX). */
static void span_push(struct lane_tl *t, uint32_t task, uint64_t ts)
{
    if (t->nspans == t->spans_cap) {
        if (t->spans_cap == CV_SPANS_MAX) {
            t->nspans /= 2;
            memmove(t->spans, t->spans + CV_SPANS_MAX / 2, t->nspans * sizeof *t->spans);
        } else {
            t->spans_cap = t->spans_cap ? 2 * t->spans_cap : 4;
            t->spans =
                cv_xgrow(t->spans, t->nspans * sizeof *t->spans, t->spans_cap * sizeof *t->spans);
        }
    }
    t->spans[t->nspans++] = (struct cv_task_span){ts, UINT64_MAX, task};
}

static void set_state(struct cv_collector *c, struct cv_lane_stats *l, enum cv_lane_state st,
                      uint64_t ts)
{
    if (ts < l->since_ns)
        ts = l->since_ns;
    if (l->state != CV_LANE_OFF)
        l->state_ns[l->state] += ts - l->since_ns;
    tl_add(c, (size_t)(l - c->lanes), l->state, l->since_ns, ts);
    l->state = st;
    l->since_ns = ts;
}

static enum cv_lane_state base_state(const struct lane_priv *p)
{
    return p->in_task ? CV_LANE_RUNNING : CV_LANE_IDLE;
}

static void held_push(struct lane_priv *p, uint32_t obj, uint64_t ts)
{
    if (p->nheld < HELD_MAX)
        p->held[p->nheld++] = (struct held){obj, ts};
}

/* Returns the acquisition time of obj's most recent hold by this lane, removing it. */
static bool held_pop(struct lane_priv *p, uint32_t obj, uint64_t *since)
{
    for (unsigned i = p->nheld; i-- > 0;) {
        if (p->held[i].obj == obj) {
            *since = p->held[i].since;
            memmove(&p->held[i], &p->held[i + 1], (p->nheld - i - 1) * sizeof p->held[0]);
            p->nheld--;
            return true;
        }
    }
    return false;
}

static void order_push(struct cv_collector *c, uint32_t task)
{
    if (c->norder == c->order_cap) {
        c->order_cap = c->order_cap ? c->order_cap * 2 : 256;
        c->order =
            cv_xgrow(c->order, c->norder * sizeof *c->order, c->order_cap * sizeof *c->order);
    }
    c->order[c->norder++] = task;
}

static void series_push(struct queue_priv *qp, uint64_t ts, uint32_t depth)
{
    if (qp->n == SERIES_MAX) {
        /* Halve the resolution: keep the deeper point of each pair, so maxima survive. */
        for (size_t i = 0; i < SERIES_MAX / 2; i++) {
            struct cv_depth_point a = qp->series[2 * i], b = qp->series[2 * i + 1];
            qp->series[i] = a.depth >= b.depth ? a : b;
        }
        qp->n = SERIES_MAX / 2;
    }
    qp->series[qp->n++] = (struct cv_depth_point){ts, depth};
}

static void task_finished(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p,
                          const struct cv_event *e, uint8_t status)
{
    struct task_rec *t = task_of(c, e->task);
    bool was_started = t ? t->status == T_STARTED || t->status == T_LOST : p->in_task;
    bool counted = t && t->status == T_LOST; /* taken out of the tasks in flight already */
    if (t) {
        t->status = status;
        t->end_ns = e->ts;
    }
    if (was_started) {
        if (c->snap.inflight && !counted)
            c->snap.inflight--;
        if (status != T_CANCELLED)
            order_push(c, e->task);
    }
    if (p->in_task && l->current_task == e->task) {
        struct lane_tl *tl = &c->tl[l - c->lanes];
        if (tl->nspans && tl->spans[tl->nspans - 1].task == e->task)
            tl->spans[tl->nspans - 1].end_ns = e->ts;
        p->in_task = false;
        l->current_task = CV_NONE;
        set_state(c, l, CV_LANE_IDLE, e->ts);
    }
}

static void wait_begin(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p,
                       enum cv_lane_state st, const struct cv_event *e)
{
    l->waiting_on = e->obj;
    p->wait_since = e->ts;
    set_state(c, l, st, e->ts);
}

static void queue_waiter_gone(struct cv_queue_stats *q, uint8_t qwait)
{
    uint32_t *n = qwait == QW_PUSH   ? &q->producers_waiting
                  : qwait == QW_JOIN ? &q->joiners_waiting
                                     : &q->consumers_waiting;
    if (*n)
        (*n)--;
}

/* A wait that ends without the acquisition (the task cancelled, the worker gone): the lane no
 * longer counts among the object's waiters. */
static void wait_abandoned(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p)
{
    if (l->waiting_on == CV_NONE)
        return;
    uint32_t idx;
    if (l->state == CV_LANE_QUEUE_WAIT) {
        struct cv_queue_stats *q = queue_of(c, l->waiting_on, &idx);
        if (q)
            queue_waiter_gone(q, p->qwait);
    } else {
        struct cv_lock_stats *k = lock_of(c, l->waiting_on, &idx);
        if (k && k->waiters)
            k->waiters--;
    }
    l->waiting_on = CV_NONE;
}

/* Events of the lane were lost (its ring was full) after its latest one: from then on what it
 * did is not known. Its waits and holds end there in the collector's view (a lock it held is not
 * shown held by it, nor a lane waiting), and it shows lost until its producer records again. */
static void lost_begin(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p)
{
    uint32_t idx;
    uint64_t ts = p->last_ts > l->since_ns ? p->last_ts : l->since_ns;
    wait_abandoned(c, l, p);
    for (unsigned h = 0; h < p->nheld; h++) {
        struct cv_lock_stats *k = lock_of(c, p->held[h].obj, &idx);
        if (!k)
            continue;
        if (k->holders)
            k->holders--;
        if (k->holder == (uint32_t)(l - c->lanes))
            k->holder = CV_NONE;
    }
    p->nheld = 0;
    set_state(c, l, CV_LANE_LOST, ts);
}

/* A deadlock was found: each wait still open is counted as a contended one (its time so far in
 * the lock's totals), each hold still open adds its time so far, and from here the state stays as
 * found: the locks held, the lanes waiting for them, so that the panels and the summary show the
 * cycle, not the clean-up after it. */
static void deadlock_freeze(struct cv_collector *c, uint64_t ts)
{
    uint32_t idx;
    for (size_t i = 0; i < c->nlanes; i++) {
        struct cv_lane_stats *l = &c->lanes[i];
        struct lane_priv *p = &c->lp[i];
        for (unsigned h = 0; h < p->nheld; h++) { /* held until the end: held so far */
            struct cv_lock_stats *k = lock_of(c, p->held[h].obj, &idx);
            if (k && ts > p->held[h].since)
                k->hold_ns_total += ts - p->held[h].since;
        }
        if (l->waiting_on == CV_NONE || l->state == CV_LANE_QUEUE_WAIT)
            continue;
        struct cv_lock_stats *k = lock_of(c, l->waiting_on, &idx);
        if (!k)
            continue;
        uint64_t w = ts > p->wait_since ? ts - p->wait_since : 0;
        k->contended++;
        k->wait_ns_total += w;
        if (w > k->wait_ns_max)
            k->wait_ns_max = w;
    }
    c->frozen = true;
    c->frozen_ns = ts;
}

/* queue.task_done, and a join that waits or returns. */
static void queue_tasks(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p,
                        const struct cv_event *e)
{
    uint32_t idx;
    struct cv_queue_stats *q = queue_of(c, e->obj, &idx);
    if (e->kind == CV_EV_QUEUE_TASK_DONE) {
        if (q)
            q->unfinished = (uint32_t)e->arg;
        return;
    }
    if (e->kind == CV_EV_QUEUE_JOIN_WAIT) {
        if (q) {
            q->join_waits++;
            q->joiners_waiting++;
            q->unfinished = (uint32_t)e->arg;
        }
        p->qwait = QW_JOIN;
        wait_begin(c, l, p, CV_LANE_QUEUE_WAIT, e);
        return;
    }
    if (q)
        q->unfinished = 0;
    if (l->waiting_on == e->obj && l->state == CV_LANE_QUEUE_WAIT && p->qwait == QW_JOIN) {
        if (q)
            queue_waiter_gone(q, QW_JOIN);
        l->waiting_on = CV_NONE;
        set_state(c, l, base_state(p), e->ts);
    }
}

/* A queue wait that gave up: queue.Full, queue.Empty, or a join's timeout. */
static void queue_timed_out(struct cv_collector *c, const struct lane_priv *p, uint32_t obj)
{
    uint32_t idx;
    struct cv_queue_stats *q = queue_of(c, obj, &idx);
    if (!q)
        return;
    if (p->qwait == QW_PUSH)
        q->put_timeouts++;
    else if (p->qwait == QW_POP)
        q->get_timeouts++;
    else
        q->join_timeouts++;
}

/* A wait on object k that ended at ts: a contended acquisition, its time in the totals, one
 * waiter fewer. */
static inline void count_wait(struct cv_lock_stats *k, const struct lane_priv *p, uint64_t ts)
{
    uint64_t w = ts > p->wait_since ? ts - p->wait_since : 0;
    k->contended++;
    k->wait_ns_total += w;
    if (w > k->wait_ns_max)
        k->wait_ns_max = w;
    if (k->waiters)
        k->waiters--;
}

static void acquired(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p,
                     const struct cv_event *e)
{
    uint32_t idx;
    struct cv_lock_stats *k = lock_of(c, e->obj, &idx);
    bool waited = l->waiting_on == e->obj;
    if (k) {
        k->acquisitions++;
        if (waited)
            count_wait(k, p, e->ts);
        uint32_t last = c->lockp[idx].last_holder;
        if (last != CV_NONE && last != e->lane) {
            k->handoffs++;
            if (waited) {
                k->handoff_from = last;
                k->handoff_to = e->lane;
            }
            if (k->kind == CV_OBJ_GIL)
                c->snap.gil_switches++;
        }
        if (k->kind != CV_OBJ_SEMAPHORE && k->holders && k->holder != e->lane &&
            k->holder < c->nlanes) {
            /* a mutex has one holder: the previous one's release was in events lost */
            uint64_t since;
            held_pop(&c->lp[k->holder], e->obj, &since);
            k->holders = 0;
        }
        k->holder = e->lane;
        k->holders++;
    }
    held_push(p, e->obj, e->ts);
    if (waited)
        l->waiting_on = CV_NONE;
    set_state(c, l, base_state(p), e->ts);
}

static void released(struct cv_collector *c, struct lane_priv *p, const struct cv_event *e)
{
    uint32_t idx;
    struct cv_lock_stats *k = lock_of(c, e->obj, &idx);
    uint64_t since;
    bool had = held_pop(p, e->obj, &since);
    if (!k)
        return;
    if (had)
        k->hold_ns_total += e->ts > since ? e->ts - since : 0;
    else if (k->kind != CV_OBJ_SEMAPHORE)
        return; /* a release whose acquisition was lost (a semaphore is posted by anyone) */
    if (k->holders)
        k->holders--;
    if (k->holders == 0)
        k->holder = CV_NONE;
    c->lockp[idx].last_holder = e->lane;
}

/* An Event's or Condition's wait that ended with a wake: counted like a contended acquisition
 * (the wait's time in the object's totals), nothing held after it. */
static void woken(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p,
                  const struct cv_event *e)
{
    uint32_t idx;
    struct cv_lock_stats *k = lock_of(c, e->obj, &idx);
    if (l->waiting_on != e->obj)
        return;
    if (k) {
        k->acquisitions++;
        count_wait(k, p, e->ts);
    }
    l->waiting_on = CV_NONE;
    set_state(c, l, base_state(p), e->ts);
}

/* event.*, cond.*: the waits, the sets and notifies, the clears. */
static void signal_event(struct cv_collector *c, struct cv_lane_stats *l, struct lane_priv *p,
                         const struct cv_event *e)
{
    uint32_t idx;
    struct cv_lock_stats *k = lock_of(c, e->obj, &idx);
    switch (e->kind) {
    case CV_EV_EVENT_WAIT:
    case CV_EV_COND_WAIT:
        if (k) {
            k->waits++;
            k->waiters++;
        }
        wait_begin(c, l, p, e->kind == CV_EV_EVENT_WAIT ? CV_LANE_EVENT_WAIT : CV_LANE_COND_WAIT,
                   e);
        break;
    case CV_EV_EVENT_SET:
    case CV_EV_COND_NOTIFY:
        if (k)
            k->signals++;
        break;
    case CV_EV_EVENT_CLEAR:
        if (k)
            k->clears++;
        break;
    default: /* event.wake, cond.wake */
        woken(c, l, p, e);
        break;
    }
}

static inline void store_push(struct cv_collector *c, const struct cv_event *e)
{
    if (__builtin_expect(c->store_pos == c->store_made, 0))
        store_make(c);
    struct cv_event *slot = &c->store[c->store_pos];
#if defined(__x86_64__)
    /* The store is far larger than the caches and written once: stream past them. The words are
     * built from the fields (not one wide load of *e) because the caller has just patched some
     * fields with narrow stores, and a wide load over them would stall store forwarding. */
    uint64_t w2 = (uint64_t)e->task | (uint64_t)e->obj << 32;
    uint64_t w3 = (uint64_t)e->lane | (uint64_t)e->kind << 16 | (uint64_t)e->reserved << 32;
    long long *d = (long long *)(void *)slot;
    _mm_stream_si64(d, (long long)e->ts);
    _mm_stream_si64(d + 1, (long long)e->arg);
    _mm_stream_si64(d + 2, (long long)w2);
    _mm_stream_si64(d + 3, (long long)w3);
#else
    *slot = *e;
#endif
    c->store_pos = c->store_pos + 1 == c->store_cap ? 0 : c->store_pos + 1;
    c->store_total++;
}

/* Inlined into the drain loop: it runs once per event. */
#define TAP_BATCH 65536

bool cv_collector_tap_reserve(struct cv_collector *c)
{
    if (!c->tapbuf)
        c->tapbuf = malloc(TAP_BATCH * sizeof *c->tapbuf);
    return c->tapbuf != NULL;
}

void cv_collector_set_tap(struct cv_collector *c, cv_tap_fn fn, void *ctx)
{
    cv_collector_tap_flush(c);
    c->tap = fn;
    c->tap_ctx = ctx;
    if (fn && !c->tapbuf)
        c->tapbuf = cv_xmalloc(TAP_BATCH * sizeof *c->tapbuf);
}

void cv_collector_tap_flush(struct cv_collector *c)
{
    if (c->tap && c->ntap)
        c->tap(c->tap_ctx, c->tapbuf, c->ntap);
    c->ntap = 0;
}

static inline __attribute__((always_inline)) void feed_one(struct cv_collector *c,
                                                           const struct cv_event *e)
{
    if (__builtin_expect(e->lane >= c->nlanes, 0))
        ensure_lane(c, e->lane);
    struct cv_lane_stats *l = &c->lanes[e->lane];
    struct lane_priv *p = &c->lp[e->lane];
    struct cv_snapshot *s = &c->snap;
    uint32_t idx;

    l->events++;
    s->events_recorded++;
    store_push(c, e);
    if (__builtin_expect(c->tap != NULL, 0)) {
        c->tapbuf[c->ntap++] = *e;
        if (c->ntap == TAP_BATCH)
            cv_collector_tap_flush(c);
    }

    if (__builtin_expect(c->frozen, 0) && e->ts >= c->frozen_ns && e->kind != CV_EV_DROPS) {
        /* after a deadlock's detection: kept in the store and the recording, and tasks the stop
         * cancels are counted, but the locks, waits and lanes stay as the deadlock left them */
        if (e->kind == CV_EV_TASK_CANCEL)
            s->tasks.cancelled++;
        return;
    }
    if (e->kind != CV_EV_DROPS && e->kind != CV_EV_GAP) /* drops: at the frontier */
        p->last_ts = e->ts;
    switch ((enum cv_event_kind)e->kind) {
    case CV_EV_WORKER_START:
        set_state(c, l, base_state(p), e->ts);
        break;
    case CV_EV_WORKER_EXIT:
        wait_abandoned(c, l, p);
        set_state(c, l, CV_LANE_OFF, e->ts);
        break;
    case CV_EV_WORKER_DEAD:
        wait_abandoned(c, l, p);
        set_state(c, l, CV_LANE_DEAD, e->ts);
        break;
    case CV_EV_TASK_SUBMIT: {
        struct task_rec *t = task_of(c, e->task);
        if (t) {
            t->status = T_SUBMITTED;
            t->submit_ns = e->ts;
        }
        s->tasks.submitted++;
        break;
    }
    case CV_EV_TASK_START: {
        if (p->in_task && l->current_task != e->task && l->drops) {
            /* the previous task's end was in events lost: it ended, how is not known */
            struct task_rec *prev = task_of(c, l->current_task);
            if (prev && prev->status == T_STARTED) {
                prev->status = T_LOST;
                if (s->inflight)
                    s->inflight--;
            }
            p->in_task = false;
        }
        struct task_rec *t = task_of(c, e->task);
        if (t) {
            t->status = T_STARTED;
            t->start_ns = e->ts;
            t->lane = e->lane;
        }
        s->tasks.started++;
        if (++s->inflight > s->inflight_max)
            s->inflight_max = s->inflight;
        l->tasks++;
        l->current_task = e->task;
        p->in_task = true;
        span_push(&c->tl[e->lane], e->task, e->ts);
        set_state(c, l, CV_LANE_RUNNING, e->ts);
        break;
    }
    case CV_EV_TASK_END:
        s->tasks.completed++;
        task_finished(c, l, p, e, T_DONE);
        break;
    case CV_EV_TASK_FAIL:
        s->tasks.failed++;
        task_finished(c, l, p, e, T_FAILED);
        break;
    case CV_EV_TASK_CANCEL:
        s->tasks.cancelled++;
        wait_abandoned(c, l, p);
        task_finished(c, l, p, e, T_CANCELLED);
        break;
    case CV_EV_TASK_TIMEOUT:
        s->tasks.timed_out++;
        break;
    case CV_EV_TASK_RETRY:
        s->tasks.retried++;
        break;
    case CV_EV_LOCK_WAIT:
    case CV_EV_SEM_WAIT:
    case CV_EV_GIL_WAIT:
    case CV_EV_BARRIER_WAIT: {
        struct cv_lock_stats *k = lock_of(c, e->obj, &idx);
        if (k)
            k->waiters++;
        enum cv_lane_state st = e->kind == CV_EV_LOCK_WAIT  ? CV_LANE_LOCK_WAIT
                                : e->kind == CV_EV_SEM_WAIT ? CV_LANE_SEM_WAIT
                                : e->kind == CV_EV_GIL_WAIT ? CV_LANE_GIL_WAIT
                                                            : CV_LANE_BARRIER;
        wait_begin(c, l, p, st, e);
        break;
    }
    case CV_EV_LOCK_ACQUIRE:
    case CV_EV_SEM_ACQUIRE:
    case CV_EV_GIL_ACQUIRE:
        acquired(c, l, p, e);
        break;
    case CV_EV_LOCK_RELEASE:
    case CV_EV_SEM_RELEASE:
    case CV_EV_GIL_RELEASE:
        released(c, p, e);
        break;
    case CV_EV_LOCK_PAIR:
    case CV_EV_LOCK_HELD: {
        /* An uncontended acquisition at ts - arg, recorded late; a pair was released at ts. The
         * lane recorded nothing in between, so this is the lane's own order. */
        struct cv_event a = *e;
        a.ts = e->ts > e->arg ? e->ts - e->arg : 0;
        a.kind = CV_EV_LOCK_ACQUIRE;
        a.arg = 0;
        acquired(c, l, p, &a);
        if (e->kind == CV_EV_LOCK_PAIR)
            released(c, p, e);
        break;
    }
    case CV_EV_BARRIER_RELEASE: {
        /* Passing a barrier: an acquisition that is released at once. */
        acquired(c, l, p, e);
        released(c, p, e);
        break;
    }
    case CV_EV_GIL_DROP_REQUEST:
        s->gil_drop_requests++;
        break;
    case CV_EV_QUEUE_PUSH_WAIT:
    case CV_EV_QUEUE_POP_WAIT: {
        struct cv_queue_stats *q = queue_of(c, e->obj, &idx);
        bool push = e->kind == CV_EV_QUEUE_PUSH_WAIT;
        if (q) {
            if (push) {
                q->push_blocked++;
                q->producers_waiting++;
            } else {
                q->pop_blocked++;
                q->consumers_waiting++;
            }
        }
        p->qwait = push ? QW_PUSH : QW_POP;
        wait_begin(c, l, p, CV_LANE_QUEUE_WAIT, e);
        break;
    }
    case CV_EV_QUEUE_PUSH:
    case CV_EV_QUEUE_POP: {
        struct cv_queue_stats *q = queue_of(c, e->obj, &idx);
        bool push = e->kind == CV_EV_QUEUE_PUSH;
        if (q) {
            if (push)
                q->pushed++;
            else
                q->popped++;
            q->depth = (uint32_t)e->arg;
            if (q->depth > q->max_depth)
                q->max_depth = q->depth;
            series_push(&c->queuep[idx], e->ts, q->depth);
        }
        if (q && push)
            q->unfinished++;
        if (l->waiting_on == e->obj && l->state == CV_LANE_QUEUE_WAIT &&
            p->qwait == (push ? QW_PUSH : QW_POP)) {
            if (q)
                queue_waiter_gone(q, p->qwait);
            l->waiting_on = CV_NONE;
            set_state(c, l, base_state(p), e->ts);
        }
        break;
    }
    case CV_EV_IO_BEGIN:
        l->io_text = e->obj < c->nstrings && c->strings[e->obj] ? e->obj : CV_NONE;
        set_state(c, l, CV_LANE_IO, e->ts);
        break;
    case CV_EV_IO_END:
        l->io_text = CV_NONE;
        set_state(c, l, base_state(p), e->ts);
        break;
    case CV_EV_COUNTER_VALUE:
        if (e->obj < c->nobjs && c->objs[e->obj].kind == CV_OBJ_COUNTER) {
            struct cv_counter_stats *k = &c->counters[c->objs[e->obj].index];
            k->value = e->arg;
            k->samples++;
        }
        break;
    case CV_EV_LOOP_POLL_BEGIN:
        set_state(c, l, CV_LANE_IDLE, e->ts);
        break;
    case CV_EV_LOOP_POLL_END:
        set_state(c, l, CV_LANE_RUNNING, e->ts);
        break;
    case CV_EV_DEADLOCK:
        s->deadlock = true;
        deadlock_freeze(c, e->ts);
        break;
    case CV_EV_JOB_START:
        set_state(c, l, CV_LANE_RUNNING, e->ts);
        break;
    case CV_EV_JOB_END:
        set_state(c, l, base_state(p), e->ts);
        break;
    case CV_EV_DROPS:
        l->drops += e->arg;
        s->events_dropped += e->arg;
        p->lost_pending += (int64_t)e->arg;
        if (p->lost_pending > 0 && l->state != CV_LANE_LOST && l->state != CV_LANE_DEAD)
            lost_begin(c, l, p);
        break;
    case CV_EV_GAP: /* the producer records again: what comes now is known */
        p->lost_pending -= (int64_t)e->arg;
        if (l->state != CV_LANE_LOST) /* the hole, not announced yet: from the last event */
            lost_begin(c, l, p);
        set_state(c, l, base_state(p), e->ts);
        p->last_ts = e->ts;
        break;
    case CV_EV_TASK_FACT: {
        /* the run's word, at its end, for a task whose end event was lost */
        struct task_rec *t = task_of(c, e->task);
        if (!t || t->status == T_DONE || t->status == T_FAILED || t->status == T_CANCELLED)
            break;
        if (t->status == T_STARTED && s->inflight)
            s->inflight--;
        if (e->obj == 0)
            s->tasks.completed++;
        else if (e->obj == 1)
            s->tasks.failed++;
        else
            s->tasks.cancelled++;
        t->status = e->obj == 0 ? T_DONE : e->obj == 1 ? T_FAILED : T_CANCELLED;
        t->end_ns = e->ts;
        s->completed_unseen++;
        break;
    }
    case CV_EV_WORKER_STALL:
    case CV_EV_WORKER_RESUME: {
        /* About another lane (obj), from the main lane: the worker cannot say it is stopped. */
        if (e->obj >= c->nlanes)
            break;
        struct cv_lane_stats *w = &c->lanes[e->obj];
        struct lane_priv *wp = &c->lp[e->obj];
        if (e->kind == CV_EV_WORKER_STALL && w->state != CV_LANE_STALLED &&
            w->state != CV_LANE_DEAD && w->state != CV_LANE_OFF) {
            wp->stall_prev = (uint8_t)w->state;
            set_state(c, w, CV_LANE_STALLED, e->ts);
        } else if (e->kind == CV_EV_WORKER_RESUME && w->state == CV_LANE_STALLED) {
            set_state(c, w, (enum cv_lane_state)wp->stall_prev, e->ts);
        }
        break;
    }
    case CV_EV_QUEUE_TASK_DONE:
    case CV_EV_QUEUE_JOIN_WAIT:
    case CV_EV_QUEUE_JOIN:
        queue_tasks(c, l, p, e);
        break;
    case CV_EV_WAIT_TIMEOUT:
        if (l->waiting_on == e->obj) {
            if (l->state == CV_LANE_QUEUE_WAIT) {
                queue_timed_out(c, p, e->obj);
            } else {
                struct cv_lock_stats *k = lock_of(c, e->obj, &idx);
                if (k)
                    k->timeouts++;
            }
            wait_abandoned(c, l, p);
            set_state(c, l, base_state(p), e->ts);
        }
        break;
    case CV_EV_EVENT_WAIT:
    case CV_EV_EVENT_SET:
    case CV_EV_EVENT_CLEAR:
    case CV_EV_EVENT_WAKE:
    case CV_EV_COND_WAIT:
    case CV_EV_COND_NOTIFY:
    case CV_EV_COND_WAKE:
        signal_event(c, l, p, e);
        break;
    case CV_EV__COUNT:
        break;
    }
}

void cv_collector_feed(struct cv_collector *c, const struct cv_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        feed_one(c, &ev[i]);
}

void cv_collector_attach_rings(struct cv_collector *c, struct cv_ring *const *rings, size_t n,
                               uint64_t t0_ticks)
{
    c->rings = rings;
    c->nrings = n;
    c->t0 = t0_ticks;
    free(c->heap);
    c->heap = cv_xmalloc((n ? n : 1) * sizeof *c->heap);
    free(c->idle_head);
    c->idle_head = cv_xmalloc((n ? n : 1) * sizeof *c->idle_head);
    for (size_t i = 0; i < n; i++)
        c->idle_head[i] = UINT64_MAX; /* each ring looked into by the next pass */
    free(c->cur);
    c->cur = cv_xmalloc((n ? n : 1) * sizeof *c->cur);
    free(c->key);
    c->key = cv_xmalloc((n ? n : 1) * sizeof *c->key);
    free(c->active);
    c->active = cv_xmalloc((n ? n : 1) * sizeof *c->active);
    if (n)
        ensure_lane(c, (uint32_t)(n - 1));
}

static inline uint64_t ticks_ns(const struct cv_collector *c, uint64_t t)
{
    return t > c->t0 ? cv_clock_ticks_to_ns(t - c->t0) : 0;
}

static inline uint64_t slot_ns(const struct cv_collector *c, struct cv_ring *r, uint64_t pos)
{
    return ticks_ns(c, cv_ring_slots(r)[pos & r->mask].ts);
}

size_t cv_collector_drain(struct cv_collector *c, uint64_t now_ns, bool final)
{
    size_t nr = c->nrings;
    if (!nr)
        return 0;
    struct cursor *cur = c->cur;
    uint64_t limit = final ? UINT64_MAX : (now_ns > GRACE_NS ? now_ns - GRACE_NS : 0);
    uint64_t *key = c->key;
    uint32_t *heap = c->heap, *active = c->active;
    size_t nh = 0, fed = 0, na = 0;

    /* A ring the last pass left empty whose head has not moved since is empty still (its tail
     * only follows its head), and one that never dropped has no loss to report: passed over
     * reading only its head's cache line, so that many idle lanes (c10k's ten thousand
     * connections) cost little per pass. */
    for (size_t i = 0; i < nr; i++) {
        if (i + 32 < nr)
            __builtin_prefetch(c->rings[i + 32]);
        struct cv_ring *r = c->rings[i];
        uint64_t end = atomic_load_explicit(&r->head, memory_order_acquire);
        if (end == c->idle_head[i] && !atomic_load_explicit(&r->drops, memory_order_relaxed))
            continue;
        active[na++] = (uint32_t)i;
        cur[i].pos = cur[i].start = atomic_load_explicit(&r->tail, memory_order_relaxed);
        cur[i].end = end;
        if (cur[i].pos < cur[i].end) {
            cv_ring_read_ahead(r, end);
            cur[i].pos = cv_ring_follow(r, cur[i].pos, end); /* past a rewind marker */
            key[i] = slot_ns(c, r, cur[i].pos);
            if (key[i] <= limit) {
                heap[nh] = (uint32_t)i;
                merge_up(heap, nh, key);
                nh++;
            }
        }
    }

    while (nh > 0) {
        uint32_t i = heap[0];
        struct cv_ring *r = c->rings[i];
        /* Feed a run from this lane while it stays the earliest. */
        uint64_t next = limit;
        if (nh > 1 && key[heap[1]] < next)
            next = key[heap[1]];
        if (nh > 2 && key[heap[2]] < next)
            next = key[heap[2]];
        const struct cv_event *slots = cv_ring_slots(r);
        uint64_t ts = key[i];
        do {
            __builtin_prefetch(&slots[(cur[i].pos + 8) & r->mask]);
            struct cv_event e = slots[cur[i].pos & r->mask];
            /* An event published more than GRACE_NS after its time stamp (its thread was
             * descheduled between the two) arrives behind events already fed. It is placed
             * at the frontier: the store, the tap and recordings stay in time order. */
            if (__builtin_expect(e.kind == CV_EV_LOCK_PAIR || e.kind == CV_EV_LOCK_HELD, 0))
                /* the hold, ticks to ns */
                e.arg = ts - ticks_ns(c, e.arg < e.ts ? e.ts - e.arg : 0);
            e.ts = ts < c->frontier ? c->frontier : ts;
            e.lane = (uint16_t)i;
            feed_one(c, &e);
            fed++;
            if (ts > c->frontier)
                c->frontier = ts;
            cur[i].pos++;
            if (cur[i].pos == cur[i].end)
                break;
            cur[i].pos = cv_ring_follow(r, cur[i].pos, cur[i].end);
            ts = slot_ns(c, r, cur[i].pos);
        } while (ts <= next);
        /* Re-key or remove the root, then sift down. */
        if (cur[i].pos < cur[i].end && ts <= limit) {
            key[i] = ts;
        } else {
            if (--nh == 0)
                break;
            heap[0] = heap[nh];
        }
        merge_down(heap, nh, 0, key);
    }

    /* Losses are placed at the merge frontier, keeping the store in time order, once the ring's
     * events from before them are all in (else the lane's hole would begin too early). */
    for (size_t a = 0; a < na; a++) {
        uint32_t i = active[a];
        c->idle_head[i] = cur[i].pos == cur[i].end ? cur[i].end : UINT64_MAX;
        if (cur[i].pos != cur[i].end)
            continue;
        uint64_t drops = cv_ring_take_drops(c->rings[i]);
        if (drops) {
            struct cv_event d = {.ts = c->frontier,
                                 .arg = drops,
                                 .task = CV_NONE,
                                 .obj = CV_NONE,
                                 .lane = (uint16_t)i,
                                 .kind = CV_EV_DROPS};
            feed_one(c, &d);
            fed++;
        }
    }
    for (size_t a = 0; a < na; a++)
        if (cur[active[a]].pos != cur[active[a]].start)
            atomic_store_explicit(&c->rings[active[a]]->tail, cur[active[a]].pos,
                                  memory_order_release);
    return fed;
}

void cv_collector_finish(struct cv_collector *c, uint64_t end_ns)
{
    for (size_t i = 0; i < c->nlanes; i++)
        if (c->lanes[i].state != CV_LANE_OFF && c->lanes[i].state != CV_LANE_DEAD)
            set_state(c, &c->lanes[i], CV_LANE_OFF, end_ns);
    c->finished = true;
    c->snap.now_ns = end_ns;
}

const struct cv_snapshot *cv_collector_snapshot(struct cv_collector *c, uint64_t now_ns)
{
    struct cv_snapshot *s = &c->snap;
    if (c->finished)
        now_ns = s->now_ns;
    s->now_ns = now_ns;
    if (c->nlanes)
        memcpy(c->view, c->lanes, c->nlanes * sizeof *c->view);
    for (size_t i = 0; i < c->nlanes; i++) {
        struct cv_lane_stats *v = &c->view[i];
        if (v->state != CV_LANE_OFF && now_ns > v->since_ns)
            v->state_ns[v->state] += now_ns - v->since_ns;
        v->timeline = c->tl[i].b;
        v->timeline_first = c->tl[i].first;
        v->timeline_n = c->tl[i].started ? c->tl[i].n : 0;
        v->spans = c->tl[i].spans;
        v->nspans = c->tl[i].nspans;
    }
    s->timeline_bucket_ns = c->tl_width;
    s->strings = (const char *const *)c->strings;
    s->nstrings = c->nstrings;
    for (size_t i = 0; i < c->nqueues; i++) {
        c->queues[i].series = c->queuep[i].series;
        c->queues[i].nseries = c->queuep[i].n;
    }
    s->nlanes = c->nlanes;
    s->lanes = c->view;
    s->nlocks = c->nlocks;
    s->locks = c->locks;
    s->nqueues = c->nqueues;
    s->queues = c->queues;
    s->ncounters = c->ncounters;
    s->counters = c->counters;
    s->completion_order = c->order;
    s->ncompleted = c->norder;
    s->store_evicted = c->store_total > c->store_cap ? c->store_total - c->store_cap : 0;
    return s;
}

size_t cv_collector_store_count(const struct cv_collector *c)
{
    return c->store_total < c->store_cap ? (size_t)c->store_total : c->store_cap;
}

const struct cv_event *cv_collector_store_at(const struct cv_collector *c, size_t i)
{
    size_t n = cv_collector_store_count(c);
    if (i >= n)
        return NULL;
#if defined(__x86_64__)
    _mm_sfence(); /* make streamed stores visible to ordinary loads */
#endif
    size_t at = (n < c->store_cap ? 0 : c->store_pos) + i;
    if (at >= c->store_cap)
        at -= c->store_cap;
    return &c->store[at];
}

/* ------------------------------------------------------------------ checkpoints */

#define CKPT_MAGIC 0x34504b43u /* "CKP4" */
#define CKPT_MAGIC_V3                                                                             \
    0x33504b43u /* "CKP3": before event and condition waits, queue timeouts and joins; still read \
                 */
#define CKPT_MAGIC_V2  0x32504b43u  /* "CKP2": before the lost state; still read */
#define CKPT_MAGIC_V1  0x31504b43u  /* "CKP1": before the stalled state; still read */
#define V1_STATES      10           /* lane states then; stalled came in before dead */
#define V2_STATES      11           /* lane states then; lost came in before off */
#define V3_STATES      12           /* lane states then */
#define V3_IDLE        7            /* event and condition waits came in before idle */
#define CKPT_SPANS_MAX 1024         /* the latest task spans kept per lane */
#define MAX_TS         (1ull << 58) /* times in a checkpoint beyond this are corruption */

struct obuf {
    unsigned char *p;
    size_t n, cap;
};

static void put(struct obuf *o, const void *v, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->p = cv_xrealloc(o->p, o->cap);
    }
    if (n) /* v may be NULL for an empty array */
        memcpy(o->p + o->n, v, n);
    o->n += n;
}
#define PUT(o, x)                 \
    do {                          \
        __typeof__(x) v_ = (x);   \
        put((o), &v_, sizeof v_); \
    } while (0)

struct ibuf {
    const unsigned char *p;
    size_t n, at;
    bool bad;
};

static bool get(struct ibuf *in, void *v, size_t n)
{
    if (in->bad || n > in->n - in->at) {
        in->bad = true;
        memset(v, 0, n);
        return false;
    }
    memcpy(v, in->p + in->at, n);
    in->at += n;
    return true;
}
#define GET(in, x) get((in), &(x), sizeof(x))

unsigned char *cv_collector_save(const struct cv_collector *c, size_t *len)
{
    struct obuf o = {0};
    const struct cv_snapshot *s = &c->snap;
    PUT(&o, (uint32_t)CKPT_MAGIC);
    PUT(&o, (uint32_t)c->nlanes);
    PUT(&o, (uint32_t)c->nlocks);
    PUT(&o, (uint32_t)c->nqueues);
    PUT(&o, (uint32_t)c->ncounters);
    PUT(&o, c->tl_width);
    put(&o, &s->tasks, sizeof s->tasks);
    PUT(&o, s->inflight);
    PUT(&o, s->inflight_max);
    PUT(&o, s->events_recorded);
    PUT(&o, s->events_dropped);
    PUT(&o, s->gil_switches);
    PUT(&o, s->gil_drop_requests);
    PUT(&o, (uint8_t)s->deadlock);
    PUT(&o, s->completed_unseen);
    for (size_t i = 0; i < c->nlanes; i++) {
        const struct cv_lane_stats *l = &c->lanes[i];
        const struct lane_priv *p = &c->lp[i];
        const struct lane_tl *t = &c->tl[i];
        PUT(&o, (uint8_t)l->state);
        PUT(&o, l->since_ns);
        put(&o, l->state_ns, sizeof l->state_ns);
        PUT(&o, l->tasks);
        PUT(&o, l->current_task);
        PUT(&o, l->waiting_on);
        PUT(&o, l->io_text);
        PUT(&o, l->events);
        PUT(&o, l->drops);
        PUT(&o, (uint8_t)p->in_task);
        PUT(&o, p->qwait);
        PUT(&o, p->stall_prev);
        PUT(&o, p->lost_pending);
        PUT(&o, p->wait_since);
        PUT(&o, (uint8_t)p->nheld);
        for (unsigned k = 0; k < p->nheld; k++) {
            PUT(&o, p->held[k].obj);
            PUT(&o, p->held[k].since);
        }
        PUT(&o, (uint8_t)t->started);
        PUT(&o, t->first);
        PUT(&o, t->open_end);
        put(&o, t->acc, sizeof t->acc);
        PUT(&o, t->n);
        put(&o, t->b, t->n);
        uint32_t ns = t->nspans < CKPT_SPANS_MAX ? t->nspans : CKPT_SPANS_MAX;
        PUT(&o, ns);
        for (uint32_t k = t->nspans - ns; k < t->nspans; k++) {
            PUT(&o, t->spans[k].start_ns);
            PUT(&o, t->spans[k].end_ns);
            PUT(&o, t->spans[k].task);
        }
    }
    for (size_t i = 0; i < c->nlocks; i++) {
        const struct cv_lock_stats *k = &c->locks[i];
        PUT(&o, k->acquisitions);
        PUT(&o, k->contended);
        PUT(&o, k->wait_ns_total);
        PUT(&o, k->wait_ns_max);
        PUT(&o, k->hold_ns_total);
        PUT(&o, k->holder);
        PUT(&o, k->holders);
        PUT(&o, k->waiters);
        PUT(&o, k->handoff_from);
        PUT(&o, k->handoff_to);
        PUT(&o, k->handoffs);
        PUT(&o, c->lockp[i].last_holder);
        PUT(&o, k->waits);
        PUT(&o, k->signals);
        PUT(&o, k->clears);
        PUT(&o, k->timeouts);
    }
    for (size_t i = 0; i < c->nqueues; i++) {
        const struct cv_queue_stats *q = &c->queues[i];
        PUT(&o, q->depth);
        PUT(&o, q->max_depth);
        PUT(&o, q->pushed);
        PUT(&o, q->popped);
        PUT(&o, q->push_blocked);
        PUT(&o, q->pop_blocked);
        PUT(&o, q->producers_waiting);
        PUT(&o, q->consumers_waiting);
        PUT(&o, q->put_timeouts);
        PUT(&o, q->get_timeouts);
        PUT(&o, q->join_timeouts);
        PUT(&o, q->join_waits);
        PUT(&o, q->unfinished);
        PUT(&o, q->joiners_waiting);
        PUT(&o, (uint32_t)c->queuep[i].n);
        for (size_t k = 0; k < c->queuep[i].n; k++) {
            PUT(&o, c->queuep[i].series[k].ts);
            PUT(&o, c->queuep[i].series[k].depth);
        }
    }
    for (size_t i = 0; i < c->ncounters; i++) {
        PUT(&o, c->counters[i].value);
        PUT(&o, c->counters[i].samples);
    }
    /* tasks: only the ones running matter to what comes after */
    uint32_t nrun = 0;
    for (size_t pg = 0; pg < c->npages_top; pg++)
        for (size_t k = 0; c->task_pages[pg] && k < TASK_PAGE; k++)
            nrun += c->task_pages[pg][k].status == T_STARTED;
    PUT(&o, nrun);
    for (size_t pg = 0; pg < c->npages_top; pg++)
        for (size_t k = 0; c->task_pages[pg] && k < TASK_PAGE; k++)
            if (c->task_pages[pg][k].status == T_STARTED)
                PUT(&o, (uint32_t)(pg * TASK_PAGE + k));
    *len = o.n;
    return o.p;
}

static uint32_t pow2_at_least(uint32_t n, uint32_t lo)
{
    uint32_t c = lo;
    while (c < n)
        c *= 2;
    return c;
}

/* A lane state of a checkpoint of version `ver` as it is numbered now. */
static uint8_t old_state(unsigned ver, uint8_t st)
{
    if (ver == 1 && st >= V3_IDLE + 1) /* stalled came in before dead */
        st++;
    if (ver <= 2 && st >= V3_IDLE + 3) /* lost came in before off */
        st++;
    if (ver <= 3 && st >= V3_IDLE) /* event and condition waits before idle */
        st += CV_LANE_IDLE - V3_IDLE;
    return st;
}

static unsigned states_of(unsigned ver)
{
    return ver == 1 ? V1_STATES : ver == 2 ? V2_STATES : ver == 3 ? V3_STATES : CV_LANE__COUNT;
}

/* Time per lane state, as many as version `ver` had, renumbered. */
static void get_state_times(struct ibuf *in, uint64_t *out, unsigned ver)
{
    if (ver == 4) {
        get(in, out, CV_LANE__COUNT * sizeof *out);
        return;
    }
    uint64_t old[CV_LANE__COUNT];
    get(in, old, states_of(ver) * sizeof *old);
    memset(out, 0, CV_LANE__COUNT * sizeof *out);
    for (uint8_t k = 0; k < states_of(ver); k++)
        out[old_state(ver, k)] = old[k];
}

/* An id that is a lane, or none. */
static bool lane_or_none(const struct cv_collector *c, uint32_t id)
{
    return id == CV_NONE || id < c->nlanes;
}

bool cv_collector_restore(struct cv_collector *c, const unsigned char *buf, size_t len,
                          const uint32_t *order, size_t norder)
{
    struct ibuf in = {buf, len, 0, false};
    uint32_t magic, nl, nk, nq, nc;
    GET(&in, magic);
    GET(&in, nl);
    GET(&in, nk);
    GET(&in, nq);
    GET(&in, nc);
    unsigned ver = magic == CKPT_MAGIC_V1   ? 1
                   : magic == CKPT_MAGIC_V2 ? 2
                   : magic == CKPT_MAGIC_V3 ? 3
                                            : 4;
    unsigned nstates = states_of(ver);
    /* fewer lanes and objects than declared: a traced program's appear as it runs, and the
     * recording declares them all (the ones not there yet stay as declared, fresh) */
    if (in.bad || (magic != CKPT_MAGIC && ver == 4) || nl > c->nlanes || nk > c->nlocks ||
        nq > c->nqueues || nc > c->ncounters)
        return false;
    struct cv_snapshot *s = &c->snap;
    uint8_t u8;
    GET(&in, c->tl_width);
    if (c->tl_width < TL_WIDTH0 || c->tl_width % TL_WIDTH0 || c->tl_width > MAX_TS / 4096)
        return false;
    get(&in, &s->tasks, sizeof s->tasks);
    GET(&in, s->inflight);
    GET(&in, s->inflight_max);
    GET(&in, s->events_recorded);
    GET(&in, s->events_dropped);
    GET(&in, s->gil_switches);
    GET(&in, s->gil_drop_requests);
    GET(&in, u8);
    s->deadlock = u8;
    s->completed_unseen = 0;
    if (ver > 2)
        GET(&in, s->completed_unseen);
    /* restored after a deadlock: every event from here came after it (recordings are in time
     * order) */
    c->frozen = s->deadlock;
    c->frozen_ns = 0;
    for (size_t i = 0; i < nl && !in.bad; i++) {
        struct cv_lane_stats *l = &c->lanes[i];
        struct lane_priv *p = &c->lp[i];
        struct lane_tl *t = &c->tl[i];
        GET(&in, u8);
        in.bad |= u8 >= nstates;
        l->state = u8 < nstates ? old_state(ver, u8) : CV_LANE_OFF;
        GET(&in, l->since_ns);
        get_state_times(&in, l->state_ns, ver);
        GET(&in, l->tasks);
        GET(&in, l->current_task);
        GET(&in, l->waiting_on);
        GET(&in, l->io_text);
        GET(&in, l->events);
        GET(&in, l->drops);
        GET(&in, u8);
        p->in_task = u8;
        GET(&in, u8);
        p->qwait = u8 <= QW_JOIN ? u8 : QW_POP;
        p->stall_prev = CV_LANE_RUNNING;
        if (ver > 1) {
            GET(&in, p->stall_prev);
            in.bad |= p->stall_prev >= nstates;
            p->stall_prev = old_state(ver, p->stall_prev);
        }
        p->lost_pending = 0;
        if (ver > 2)
            GET(&in, p->lost_pending);
        GET(&in, p->wait_since);
        GET(&in, u8);
        if (u8 > HELD_MAX)
            return false;
        p->nheld = u8;
        for (unsigned k = 0; k < p->nheld; k++) {
            GET(&in, p->held[k].obj);
            GET(&in, p->held[k].since);
        }
        GET(&in, u8);
        t->started = u8;
        GET(&in, t->first);
        GET(&in, t->open_end);
        if (t->first > MAX_TS / c->tl_width || t->open_end > MAX_TS)
            return false;
        get_state_times(&in, t->acc, ver);
        uint32_t n;
        GET(&in, n);
        if (in.bad || n > CV_TIMELINE_MAX || n > len - in.at)
            return false;
        t->cap = pow2_at_least(n, 64);
        t->b = cv_xrealloc(t->b, t->cap);
        get(&in, t->b, n);
        t->n = n;
        for (uint32_t k = 0; k < n; k++) {
            if (t->b[k] >= nstates)
                return false;
            t->b[k] = old_state(ver, t->b[k]);
        }
        GET(&in, n);
        if (in.bad || n > CKPT_SPANS_MAX || (size_t)n * 20 > len - in.at)
            return false;
        t->spans_cap = pow2_at_least(n, 4);
        t->spans = cv_xrealloc(t->spans, t->spans_cap * sizeof *t->spans);
        t->nspans = n;
        for (uint32_t k = 0; k < n; k++) {
            GET(&in, t->spans[k].start_ns);
            GET(&in, t->spans[k].end_ns);
            GET(&in, t->spans[k].task);
        }
    }
    for (size_t i = 0; i < nk && !in.bad; i++) {
        struct cv_lock_stats *k = &c->locks[i];
        GET(&in, k->acquisitions);
        GET(&in, k->contended);
        GET(&in, k->wait_ns_total);
        GET(&in, k->wait_ns_max);
        GET(&in, k->hold_ns_total);
        GET(&in, k->holder);
        GET(&in, k->holders);
        GET(&in, k->waiters);
        GET(&in, k->handoff_from);
        GET(&in, k->handoff_to);
        GET(&in, k->handoffs);
        GET(&in, c->lockp[i].last_holder);
        if (ver > 3) {
            GET(&in, k->waits);
            GET(&in, k->signals);
            GET(&in, k->clears);
            GET(&in, k->timeouts);
        }
        if (!lane_or_none(c, k->holder) || !lane_or_none(c, k->handoff_from) ||
            !lane_or_none(c, k->handoff_to) || !lane_or_none(c, c->lockp[i].last_holder))
            return false;
    }
    for (size_t i = 0; i < nq && !in.bad; i++) {
        struct cv_queue_stats *q = &c->queues[i];
        GET(&in, q->depth);
        GET(&in, q->max_depth);
        GET(&in, q->pushed);
        GET(&in, q->popped);
        GET(&in, q->push_blocked);
        GET(&in, q->pop_blocked);
        GET(&in, q->producers_waiting);
        GET(&in, q->consumers_waiting);
        q->put_timeouts = q->get_timeouts = q->join_timeouts = q->join_waits = 0;
        /* before version 4 no task_done was recorded: every item put counts unfinished */
        q->unfinished = (uint32_t)(q->pushed < UINT32_MAX ? q->pushed : UINT32_MAX);
        q->joiners_waiting = 0;
        if (ver > 3) {
            GET(&in, q->put_timeouts);
            GET(&in, q->get_timeouts);
            GET(&in, q->join_timeouts);
            GET(&in, q->join_waits);
            GET(&in, q->unfinished);
            GET(&in, q->joiners_waiting);
        }
        uint32_t n;
        GET(&in, n);
        if (n > SERIES_MAX)
            return false;
        c->queuep[i].n = n;
        for (uint32_t k = 0; k < n; k++) {
            GET(&in, c->queuep[i].series[k].ts);
            GET(&in, c->queuep[i].series[k].depth);
        }
    }
    for (size_t i = 0; i < nc; i++) {
        GET(&in, c->counters[i].value);
        GET(&in, c->counters[i].samples);
    }
    uint32_t nrun;
    GET(&in, nrun);
    if (in.bad || nrun > (len - in.at) / 4)
        return false;
    for (size_t pg = 0; pg < c->npages_top; pg++)
        for (size_t k = 0; c->task_pages[pg] && k < TASK_PAGE; k++)
            c->task_pages[pg][k].status = T_UNKNOWN;
    for (uint32_t k = 0; k < nrun; k++) {
        uint32_t id;
        GET(&in, id);
        struct task_rec *t = task_of(c, id);
        if (t)
            t->status = T_STARTED;
    }
    if (in.bad || in.at != len)
        return false;
    c->norder = 0;
    for (size_t i = 0; i < norder; i++)
        order_push(c, order[i]);
    return true;
}

size_t cv_collector_nlanes(const struct cv_collector *c)
{
    return c->nlanes;
}

bool cv_collector_lane(const struct cv_collector *c, uint32_t lane, const char **name,
                       enum cv_lane_role *role)
{
    if (lane >= c->nlanes)
        return false;
    *name = c->lanes[lane].name;
    *role = c->lanes[lane].role;
    return true;
}

bool cv_collector_task_ended(struct cv_collector *c, uint32_t task)
{
    struct task_rec *t = task_of(c, task);
    return !t || t->status == T_DONE || t->status == T_FAILED || t->status == T_CANCELLED;
}

void cv_collector_set_lane_pid(struct cv_collector *c, uint32_t lane, int32_t pid)
{
    ensure_lane(c, lane);
    c->lanes[lane].pid = pid;
}

int32_t cv_collector_lane_pid(const struct cv_collector *c, uint32_t lane)
{
    return lane < c->nlanes ? c->lanes[lane].pid : 0;
}

size_t cv_collector_order(const struct cv_collector *c, const uint32_t **order)
{
    *order = c->order;
    return c->norder;
}

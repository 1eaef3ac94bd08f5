/*
 * What `concviz trace` and the library it preloads into a program share: one mapping (a memfd the
 * program finds through CONCVIZ_TRACE) holding a header, a table of lanes (one per thread of the
 * program, claimed by the thread itself), a hash table of the program's objects (mutexes,
 * semaphores, the GIL), and one event ring per lane, laid out at a fixed stride. Offsets, never
 * pointers: the program and concviz map it at different addresses, and a forked child inherits it.
 *
 * Lanes and objects are claimed with atomics by any thread of any traced process and published
 * with a release store of their state; concviz reads them with acquire loads (models/trace.c).
 * Events are the engine's own (concviz/event.h) in the engine's rings (concviz/ring.h), stamped
 * with the clock concviz uses (clock_source).
 */
#ifndef CONCVIZ_TRACE_SHM_H
#define CONCVIZ_TRACE_SHM_H

#include <stdatomic.h>
#include <stdint.h>

#include "concviz/collector.h"

#define CV_TRACE_MAGIC   0x6563617274766351ull /* "Qcvtrace" */
#define CV_TRACE_VERSION 2u
#define CV_TRACE_ENV     "CONCVIZ_TRACE"

enum cv_trace_slot_state { CV_TRACE_FREE, CV_TRACE_CLAIMED, CV_TRACE_READY };

struct cv_trace_lane {
    _Atomic uint32_t state; /* enum cv_trace_slot_state */
    /* Renames (a thread names itself) go through a sequence lock: odd while being written. */
    _Atomic uint32_t name_gen;
    int32_t pid, tid;
    _Atomic uint32_t ended; /* the thread ended (its last event is worker.exit) */
    /* Its process exec'd another program (the new image says so: the thread is gone, though the
     * pid lives on). A thread of a process that died is known gone from the pid (concviz). */
    _Atomic uint32_t gone;
    /* When its process began to exit (exit, _exit) or exec'd, stamped by the process: the end
     * concviz gives a thread that could not record its own; 0 when unknown. */
    _Atomic uint64_t exit_ts;
    char name[CV_NAME_MAX];
};

struct cv_trace_obj {
    _Atomic uint32_t state; /* enum cv_trace_slot_state */
    uint32_t kind;          /* enum cv_object_kind */
    uint32_t id;            /* dense, from 0, in claim order */
    int32_t pid;            /* the process whose address space addr is in */
    uint64_t addr;
    char name[CV_NAME_MAX];
};

/* What a lane waits in ("read on fd 3"), named by io.begin's obj: written once, by any thread. */
#define CV_TRACE_TEXTS    1024
#define CV_TRACE_TEXT_MAX 44
struct cv_trace_text {
    _Atomic uint32_t state; /* enum cv_trace_slot_state */
    char text[CV_TRACE_TEXT_MAX];
};

struct cv_trace_shm {
    uint64_t magic;
    uint32_t version;
    uint32_t clock_source; /* enum cv_clock_source: CV_CLOCK_TSC or CV_CLOCK_MONOTONIC */
    uint64_t size;         /* of the whole mapping */
    uint32_t max_lanes;
    uint32_t obj_slots; /* hash table size, a power of two; at most max_objs of them used */
    uint32_t max_objs;
    uint32_t pad0;
    uint64_t ring_capacity; /* events per lane */
    uint64_t ring_stride;   /* bytes from one lane's ring to the next */
    uint64_t lanes_off, objs_off, rings_off, texts_off;

    _Atomic uint32_t nlanes;        /* lanes claimed (ids 0 .. nlanes-1; may exceed max) */
    _Atomic uint32_t nobjs;         /* object ids handed out (may exceed max_objs) */
    _Atomic uint32_t objs_untraced; /* objects seen past the budget: their calls not traced */
    _Atomic uint32_t processes;     /* processes that loaded the library */
    _Atomic uint32_t stop;          /* concviz asks the library to stop recording */
    _Atomic uint32_t python_seen;   /* 1: an interpreter started; python holds its version */
    _Atomic uint32_t gil_found;     /* 1: its GIL was recognised (object "GIL", kind gil) */
    _Atomic uint32_t gil_unknown;   /* 1: an interpreter whose GIL is not known to concviz */
    char python[32];
};

static inline struct cv_trace_lane *cv_trace_lanes(struct cv_trace_shm *t)
{
    return (struct cv_trace_lane *)((char *)t + t->lanes_off);
}
static inline struct cv_trace_obj *cv_trace_objs(struct cv_trace_shm *t)
{
    return (struct cv_trace_obj *)((char *)t + t->objs_off);
}
static inline struct cv_trace_text *cv_trace_texts(struct cv_trace_shm *t)
{
    return (struct cv_trace_text *)((char *)t + t->texts_off);
}
static inline void *cv_trace_ring_mem(struct cv_trace_shm *t, uint32_t lane)
{
    return (char *)t + t->rings_off + (uint64_t)lane * t->ring_stride;
}

#endif

/*
 * The run's shared memory as the primitives see it: the arena objects are made in (offsets, not
 * pointers, so every worker process finds them at its own address), the object registry the
 * collector names objects from, robust process-shared mutexes, and the table of texts events
 * refer to by id. The run lays the mapping out (run.c); everything here works inside it.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void cv__pshared_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    /* A worker process killed inside a primitive's short critical section must not wedge the
     * others: the next locker gets EOWNERDEAD and carries on (cv__mu_lock). */
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

void cv__mu_lock(pthread_mutex_t *m)
{
    if (pthread_mutex_lock(m) == EOWNERDEAD)
        pthread_mutex_consistent(m);
}

void *cv__shm_alloc(struct cv_run *run, uint64_t bytes)
{
    struct cv_shm *h = run->shm;
    uint64_t n = cv__align64(bytes);
    if (h->arena_used + n > h->arena_size) {
        cv_run_error(run, "shared memory arena full (%llu bytes asked)", (unsigned long long)bytes);
        return NULL;
    }
    void *p = run->shm_base + h->arena_off + h->arena_used;
    h->arena_used += n;
    memset(p, 0, n);
    return p;
}

uint64_t cv__shm_off(struct cv_run *run, const void *p)
{
    return (uint64_t)((const char *)p - run->shm_base);
}

void *cv__shm_ptr(struct cv_run *run, uint64_t off)
{
    return run->shm_base + off;
}

struct cv__strtab {
    struct {
        _Atomic uint64_t hash; /* 0 = free */
        _Atomic uint32_t ready;
        char text[CV__STRTAB_TEXT];
    } slot[CV__STRTAB_SLOTS];
};

void cv__strtab_make(struct cv_run *run)
{
    run->strtab = cv__shm_alloc(run, sizeof(struct cv__strtab));
}

uint32_t cv__intern(struct cv_run *run, const char *text)
{
    struct cv__strtab *t = run->strtab;
    if (!t)
        return CV_NONE;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h |= 1;
    for (uint32_t k = 0; k < 16; k++) {
        uint32_t i = (uint32_t)((h + k) % CV__STRTAB_SLOTS);
        uint64_t cur = atomic_load_explicit(&t->slot[i].hash, memory_order_acquire);
        if (cur == h)
            return i;
        if (cur == 0 && atomic_compare_exchange_strong(&t->slot[i].hash, &cur, h)) {
            snprintf(t->slot[i].text, sizeof t->slot[i].text, "%s", text);
            atomic_store_explicit(&t->slot[i].ready, 1, memory_order_release);
            return i;
        }
        if (cur == h)
            return i; /* another worker claimed it for the same text meanwhile */
    }
    return CV_NONE;
}

void cv__strtab_sync(struct cv_run *run)
{
    struct cv__strtab *t = run->strtab;
    if (!t)
        return;
    for (uint32_t i = 0; i < CV__STRTAB_SLOTS; i++)
        if (!run->strtab_synced[i] &&
            atomic_load_explicit(&t->slot[i].ready, memory_order_acquire)) {
            cv_collector_add_string(run->col, i, t->slot[i].text);
            run->strtab_synced[i] = 1;
        }
}

void *cv_shared_alloc(struct cv_run *run, unsigned long bytes)
{
    return cv__shm_alloc(run, bytes);
}

uint32_t cv__obj_register(struct cv_run *run, enum cv_object_kind kind, const char *name,
                          uint32_t capacity, const void *obj)
{
    struct cv_shm *h = run->shm;
    if (h->nobjs >= CV_MAX_OBJECTS) {
        cv_run_error(run, "too many objects (at most %d)", CV_MAX_OBJECTS);
        return CV_NONE;
    }
    uint32_t id = h->nobjs++;
    struct cv_obj_entry *e = &h->objs[id];
    e->kind = kind;
    e->capacity = capacity;
    e->off = obj ? cv__shm_off(run, obj) : 0;
    snprintf(e->name, sizeof e->name, "%s", name);
    cv_collector_add_object(run->col, id, kind, e->name, capacity);
    return id;
}

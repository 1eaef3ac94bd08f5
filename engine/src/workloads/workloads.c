/* The workload registry: the built-in workloads (one file each) plus any registered at run time. */
#include "wl.h"

#include <string.h>

extern const struct cv_workload cv__wl_primes;
extern const struct cv_workload cv__wl_counter;
extern const struct cv_workload cv__wl_countdown;
extern const struct cv_workload cv__wl_pipeline;
extern const struct cv_workload cv__wl_sleeps;
extern const struct cv_workload cv__wl_locks;
extern const struct cv_workload cv__wl_factorize;
extern const struct cv_workload cv__wl_chunks;
extern const struct cv_workload cv__wl_squares;
extern const struct cv_workload cv__wl_compress;
extern const struct cv_workload cv__wl_phases;
extern const struct cv_workload cv__wl_mixed;
extern const struct cv_workload cv__wl_fetch;
extern const struct cv_workload cv__wl_blocker;
extern const struct cv_workload cv__wl_retry;
extern const struct cv_workload cv__wl_offload;
extern const struct cv_workload cv__wl_group;
extern const struct cv_workload cv__wl_files;
extern const struct cv_workload cv__wl_trace;
extern const struct cv_workload cv__wl_stopevent;
extern const struct cv_workload cv__wl_condlist;
extern const struct cv_workload cv__wl_taskqueue;
extern const struct cv_workload cv__wl_daemon;

static const struct cv_workload *const builtin[] = {
    &cv__wl_primes,   &cv__wl_counter,   &cv__wl_countdown, &cv__wl_pipeline, &cv__wl_sleeps,
    &cv__wl_locks,    &cv__wl_factorize, &cv__wl_chunks,    &cv__wl_squares,  &cv__wl_compress,
    &cv__wl_phases,   &cv__wl_mixed,     &cv__wl_fetch,     &cv__wl_blocker,  &cv__wl_retry,
    &cv__wl_offload,  &cv__wl_group,     &cv__wl_files,     &cv__wl_trace,    &cv__wl_stopevent,
    &cv__wl_condlist, &cv__wl_taskqueue, &cv__wl_daemon,
};

#define MAX_EXTRA 32
static const struct cv_workload *extra[MAX_EXTRA];
static size_t nextra;

const struct cv_workload *cv_workload_find(const char *name)
{
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(builtin[i]->name, name))
            return builtin[i];
    for (size_t i = 0; i < nextra; i++)
        if (!strcmp(extra[i]->name, name))
            return extra[i];
    return NULL;
}

int cv_workload_register(const struct cv_workload *w)
{
    if (!w || !w->name || cv_workload_find(w->name) || nextra == MAX_EXTRA)
        return CV_ERR_USAGE;
    extra[nextra++] = w;
    return CV_OK;
}

const struct cv_workload *cv_workload_at(size_t i)
{
    size_t nb = sizeof builtin / sizeof builtin[0];
    if (i < nb)
        return builtin[i];
    return i - nb < nextra ? extra[i - nb] : NULL;
}

/* Waiting by blocking an OS thread (or process) on its lane's process-shared semaphore. */
#include "internal.h"

#include <errno.h>
#include <time.h>

static void block_park(struct cv_ctx *ctx, uint64_t deadline_ns)
{
    sem_t *s = &cv__lane(ctx->run, ctx->lane)->park;
    if (deadline_ns == 0) {
        while (sem_wait(s) != 0 && errno == EINTR)
            ;
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                          .tv_nsec = (long)(deadline_ns % 1000000000u)};
    while (sem_clockwait(s, CLOCK_MONOTONIC, &ts) != 0 && errno == EINTR)
        ;
}

static void block_unpark(struct cv_run *run, uint32_t lane)
{
    sem_post(&cv__lane(run, lane)->park);
}

const struct cv_wait_ops cv__wait_block = {.park = block_park, .unpark = block_unpark};

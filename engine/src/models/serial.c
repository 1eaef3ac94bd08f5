/* serial: every task in turn on the calling thread, like a plain for loop. */
#include "internal.h"

static uint32_t serial_lanes(const struct cv_run *run)
{
    (void)run;
    return 1;
}

static int serial_run(struct cv_run *run)
{
    struct cv_ctx *ctx = &run->ctxs[0];
    run->os_threads = 1;
    cv__submit_all(run);
    for (uint32_t i = 0; i < run->ntasks; i++) {
        if (cv_stopping(ctx))
            cv_ring_record(ctx->ring, CV_EV_TASK_CANCEL, ctx->lane, i, CV_NO_OBJ, 0);
        else
            cv__run_task(ctx, i);
    }
    cv_emit(ctx, CV_EV_WORKER_EXIT, CV_NO_OBJ, 0);
    return 0;
}

const struct cv_model_ops cv__model_serial = {
    .id = CV_MODEL_SERIAL,
    .lanes = serial_lanes,
    .run = serial_run,
    .wait = &cv__wait_block,
};

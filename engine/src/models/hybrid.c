/* hybrid: the epoll model's loop plus an executor, `workers` offload lanes (n+1..n+w) that run
 * cv_offload_cpu work while the task that asked waits, as run_in_executor / to_thread do: threads
 * taking jobs from a list (offload = threads, the default; executors.c) or forked processes
 * (offload = procs; xprocs.c). */
#include "loop.h"

const struct cv_model_ops cv__model_hybrid = {
    .id = CV_MODEL_HYBRID,
    .lanes = cv__loop_lanes,
    .run = cv__loop_run,
    .wait = &cv__loop_wait,
    .lane_name = cv__loop_lane_name,
    .ring_size = cv__loop_ring_size,
};

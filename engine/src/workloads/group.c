/* group: tasks that wait, one of which fails part-way. As a TaskGroup (mode=taskgroup) the
 * failure cancels the others; as gather(return_exceptions=True) (mode=gather) they all run on
 * and the one error is reported with the results. */
#include "wl.h"

#include <string.h>

static const struct cv_param_def params[] = {
    {"mode", CV_PARAM_ENUM, "taskgroup", "fail fast (taskgroup) or collect all (gather)",
     "taskgroup|gather", 0, 0},
    {"tasks", CV_PARAM_INT, "6", "tasks in the group", NULL, 1, 10000},
    {"task_ms", CV_PARAM_FLOAT, "1000", "how long each task waits, ms", NULL, 0, 3600000},
    {"failing", CV_PARAM_INT, "2", "the task that fails", NULL, 0, 9999},
    {"fail_ms", CV_PARAM_FLOAT, "300", "when it fails, ms after it starts", NULL, 0, 3600000},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int group_plan(struct cv_run *run, char **cause)
{
    if (cv_param_int(run, "failing") >= cv_param_int(run, "tasks")) {
        if (cause)
            *cause = cv_strdup("failing must name one of the tasks (0 to tasks-1)");
        return CV_ERR_USAGE;
    }
    cv_run_set_tasks(run, (uint32_t)cv_param_int(run, "tasks"));
    cv_run_set_fail_fast(run, !strcmp(cv_param_str(run, "mode"), "taskgroup"));
    return CV_OK;
}

static int group_task(struct cv_ctx *ctx, uint32_t task)
{
    struct cv_run *run = ctx->run;
    if ((int64_t)task == cv_param_int(run, "failing")) {
        if (!cv_sleep(ctx, (uint64_t)(cv_param_num(run, "fail_ms") * 1e6)))
            return -1;
        return -5; /* raise ConnectionError */
    }
    return cv_sleep(ctx, (uint64_t)(cv_param_num(run, "task_ms") * 1e6)) ? 0 : -1;
}

static void group_finish(struct cv_run *run)
{
    cv_result_str(run, "mode", cv_param_str(run, "mode"));
    cv_result_num(run, "failing_task", (double)cv_param_int(run, "failing"));
}

const struct cv_workload cv__wl_group = {
    .name = "group",
    .summary = "waiting tasks, one of which fails: fail fast or collect all",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = group_plan,
    .task = group_task,
    .finish = group_finish,
};

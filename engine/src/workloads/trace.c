/* trace: what `concviz trace` runs is a program, not tasks of ours: no tasks to plan, no
 * objects to make; model trace starts the program and reports how it ended. */
#include "wl.h"

#include <string.h>

static const struct cv_param_def params[] = {{0}};

static int trace_plan(struct cv_run *run, char **cause)
{
    if (strcmp(cv_run_model_name(run), "trace")) {
        *cause = cv_strdup("workload trace is what 'concviz trace -- PROGRAM' runs; a scenario "
                           "cannot name it");
        return CV_ERR_USAGE;
    }
    cv_run_set_tasks(run, 0);
    return CV_OK;
}

const struct cv_workload cv__wl_trace = {
    .name = "trace",
    .summary = "a program's own threads, traced (concviz trace -- PROGRAM)",
    .params = params,
    .shape = CV_SHAPE_TASKS,
    .plan = trace_plan,
};

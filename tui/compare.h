/* The compare view: the scenario under each model, each several times (runs, 3 at first),
 * then a table of how each did: the median wall time, the spread of the runs, the speed-up of
 * the medians, and a warning when the figures are noisy. The table is compare's own: the loop
 * hands it each finished run's summary (compare_record). */
#ifndef CONCVIZ_TUI_COMPARE_H
#define CONCVIZ_TUI_COMPARE_H

#include <stdbool.h>

#include "compare-stats.h"
#include "ui.h"

#define CMP_MAX 8 /* models (rows) */

struct compare {
    bool on;    /* running the models in turn */
    bool table; /* the table stays in view until a key */
    int runs;   /* runs of each model for the next comparison: 1, 3, 5 or 7 (0: 3) */
    int want;   /* this comparison's */
    int n;
    int round, at; /* the run under way: round `round` of row `at` */
    struct compare_row row[CMP_MAX];
    int saved_model, saved_gil;
    const char *saved_python;
    const char *gil_python; /* the CPython the +GIL row models: the one asked for, else 3.11 */
    double next_at;         /* when the next run starts (the finished one stays in view a moment) */
    struct cmp_sample before, after;
    struct cmp_noise noise; /* once the last run has ended */
};

/* Starts a comparison of req's scenario: req->cfg is set for its first run, which the caller
 * starts when this returns true. The models take turns: each once, then each again. */
bool compare_start(struct compare *c, struct ui_run_req *req);
/* The next count of runs for each model (1, 3, 5, 7, then 1 again); it is returned. */
int compare_cycle_runs(struct compare *c);
/* A run of the comparison has ended with this summary. */
void compare_record(struct compare *c, const struct cv_value *sum, enum cv_run_state st,
                    unsigned failed);
/* Each turn of the loop: once the last run has been seen for a moment, req->cfg is set for the
 * next one and true returned (the caller starts it); after the last, the table, and req->cfg is
 * as it was. running: a run is going; failed: the last one could not start. */
bool compare_step(struct compare *c, struct ui_run_req *req, bool running, bool failed);
/* Any key closes the table. */
void compare_close(struct compare *c);
/* The comparison over the panels, while it runs and after; lesson: the scenario's title. */
void compare_draw(const struct compare *c, const char *lesson);

#endif

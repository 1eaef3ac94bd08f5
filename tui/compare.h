/* The compare view: the scenario under each model in turn, then a table of how each did. The
 * table is compare's own: the loop hands it each finished run's summary (compare_record). */
#ifndef CONCVIZ_TUI_COMPARE_H
#define CONCVIZ_TUI_COMPARE_H

#include <stdbool.h>

#include "ui.h"

#define CMP_MAX 8
struct compare {
    bool on;    /* running the models in turn */
    bool table; /* the table stays in view until a key */
    int n, at;
    int model[CMP_MAX], gil[CMP_MAX];
    double wall[CMP_MAX], cpu[CMP_MAX], inflight[CMP_MAX];
    unsigned failed[CMP_MAX], nexp[CMP_MAX];
    char state[CMP_MAX][16];
    int saved_model, saved_gil;
    double next_at; /* when the next run starts (the finished one stays in view a moment) */
};

/* Starts a comparison of req's scenario: req->cfg is set for its first run, which the caller
 * starts when this returns true. */
bool compare_start(struct compare *c, struct ui_run_req *req);
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

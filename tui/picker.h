/* The scenario picker's state, shared by its keys (picker.c) and its drawing (picker-draw.c). */
#ifndef CONCVIZ_TUI_PICKER_H
#define CONCVIZ_TUI_PICKER_H

#include <stdbool.h>
#include <stddef.h>

#include "ui.h"

/* Where the keys go: the scenario list, the workers' rows (w) or the parameters (p). */
enum pick_focus { PICK_LIST, PICK_WORKERS, PICK_PARAMS };

/* One row of the workers' or the parameters' list. */
enum pick_row_kind {
    PICK_ROW_WORKERS, /* the worker count; with roles under hybrid, its executor's */
    PICK_ROW_ROLE,    /* a role's count: a parameter, or fixed */
    PICK_ROW_PARAM,
};
struct pick_row {
    enum pick_row_kind kind;
    const struct cv_role_def *role; /* ROLE */
    struct cv_param *param;         /* PARAM, and ROLE when a parameter counts it */
};
#define PICK_ROWS_MAX 64

#define PICK_SCENARIOS_MAX 256

struct pick {
    struct cv_scenario **all;
    size_t n;
    int sel, top;
    int model[PICK_SCENARIOS_MAX]; /* chosen model per scenario (index into CV_MODELS) */
    unsigned workers;              /* 0 = the scenario's */
    enum pick_focus focus;
    int row;      /* the focused list's selected row */
    bool editing; /* typing a value into that row */
    char input[128];
    char message[200];
    bool help;
    int lesson_top;   /* the first lesson line shown */
    int lesson_rows;  /* lesson lines shown by the last draw */
    int lesson_lines; /* lesson lines in all at that width */
    int ptop;         /* the first parameter row shown */
};

/* The scenario's workers are given as roles it declares (pipeline: producers, consumers). */
bool pick_has_roles(const struct cv_scenario *s);
/* The rows of the workers' list (which = PICK_WORKERS) or of the parameters' (PICK_PARAMS; the
 * parameters that count roles are in the workers' list instead); returns how many. */
size_t pick_rows(const struct pick *P, enum pick_focus which, struct pick_row *rows);
/* A role's count now: its parameter's value, or its fixed count. */
long pick_role_count(const struct cv_scenario *s, const struct cv_role_def *r);

void pick_draw(struct pick *P);

#endif

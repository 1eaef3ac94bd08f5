/*
 * The scenario picker, the start screen of `concviz` on a terminal: scenarios on the left, the
 * selected one's lesson, models, workers and parameters on the right; choose the model (m or
 * Left/Right), the workers (w: a count, or each role's count for a scenario whose workers are
 * roles) and parameters (p, then Enter on one to edit it, its range checked); J/K scroll the
 * lesson; Enter runs it in the live view, and q there comes back here. Drawing: picker-draw.c.
 */
#include "picker.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS_MAX 4096 /* what a run accepts (--workers) */

static void load_all(struct pick *P)
{
    char **paths = cv_scenario_list(tui_scenario_dirs());
    for (char **p = paths; *p; p++) {
        struct cv_scenario *s = NULL;
        char *cause = NULL;
        if (cv_scenario_load(*p, &s, &cause) != CV_OK) {
            fprintf(stderr, "concviz: %s\n", cause); /* shown once the screen closes */
            free(cause);
            continue;
        }
        if (P->n < PICK_SCENARIOS_MAX) {
            P->model[P->n] = (int)s->model;
            P->all = cv_xrealloc(P->all, (P->n + 1) * sizeof *P->all);
            P->all[P->n++] = s;
        } else {
            cv_scenario_free(s);
        }
    }
    cv_strv_free(paths);
}

bool pick_has_roles(const struct cv_scenario *s)
{
    return s->workload->shape == CV_SHAPE_ROLES && s->workload->roles;
}

long pick_role_count(const struct cv_scenario *s, const struct cv_role_def *r)
{
    if (!r->param)
        return (long)r->count;
    const struct cv_param *p = cv_scenario_param(s, r->param);
    return p ? strtol(p->value, NULL, 10) : 0;
}

static bool counts_role(const struct cv_scenario *s, const char *key)
{
    if (!pick_has_roles(s))
        return false;
    for (const struct cv_role_def *r = s->workload->roles; r->name; r++)
        if (r->param && !strcmp(r->param, key))
            return true;
    return false;
}

size_t pick_rows(const struct pick *P, enum pick_focus which, struct pick_row *rows)
{
    struct cv_scenario *s = P->all[P->sel];
    size_t n = 0;
    if (which == PICK_WORKERS) {
        if (pick_has_roles(s)) {
            for (const struct cv_role_def *r = s->workload->roles; r->name && n < PICK_ROWS_MAX;
                 r++) {
                rows[n] = (struct pick_row){.kind = PICK_ROW_ROLE, .role = r};
                if (r->param)
                    rows[n].param = (struct cv_param *)cv_scenario_param(s, r->param);
                n++;
            }
            if (P->model[P->sel] == CV_MODEL_HYBRID && n < PICK_ROWS_MAX)
                rows[n++] = (struct pick_row){.kind = PICK_ROW_WORKERS};
        } else if (s->workload->shape != CV_SHAPE_ROLES) {
            rows[n++] = (struct pick_row){.kind = PICK_ROW_WORKERS};
        }
        return n;
    }
    for (size_t i = 0; i < s->nparams && n < PICK_ROWS_MAX; i++)
        if (!counts_role(s, s->params[i].key))
            rows[n++] = (struct pick_row){.kind = PICK_ROW_PARAM, .param = &s->params[i]};
    return n;
}

static void model_step(struct pick *P, int dir)
{
    const struct cv_scenario *s = P->all[P->sel];
    int m = P->model[P->sel];
    for (int i = 0; i < CV_MODEL__COUNT; i++) {
        m = (m + dir + CV_MODEL__COUNT) % CV_MODEL__COUNT;
        if (s->models & (1u << m))
            break;
    }
    P->model[P->sel] = m;
}

static void lesson_scroll(struct pick *P, int by)
{
    int last = P->lesson_lines - P->lesson_rows;
    P->lesson_top += by;
    if (P->lesson_top > last)
        P->lesson_top = last;
    if (P->lesson_top < 0)
        P->lesson_top = 0;
}

static void say(struct pick *P, const char *text)
{
    snprintf(P->message, sizeof P->message, "%s", text);
}

/* Enter while typing: sets the row's value, or says why not (and the typing goes on). */
static void edit_done(struct pick *P, const struct pick_row *r)
{
    struct cv_scenario *s = P->all[P->sel];
    if (r->kind == PICK_ROW_WORKERS) {
        unsigned long v;
        if (!P->input[0])
            P->workers = 0;
        else if (tui_parse_ulong(P->input, 1, WORKERS_MAX, &v))
            P->workers = (unsigned)v;
        else {
            snprintf(P->message, sizeof P->message,
                     "workers must be a whole number from 1 to %d, not '%s'", WORKERS_MAX,
                     P->input);
            return;
        }
    } else {
        char *cause = NULL;
        if (cv_scenario_set(s, r->param->key, P->input, &cause) != CV_OK) {
            say(P, cause ? cause : "refused");
            free(cause);
            return;
        }
    }
    P->editing = false;
}

static int edit_key(struct pick *P, const struct pick_row *r, int k, size_t nrows)
{
    size_t len = strlen(P->input);
    if (k == 27) {
        P->editing = false;
        if (r->kind == PICK_ROW_WORKERS)
            P->workers = 0; /* Esc: the default */
    } else if (k == '\n' || k == '\r' || k == KEY_ENTER) {
        edit_done(P, r);
    } else if ((k == KEY_BACKSPACE || k == 127 || k == 8) && len) {
        P->input[len - 1] = 0;
    } else if (k >= 32 && k < 127 && len + 1 < sizeof P->input) {
        P->input[len] = (char)k;
        P->input[len + 1] = 0;
    }
    if (!P->editing && P->focus == PICK_WORKERS && nrows == 1)
        P->focus = PICK_LIST; /* a single count: back to the scenarios */
    return 0;
}

static void edit_start(struct pick *P, const struct pick_row *r)
{
    if (r->kind == PICK_ROW_ROLE && !r->param) {
        snprintf(P->message, sizeof P->message, "there is always %u %s: no parameter counts it",
                 r->role->count, r->role->name);
        return;
    }
    P->editing = true;
    if (r->kind == PICK_ROW_WORKERS)
        P->input[0] = 0;
    else
        snprintf(P->input, sizeof P->input, "%s", r->param->value);
}

/* w: the worker count (typed at once), or the roles' list. */
static void workers_key(struct pick *P)
{
    struct cv_scenario *s = P->all[P->sel];
    struct pick_row rows[PICK_ROWS_MAX];
    size_t n = pick_rows(P, PICK_WORKERS, rows);
    if (!n) {
        snprintf(P->message, sizeof P->message,
                 "%s sizes its workers by role, with its parameters (p)", s->name);
        return;
    }
    if (!pick_has_roles(s) && P->model[P->sel] == CV_MODEL_SERIAL) {
        say(P, "the serial model runs one worker; choose another model (h l) for more");
        return;
    }
    P->focus = PICK_WORKERS;
    P->row = 0;
    if (n == 1)
        edit_start(P, &rows[0]);
}

static bool common_key(struct pick *P, int k)
{
    switch (k) {
    case 'J':
        lesson_scroll(P, 1);
        return true;
    case 'K':
        lesson_scroll(P, -1);
        return true;
    case KEY_NPAGE:
        lesson_scroll(P, P->lesson_rows > 1 ? P->lesson_rows - 1 : 1);
        return true;
    case KEY_PPAGE:
        lesson_scroll(P, P->lesson_rows > 1 ? 1 - P->lesson_rows : -1);
        return true;
    case '?':
        P->help = true;
        return true;
    default:
        return false;
    }
}

/* In the workers' or the parameters' list. */
static int list_key(struct pick *P, int k)
{
    struct pick_row rows[PICK_ROWS_MAX];
    size_t n = pick_rows(P, P->focus, rows);
    if (P->row >= (int)n)
        P->row = n ? (int)n - 1 : 0;
    if (P->editing)
        return n ? edit_key(P, &rows[P->row], k, n) : 0;
    if ((k == 'j' || k == KEY_DOWN) && P->row + 1 < (int)n)
        P->row++;
    else if ((k == 'k' || k == KEY_UP) && P->row > 0)
        P->row--;
    else if ((k == '\n' || k == '\r' || k == KEY_ENTER) && n)
        edit_start(P, &rows[P->row]);
    else if (k == 27 || (k == 'w' && P->focus == PICK_WORKERS) ||
             (k == 'p' && P->focus == PICK_PARAMS))
        P->focus = PICK_LIST;
    else if (k == 'w')
        workers_key(P);
    else if (k == 'p' && pick_rows(P, PICK_PARAMS, rows)) {
        P->focus = PICK_PARAMS;
        P->row = 0;
    } else if (k == 'q')
        return -1;
    else
        common_key(P, k);
    return 0;
}

/* Returns 1 to run the selected scenario, -1 to quit, 0 otherwise. */
static int key(struct pick *P, int k)
{
    P->message[0] = 0;
    if (P->help) {
        P->help = false;
        return 0;
    }
    if (!P->n)
        return k == 'q' ? -1 : 0;
    if (P->focus != PICK_LIST)
        return list_key(P, k);
    struct pick_row rows[PICK_ROWS_MAX];
    switch (k) {
    case 'q':
    case 'Q':
        return -1;
    case 'j':
    case KEY_DOWN:
    case 'k':
    case KEY_UP: {
        int to = P->sel + (k == 'j' || k == KEY_DOWN ? 1 : -1);
        if (to >= 0 && to < (int)P->n && to != P->sel) {
            P->sel = to;
            P->workers = 0;
            P->lesson_top = 0;
            P->ptop = 0;
        }
        break;
    }
    case 'h':
    case KEY_LEFT:
        model_step(P, -1);
        break;
    case 'l':
    case 'm':
    case KEY_RIGHT:
        model_step(P, 1);
        break;
    case 'w':
        workers_key(P);
        break;
    case 'p':
        if (pick_rows(P, PICK_PARAMS, rows)) {
            P->focus = PICK_PARAMS;
            P->row = 0;
        } else {
            say(P, "this scenario has no other parameters");
        }
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
        return 1;
    default:
        common_key(P, k);
        break;
    }
    return 0;
}

/* The run the picker asks for: roles under any model but hybrid take no worker count. */
static unsigned run_workers(const struct pick *P)
{
    const struct cv_scenario *s = P->all[P->sel];
    if (s->workload->shape == CV_SHAPE_ROLES && P->model[P->sel] != CV_MODEL_HYBRID)
        return 0;
    return P->workers;
}

int ui_picker(const struct ui_opts *o, struct ui_script *sc)
{
    struct pick *P = cv_xcalloc(1, sizeof *P);
    char *cause = NULL;
    if (ui_screen_open(o, &cause) != 0) {
        int rc = tui_fail(TUI_EXIT_RUNTIME, "%s", cause);
        free(cause);
        free(P);
        return rc;
    }
    load_all(P);
    int rc = TUI_EXIT_OK;
    bool dirty = true;
    for (;;) {
        if (ui_screen_signal()) {
            rc = TUI_EXIT_INTERRUPTED;
            break;
        }
        if (dirty)
            pick_draw(P);
        dirty = false;
        int k = -1;
        if (sc) {
            struct ui_script_io io = {.run_done = true, .key = -1};
            if (!ui_script_step(sc, &io)) {
                rc = TUI_EXIT_EXPECT;
                break;
            }
            if (io.finished)
                break;
            k = io.key;
            dirty = dirty || io.redraw;
        }
        if (k < 0)
            k = ui_screen_key(sc ? 5 : 100);
        if (k < 0)
            continue;
        dirty = true;
        if (k == KEY_RESIZE) {
            clearok(stdscr, TRUE);
            continue;
        }
        int what = key(P, k);
        if (what < 0)
            break;
        if (what > 0) {
            struct cv_scenario *s = P->all[P->sel];
            struct ui_run_req req = {
                .scenario = s,
                .cfg = {.scenario = s,
                        .model = P->model[P->sel],
                        .workers = run_workers(P),
                        .gil = -1},
                .from_picker = true,
            };
            rc = ui_live(&req, o, sc);
            if (req.leave)
                goto out; /* the live view closed the screen and said why */
            rc = TUI_EXIT_OK;
        }
    }
    ui_screen_close();
    if (rc == TUI_EXIT_INTERRUPTED)
        tui_fail(rc, "interrupted");
out:
    for (size_t i = 0; i < P->n; i++)
        cv_scenario_free(P->all[i]);
    free(P->all);
    free(P);
    return rc;
}

/* The compare view (compare.h). */
#include "compare.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "paint.h"

/* Sets req->cfg for the next row, or ends the comparison: true when a run is to start. */
static bool compare_next(struct compare *c, struct ui_run_req *req)
{
    if (c->at >= c->n) {
        c->on = false;
        c->table = true;
        req->cfg.model = c->saved_model;
        req->cfg.gil = c->saved_gil;
        return false;
    }
    req->cfg.model = c->model[c->at];
    req->cfg.gil = c->gil[c->at];
    c->next_at = ui_now();
    return true;
}

bool compare_start(struct compare *c, struct ui_run_req *req)
{
    const struct cv_scenario *sc = req->scenario;
    memset(c, 0, sizeof *c);
    c->saved_model = req->cfg.model;
    c->saved_gil = req->cfg.gil;
    for (unsigned m = 0; m < CV_MODEL__COUNT && c->n < CMP_MAX; m++) {
        if (!(sc->models & (1u << m)))
            continue;
        c->model[c->n] = (int)m;
        c->gil[c->n++] = 0;
        if (m == CV_MODEL_THREADS && c->n < CMP_MAX) { /* the GIL lesson: threads under it too */
            c->model[c->n] = (int)m;
            c->gil[c->n++] = 1;
        }
    }
    c->on = true;
    return compare_next(c, req);
}

void compare_record(struct compare *c, const struct cv_value *sum, enum cv_run_state st,
                    unsigned failed)
{
    if (!c->on || c->at >= c->n)
        return;
    int i = c->at;
    c->wall[i] = tui_num(sum, "wall_s");
    c->cpu[i] = tui_num(sum, "cpu_s");
    c->inflight[i] = tui_num(sum, "inflight_max");
    c->failed[i] = failed;
    const struct cv_value *exp = cv_value_get(sum, "expectations");
    c->nexp[i] = exp ? (unsigned)exp->n : 0;
    snprintf(c->state[i], sizeof c->state[i], "%s",
             st == CV_RUN_DONE         ? "done"
             : st == CV_RUN_DEADLOCKED ? "deadlock"
             : st == CV_RUN_STOPPED    ? "stopped"
                                       : "failed");
    c->at++;
    c->next_at = ui_now() + 1.0;
}

bool compare_step(struct compare *c, struct ui_run_req *req, bool running, bool failed)
{
    if (!c->on || running || ui_now() < c->next_at)
        return false;
    if (failed && c->at < c->n && c->next_at) { /* that model could not even start */
        snprintf(c->state[c->at], sizeof c->state[c->at], "error");
        c->at++;
    }
    return compare_next(c, req);
}

void compare_close(struct compare *c)
{
    c->table = false;
}

void compare_draw(const struct compare *c, const char *lesson)
{
    int oy, ox;
    paint_popup(78, c->n + 7, &oy, &ox,
                c->on ? "compare: running each model in turn" : "compare (any key closes)");
    double base = 0;
    for (int i = 0; i < c->at; i++)
        if (c->model[i] == CV_MODEL_SERIAL)
            base = c->wall[i];
    if (!base && c->at)
        base = c->wall[0];
    attron(A_BOLD);
    paint_putf(oy, ox, 74, "%-14s %9s %8s %9s %10s  %s", "model", "wall", "speedup", "cpu",
               "in flight", "checks");
    attroff(A_BOLD);
    for (int i = 0; i < c->n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s%s", cv_model_name((unsigned)c->model[i]),
                 c->gil[i] ? " +GIL" : "");
        int y = oy + 1 + i;
        if (i >= c->at) {
            attron(ui_attr(UI_C_DIM));
            paint_putf(y, ox, 74, "%-14s %9s", name, i == c->at && c->on ? "running" : "-");
            attroff(ui_attr(UI_C_DIM));
            continue;
        }
        char wall[16], cpu[16], checks[48];
        paint_dur(wall, sizeof wall, c->wall[i]);
        paint_dur(cpu, sizeof cpu, c->cpu[i]);
        if (!strcmp(c->state[i], "error"))
            snprintf(checks, sizeof checks, "could not start");
        else if (strcmp(c->state[i], "done") != 0)
            snprintf(checks, sizeof checks, "%s", c->state[i]);
        else if (!c->nexp[i])
            snprintf(checks, sizeof checks, "-");
        else if (!c->failed[i])
            snprintf(checks, sizeof checks, "ok (%u)", c->nexp[i]);
        else
            snprintf(checks, sizeof checks, "%u of %u FAILED", c->failed[i], c->nexp[i]);
        paint_putf(y, ox, 74, "%-14s %9s %7.2fx %9s %10.0f  ", name, wall,
                   c->wall[i] > 0 ? base / c->wall[i] : 0, cpu, c->inflight[i]);
        int a =
            c->failed[i] || strcmp(c->state[i], "done") ? ui_attr(UI_C_BAD) : ui_attr(UI_C_GOOD);
        attron(a);
        paint_put(y, ox + 56, 20, checks);
        attroff(a);
    }
    attron(ui_attr(UI_C_DIM));
    paint_putf(oy + c->n + 2, ox, 74, "lesson: %s", lesson);
    paint_putf(oy + c->n + 3, ox, 74,
               "speedup is against serial (or the first row); checks are the "
               "scenario's expectations");
    attroff(ui_attr(UI_C_DIM));
}

/* The live view's state: its start, what it asks of its source, its messages (view.h). */
#include "view.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void view_init(struct view *V, struct ui_run_req *req, const struct ui_opts *o)
{
    memset(V, 0, sizeof *V);
    V->o = o;
    V->req = req;
    V->time.speed = 1;
    V->time.follow = true;
}

void view_info(const struct view *V, struct ui_source_info *out)
{
    if (V->src) {
        V->src->ops->info(V->src, out);
        return;
    }
    /* a frame without a source: a run of the request, about to start */
    *out = (struct ui_source_info){
        .kind = "",
        .model = cv_model_name(V->req->scenario->model),
        .live = true,
        .elapsed = V->time.view_t,
        .speed = 1,
    };
    snprintf(out->status, sizeof out->status, "starting");
}

void view_started(struct view *V)
{
    V->time.view_t = 0;
    V->time.follow = true;
    V->time.col_ns = 0;
    V->time.last_frame = ui_now();
}

void view_say(struct view *V, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(V->pop.message, sizeof V->pop.message, fmt, ap);
    va_end(ap);
    V->pop.message_until = ui_now() + 3;
}

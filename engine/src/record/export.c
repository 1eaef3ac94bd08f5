/*
 * Exports of a recording: Chrome Trace Event JSON (object form, for Perfetto and DevTools) and
 * CSV. Both stream: one chunk of events in memory at a time.
 *
 * Chrome: one process per run (per worker process under procs), one named thread per lane; tasks
 * and waits as complete ("X") events, a wait always inside its task (a task that ends closes
 * its open wait first, so they nest); flows from a lock, semaphore or GIL release to the waiting
 * acquisition it enabled; counters for each queue's depth and for tasks in flight; instants for
 * drops and the deadlock.
 */
#include "internal.h"

#include "concviz/export.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct open_span {
    bool open;
    uint64_t ts;
    uint32_t task, obj;
    uint16_t kind;
    uint64_t arg;
    bool timed_out; /* a wait: it ended in wait.timeout (queue.Full, queue.Empty, a join) */
};

struct lane_x {
    struct open_span task, wait;
};

struct obj_x {
    bool released;
    uint32_t lane;
    uint64_t ts;
};

struct chrome {
    FILE *out;
    struct cv_recording *r;
    bool procs;
    bool pids;     /* lanes carry their process (a trace): Chrome's pids are the real ones */
    unsigned root; /* the run's own process: counters and run-wide events */
    struct lane_x *lanes;
    size_t nlanes;
    struct obj_x *objs;
    size_t nobjs;
    uint8_t *started; /* per task: in flight */
    size_t nstarted;
    uint32_t inflight;
    uint64_t flow_id;
    bool first;
};

static void us(FILE *f, uint64_t ns)
{
    fprintf(f, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

/* A JSON string body (without quotes). */
static void jstr(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void sep(struct chrome *x)
{
    fputs(x->first ? "\n" : ",\n", x->out);
    x->first = false;
}

static unsigned pid_of(const struct chrome *x, uint32_t lane)
{
    if (x->pids) {
        int32_t pid = cv_recording_lane_pid(x->r, lane);
        return pid > 0 ? (unsigned)pid : x->root;
    }
    return x->procs && lane > 0 ? 1 + lane : 1;
}

static const char *wait_label(unsigned kind)
{
    switch (kind) {
    case CV_EV_LOCK_WAIT:
        return "lock";
    case CV_EV_SEM_WAIT:
        return "semaphore";
    case CV_EV_QUEUE_PUSH_WAIT:
        return "queue put";
    case CV_EV_QUEUE_POP_WAIT:
        return "queue get";
    case CV_EV_QUEUE_JOIN_WAIT:
        return "queue join";
    case CV_EV_IO_BEGIN:
        return "io";
    case CV_EV_GIL_WAIT:
        return "gil";
    case CV_EV_BARRIER_WAIT:
        return "barrier";
    case CV_EV_EVENT_WAIT:
        return "event";
    case CV_EV_COND_WAIT:
        return "condition";
    default:
        return "wait";
    }
}

static void emit_wait(struct chrome *x, uint32_t lane, uint64_t end)
{
    struct open_span *w = &x->lanes[lane].wait;
    if (!w->open)
        return;
    w->open = false;
    sep(x);
    FILE *f = x->out;
    fprintf(f, "{\"name\":\"");
    if (w->kind == CV_EV_IO_BEGIN) {
        fprintf(f, "io %s", w->arg < CV_IO__COUNT ? cv_io_kind_name((unsigned)w->arg) : "?");
    } else {
        fprintf(f, "%s ", wait_label(w->kind));
        jstr(f, cv_recording_object_name(x->r, w->obj));
        if (w->timed_out)
            fputs(" (timed out)", f);
    }
    fprintf(f, "\",\"cat\":\"wait\",\"ph\":\"X\",\"ts\":");
    us(f, w->ts);
    fprintf(f, ",\"dur\":");
    us(f, end - w->ts);
    fprintf(f, ",\"pid\":%u,\"tid\":%u,\"args\":{", pid_of(x, lane), lane + 1);
    if (w->task != CV_NO_TASK)
        fprintf(f, "\"task\":%u", w->task);
    const char *url = w->kind == CV_EV_IO_BEGIN ? cv_recording_text(x->r, w->obj) : NULL;
    if (url) {
        fprintf(f, "%s\"url\":\"", w->task != CV_NO_TASK ? "," : "");
        jstr(f, url);
        fputc('"', f);
    }
    fputs("}}", f);
}

static void emit_task(struct chrome *x, uint32_t lane, uint64_t end, const char *status)
{
    struct open_span *t = &x->lanes[lane].task;
    if (!t->open)
        return;
    emit_wait(x, lane, end); /* a wait never outlives its task */
    t->open = false;
    sep(x);
    fprintf(x->out, "{\"name\":\"task %u\",\"cat\":\"task\",\"ph\":\"X\",\"ts\":", t->task);
    us(x->out, t->ts);
    fprintf(x->out, ",\"dur\":");
    us(x->out, end - t->ts);
    fprintf(x->out, ",\"pid\":%u,\"tid\":%u,\"args\":{\"task\":%u,\"status\":\"%s\"}}",
            pid_of(x, lane), lane + 1, t->task, status);
}

static void counter(struct chrome *x, const char *name, const char *key, uint64_t ts, double v)
{
    sep(x);
    fprintf(x->out, "{\"name\":\"");
    jstr(x->out, name);
    fprintf(x->out, "\",\"ph\":\"C\",\"pid\":%u,\"ts\":", x->root);
    us(x->out, ts);
    fprintf(x->out, ",\"args\":{\"%s\":%.17g}}", key, v);
}

#define TASKS_TRACKED (1u << 24) /* task ids counted in flight, as the collector tracks */

static void set_started(struct chrome *x, uint32_t task, bool on, uint64_t ts)
{
    if (task == CV_NO_TASK || task >= TASKS_TRACKED)
        return; /* no run has more tasks: such an id is not worth gigabytes */
    if (task >= x->nstarted) {
        size_t n = x->nstarted ? x->nstarted : 1024;
        while (n <= task)
            n *= 2;
        x->started = cv_xrealloc(x->started, n);
        memset(x->started + x->nstarted, 0, n - x->nstarted);
        x->nstarted = n;
    }
    if (x->started[task] == on)
        return;
    x->started[task] = on;
    x->inflight += on ? 1 : (uint32_t)-1;
    counter(x, "tasks in flight", "tasks", ts, x->inflight);
}

static struct obj_x *obj_x(struct chrome *x, uint32_t obj)
{
    if (obj == CV_NONE || obj > 1000000)
        return NULL;
    if (obj >= x->nobjs) {
        size_t n = (size_t)obj + 1;
        x->objs = cv_xrealloc(x->objs, n * sizeof *x->objs);
        memset(x->objs + x->nobjs, 0, (n - x->nobjs) * sizeof *x->objs);
        x->nobjs = n;
    }
    return &x->objs[obj];
}

static void flow(struct chrome *x, const struct obj_x *o, uint32_t lane, uint64_t ts,
                 const char *obj_name)
{
    uint64_t id = ++x->flow_id;
    sep(x);
    fprintf(x->out, "{\"name\":\"handoff ");
    jstr(x->out, obj_name);
    fprintf(x->out, "\",\"cat\":\"handoff\",\"ph\":\"s\",\"id\":%" PRIu64 ",\"ts\":", id);
    us(x->out, o->ts);
    fprintf(x->out, ",\"pid\":%u,\"tid\":%u}", pid_of(x, o->lane), o->lane + 1);
    sep(x);
    fprintf(x->out, "{\"name\":\"handoff ");
    jstr(x->out, obj_name);
    fprintf(x->out,
            "\",\"cat\":\"handoff\",\"ph\":\"f\",\"bp\":\"e\",\"id\":%" PRIu64 ",\"ts\":", id);
    us(x->out, ts);
    fprintf(x->out, ",\"pid\":%u,\"tid\":%u}", pid_of(x, lane), lane + 1);
}

/* An Event set or cleared, a Condition notified: a mark on the lane that did it. */
static void signal_instant(struct chrome *x, const struct cv_event *e)
{
    sep(x);
    fprintf(x->out, "{\"name\":\"%s ",
            e->kind == CV_EV_EVENT_SET     ? "set"
            : e->kind == CV_EV_EVENT_CLEAR ? "clear"
                                           : "notify");
    jstr(x->out, cv_recording_object_name(x->r, e->obj));
    fprintf(x->out, "\",\"cat\":\"signal\",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
    us(x->out, e->ts);
    fprintf(x->out, ",\"pid\":%u,\"tid\":%u,\"args\":{\"woken\":%" PRIu64 "}}", pid_of(x, e->lane),
            e->lane + 1, e->arg);
}

static void chrome_event(struct chrome *x, const struct cv_event *e)
{
    uint32_t lane = e->lane;
    struct lane_x *l = &x->lanes[lane];
    switch ((enum cv_event_kind)e->kind) {
    case CV_EV_TASK_START:
        emit_task(x, lane, e->ts, "interrupted");
        l->task = (struct open_span){true, e->ts, e->task, CV_NONE, e->kind, 0, false};
        set_started(x, e->task, true, e->ts);
        break;
    case CV_EV_TASK_END:
    case CV_EV_TASK_FAIL:
    case CV_EV_TASK_CANCEL:
    case CV_EV_TASK_TIMEOUT:
        if (l->task.open && l->task.task == e->task)
            emit_task(x, lane, e->ts,
                      e->kind == CV_EV_TASK_END      ? "done"
                      : e->kind == CV_EV_TASK_FAIL   ? "failed"
                      : e->kind == CV_EV_TASK_CANCEL ? "cancelled"
                                                     : "timed out");
        if (e->kind != CV_EV_TASK_TIMEOUT)
            set_started(x, e->task, false, e->ts);
        break;
    case CV_EV_LOCK_WAIT:
    case CV_EV_SEM_WAIT:
    case CV_EV_QUEUE_PUSH_WAIT:
    case CV_EV_QUEUE_POP_WAIT:
    case CV_EV_QUEUE_JOIN_WAIT:
    case CV_EV_IO_BEGIN:
    case CV_EV_GIL_WAIT:
    case CV_EV_BARRIER_WAIT:
    case CV_EV_EVENT_WAIT:
    case CV_EV_COND_WAIT:
        emit_wait(x, lane, e->ts);
        l->wait = (struct open_span){true, e->ts, e->task, e->obj, e->kind, e->arg, false};
        break;
    case CV_EV_LOCK_ACQUIRE:
    case CV_EV_SEM_ACQUIRE:
    case CV_EV_GIL_ACQUIRE: {
        bool waited = l->wait.open && l->wait.obj == e->obj;
        emit_wait(x, lane, e->ts);
        struct obj_x *o = obj_x(x, e->obj);
        if (waited && o && o->released && o->lane != lane)
            flow(x, o, lane, e->ts, cv_recording_object_name(x->r, e->obj));
        break;
    }
    case CV_EV_LOCK_PAIR: /* an uncontended hold: no wait ended, only its release matters here */
    case CV_EV_LOCK_RELEASE:
    case CV_EV_SEM_RELEASE:
    case CV_EV_GIL_RELEASE: {
        struct obj_x *o = obj_x(x, e->obj);
        if (o)
            *o = (struct obj_x){true, lane, e->ts};
        break;
    }
    case CV_EV_QUEUE_PUSH:
    case CV_EV_QUEUE_POP: {
        if (l->wait.open && l->wait.obj == e->obj)
            emit_wait(x, lane, e->ts);
        char name[CV_NAME_MAX + 16];
        snprintf(name, sizeof name, "queue depth: %s", cv_recording_object_name(x->r, e->obj));
        counter(x, name, "depth", e->ts, (double)e->arg);
        break;
    }
    case CV_EV_IO_END:
    case CV_EV_BARRIER_RELEASE:
        if (l->wait.open)
            emit_wait(x, lane, e->ts);
        break;
    case CV_EV_WAIT_TIMEOUT:
    case CV_EV_EVENT_WAKE:
    case CV_EV_COND_WAKE:
    case CV_EV_QUEUE_JOIN:
        if (l->wait.open && l->wait.obj == e->obj) {
            l->wait.timed_out = e->kind == CV_EV_WAIT_TIMEOUT;
            emit_wait(x, lane, e->ts);
        }
        break;
    case CV_EV_EVENT_SET:
    case CV_EV_EVENT_CLEAR:
    case CV_EV_COND_NOTIFY:
        signal_instant(x, e);
        break;
    case CV_EV_WORKER_DEAD:
    case CV_EV_WORKER_EXIT:
        emit_task(x, lane, e->ts, e->kind == CV_EV_WORKER_DEAD ? "worker died" : "interrupted");
        if (e->kind == CV_EV_WORKER_DEAD) {
            sep(x);
            fprintf(x->out, "{\"name\":\"worker died\",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
            us(x->out, e->ts);
            fprintf(x->out, ",\"pid\":%u,\"tid\":%u}", pid_of(x, lane), lane + 1);
        }
        break;
    case CV_EV_DROPS:
        sep(x);
        fprintf(x->out, "{\"name\":\"events dropped\",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
        us(x->out, e->ts);
        fprintf(x->out, ",\"pid\":%u,\"tid\":%u,\"args\":{\"lost\":%" PRIu64 "}}", pid_of(x, lane),
                lane + 1, e->arg);
        break;
    case CV_EV_DEADLOCK:
        sep(x);
        fprintf(x->out, "{\"name\":\"deadlock detected\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
        us(x->out, e->ts);
        fprintf(x->out, ",\"pid\":%u,\"tid\":%u}", x->root, lane + 1);
        break;
    case CV_EV_WORKER_STALL:
    case CV_EV_WORKER_RESUME: /* about the worker's lane, obj */
        if (e->obj >= x->nlanes)
            break;
        sep(x);
        fprintf(x->out, "{\"name\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"ts\":",
                e->kind == CV_EV_WORKER_STALL ? "worker stalled" : "worker resumed");
        us(x->out, e->ts);
        fprintf(x->out, ",\"pid\":%u,\"tid\":%u}", pid_of(x, e->obj), e->obj + 1);
        break;
    default:
        break;
    }
}

/* A stream that failed (a full disk, a file-size limit) is not written further: the caller
 * reports its error (ferror, errno on the next flush). */
static int write_failed(FILE *out, char **cause)
{
    if (!ferror(out))
        return CV_OK;
    if (cause)
        *cause = cv_strdup("the output could not be written");
    return CV_ERR_RUNTIME;
}

int cv_export_chrome(struct cv_recording *r, FILE *out, char **cause)
{
    const struct cv_recording_info *info = cv_recording_info(r);
    struct chrome x = {.out = out, .r = r, .first = true};
    x.procs = !strcmp(info->model, "procs");
    x.nlanes = cv_recording_nlanes(r);
    x.root = 1;
    for (size_t i = 0; i < x.nlanes && !x.pids; i++)
        if (cv_recording_lane_pid(r, (uint32_t)i) > 0) {
            x.pids = true;
            x.root = (unsigned)cv_recording_lane_pid(r, (uint32_t)i);
        }
    x.lanes = cv_xcalloc(x.nlanes, sizeof *x.lanes);
    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":\"");
    jstr(out, info->scenario);
    fprintf(out, "\",\"model\":\"");
    jstr(out, info->model);
    fprintf(out, "\",\"workers\":%u,\"concviz\":\"", info->workers);
    jstr(out, info->concviz_version);
    fprintf(out, "\"},\"traceEvents\":[");
    sep(&x);
    fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":\"",
            x.root);
    jstr(out, info->scenario);
    if (x.pids)
        fprintf(out, " (%s, process %u)\"}}", info->model, x.root);
    else
        fprintf(out, " (%s)\"}}", info->model);
    for (size_t i = 0; i < x.nlanes; i++) {
        const char *name = cv_recording_lane_name(r, (uint32_t)i);
        unsigned pid = pid_of(&x, (uint32_t)i);
        bool first = pid != x.root; /* the first lane of another process names it */
        for (size_t k = 0; k < i && first; k++)
            first = pid_of(&x, (uint32_t)k) != pid;
        if (first) {
            sep(&x);
            fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":\"",
                    pid);
            jstr(out, name);
            if (x.pids)
                fprintf(out, " (process %u)\"}}", pid);
            else
                fputs(" (process)\"}}", out);
        }
        sep(&x);
        fprintf(out,
                "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%zu,\"args\":{"
                "\"name\":\"",
                pid_of(&x, (uint32_t)i), i + 1);
        jstr(out, name);
        fputs("\"}}", out);
        sep(&x);
        fprintf(out,
                "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%u,\"tid\":%zu,"
                "\"args\":{\"sort_index\":%zu}}",
                pid_of(&x, (uint32_t)i), i + 1, i);
    }
    int rc = CV_OK;
    for (size_t c = 0; c < info->nchunks && rc == CV_OK; c++) {
        const struct cv_event *ev;
        size_t n;
        if ((rc = write_failed(out, cause)) != CV_OK ||
            (rc = cv_recording_chunk(r, c, &ev, &n, cause)) != CV_OK)
            break;
        for (size_t i = 0; i < n; i++)
            chrome_event(&x, &ev[i]);
    }
    for (size_t i = 0; i < x.nlanes; i++) /* what was still open at the end */
        emit_task(&x, (uint32_t)i, info->end_ns, "interrupted");
    for (size_t i = 0; i < x.nlanes; i++)
        emit_wait(&x, (uint32_t)i, info->end_ns);
    fputs("\n]}\n", out);
    free(x.lanes);
    free(x.objs);
    free(x.started);
    return rc;
}

int cv_export_csv(struct cv_recording *r, FILE *out, char **cause)
{
    const struct cv_recording_info *info = cv_recording_info(r);
    fputs("ts_ns,lane,lane_name,kind,task,obj,obj_name,arg,detail\n", out);
    for (size_t c = 0; c < info->nchunks; c++) {
        const struct cv_event *ev;
        size_t n;
        int rc = write_failed(out, cause);
        if (rc == CV_OK)
            rc = cv_recording_chunk(r, c, &ev, &n, cause);
        if (rc != CV_OK)
            return rc;
        for (size_t i = 0; i < n; i++) {
            const struct cv_event *e = &ev[i];
            fprintf(out, "%" PRIu64 ",%u,%s,%s,", e->ts, e->lane,
                    cv_recording_lane_name(r, e->lane), cv_event_kind_name(e->kind));
            if (e->task != CV_NO_TASK)
                fprintf(out, "%u", e->task);
            fputc(',', out);
            if (e->obj != CV_NONE)
                fprintf(out, "%u", e->obj);
            fprintf(out, ",%s,%" PRIu64 ",",
                    e->obj != CV_NONE && e->kind != CV_EV_IO_BEGIN
                        ? cv_recording_object_name(r, e->obj)
                        : "",
                    e->arg);
            if (e->kind == CV_EV_IO_BEGIN) { /* what the wait is: the I/O kind and the URL */
                const char *url = cv_recording_text(r, e->obj);
                fputc('"', out);
                fputs(e->arg < CV_IO__COUNT ? cv_io_kind_name((unsigned)e->arg) : "", out);
                for (const char *p = url ? url : ""; *p; p++) {
                    if (p == url)
                        fputc(' ', out);
                    if (*p == '"')
                        fputc('"', out);
                    fputc(*p, out);
                }
                fputc('"', out);
            } else if (e->kind == CV_EV_LOCK_PAIR ||
                       e->kind == CV_EV_LOCK_HELD) { /* arg: the hold */
                fprintf(out, "acquired at %" PRIu64, e->ts > e->arg ? e->ts - e->arg : 0);
            }
            fputc('\n', out);
        }
    }
    return CV_OK;
}

/*
 * The run summary (schema concviz.summary/1): built once from the final snapshot as a value
 * tree, then printed as JSON or as a readable table, and queried by the expectations.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

struct cv_value *cv__summary_params(const struct cv_scenario *s)
{
    struct cv_value *o = cv_value_obj();
    for (size_t i = 0; i < s->nparams; i++) {
        const struct cv_param *p = &s->params[i];
        if (p->def && (p->def->type == CV_PARAM_INT || p->def->type == CV_PARAM_FLOAT))
            cv_value_set_num(o, p->key, strtod(p->value, NULL));
        else
            cv_value_set_str(o, p->key, p->value);
    }
    return o;
}

static const char *state_text(enum cv_run_state st)
{
    switch (st) {
    case CV_RUN_CREATED:
        return "created";
    case CV_RUN_RUNNING:
        return "running";
    case CV_RUN_DONE:
        return "done";
    case CV_RUN_FAILED:
        return "failed";
    case CV_RUN_STOPPED:
        return "stopped";
    case CV_RUN_DEADLOCKED:
        return "deadlocked";
    }
    return "unknown";
}

/* Whether the run has an Event or a Condition: its lanes then say how long they waited on them. */
static bool has_signals(const struct cv_snapshot *s)
{
    for (size_t i = 0; i < s->nlocks; i++)
        if (s->locks[i].kind == CV_OBJ_EVENT || s->locks[i].kind == CV_OBJ_CONDITION)
            return true;
    return false;
}

static struct cv_value *lanes_value(const struct cv_snapshot *s)
{
    static const struct {
        const char *key;
        enum cv_lane_state st;
    } cols[] = {
        {"running_s", CV_LANE_RUNNING},     {"io_s", CV_LANE_IO},
        {"lock_wait_s", CV_LANE_LOCK_WAIT}, {"queue_wait_s", CV_LANE_QUEUE_WAIT},
        {"sem_wait_s", CV_LANE_SEM_WAIT},   {"gil_wait_s", CV_LANE_GIL_WAIT},
        {"barrier_s", CV_LANE_BARRIER},     {"idle_s", CV_LANE_IDLE},
    };
    struct cv_value *arr = cv_value_arr();
    bool signals = has_signals(s);
    for (size_t i = 0; i < s->nlanes; i++) {
        const struct cv_lane_stats *l = &s->lanes[i];
        struct cv_value *o = cv_value_push(arr, cv_value_obj());
        cv_value_set_str(o, "name", l->name);
        cv_value_set_str(o, "role", l->role == CV_ROLE_MAIN ? "main" : "worker");
        if (l->pid > 0) /* a traced program's thread: its process */
            cv_value_set_num(o, "pid", l->pid);
        cv_value_set_num(o, "tasks", l->tasks);
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
            cv_value_set_num(o, cols[c].key, secs(l->state_ns[cols[c].st]));
        if (signals) {
            cv_value_set_num(o, "event_wait_s", secs(l->state_ns[CV_LANE_EVENT_WAIT]));
            cv_value_set_num(o, "cond_wait_s", secs(l->state_ns[CV_LANE_COND_WAIT]));
        }
        if (l->state_ns[CV_LANE_STALLED] || l->state == CV_LANE_STALLED)
            cv_value_set_num(o, "stalled_s", secs(l->state_ns[CV_LANE_STALLED]));
        if (l->state_ns[CV_LANE_DEAD] || l->state == CV_LANE_DEAD)
            cv_value_set_num(o, "dead_s", secs(l->state_ns[CV_LANE_DEAD]));
        if (l->state_ns[CV_LANE_LOST] || l->state == CV_LANE_LOST)
            cv_value_set_num(o, "lost_s", secs(l->state_ns[CV_LANE_LOST]));
        cv_value_set_num(o, "events", (double)l->events);
        cv_value_set_num(o, "dropped", (double)l->drops);
    }
    return arr;
}

/* How evenly the work spread: busy (not idle) and idle time over the worker lanes. */
static struct cv_value *balance_value(const struct cv_snapshot *s)
{
    double busy_min = 0, busy_max = 0, idle_min = 0, idle_max = 0;
    bool any = false;
    for (size_t i = 0; i < s->nlanes; i++) {
        const struct cv_lane_stats *l = &s->lanes[i];
        if (l->role != CV_ROLE_WORKER)
            continue;
        double idle = secs(l->state_ns[CV_LANE_IDLE]), busy = 0;
        for (unsigned st = 0; st < CV_LANE__COUNT; st++)
            if (st != CV_LANE_IDLE && st != CV_LANE_OFF)
                busy += secs(l->state_ns[st]);
        if (!any || busy < busy_min)
            busy_min = busy;
        if (!any || busy > busy_max)
            busy_max = busy;
        if (!any || idle < idle_min)
            idle_min = idle;
        if (!any || idle > idle_max)
            idle_max = idle;
        any = true;
    }
    struct cv_value *o = cv_value_obj();
    cv_value_set_num(o, "busy_s_min", busy_min);
    cv_value_set_num(o, "busy_s_max", busy_max);
    cv_value_set_num(o, "idle_s_min", idle_min);
    cv_value_set_num(o, "idle_s_max", idle_max);
    cv_value_set_num(o, "imbalance", busy_max > 0 ? (busy_max - busy_min) / busy_max : 0);
    return o;
}

/* An Event's or a Condition's own figures. */
static void signal_keys(struct cv_value *o, const struct cv_lock_stats *k)
{
    bool ev = k->kind == CV_OBJ_EVENT;
    cv_value_set_num(o, "waits", (double)k->waits);
    cv_value_set_num(o, ev ? "sets" : "notifies", (double)k->signals);
    if (ev)
        cv_value_set_num(o, "clears", (double)k->clears);
    cv_value_set_num(o, "wakes", (double)k->acquisitions);
    cv_value_set_num(o, "timeouts", (double)k->timeouts);
}

static struct cv_value *locks_value(const struct cv_snapshot *s)
{
    struct cv_value *arr = cv_value_arr();
    uint64_t worker_ns = cv_snapshot_worker_ns(s);
    for (size_t i = 0; i < s->nlocks; i++) {
        const struct cv_lock_stats *k = &s->locks[i];
        struct cv_value *o = cv_value_push(arr, cv_value_obj());
        cv_value_set_str(o, "name", k->name);
        cv_value_set_str(o, "kind", cv_object_kind_name(k->kind));
        cv_value_set_num(o, "acquisitions", (double)k->acquisitions);
        cv_value_set_num(o, "contended", (double)k->contended);
        cv_value_set_num(o, "wait_s_total", secs(k->wait_ns_total));
        /* the share of the workers' time spent waiting for it */
        cv_value_set_num(o, "wait_share",
                         worker_ns ? (double)k->wait_ns_total / (double)worker_ns : 0);
        cv_value_set_num(o, "wait_s_max", secs(k->wait_ns_max));
        cv_value_set_num(o, "hold_s_total", secs(k->hold_ns_total));
        cv_value_set_num(o, "handoffs", (double)k->handoffs);
        if (k->kind == CV_OBJ_EVENT || k->kind == CV_OBJ_CONDITION)
            signal_keys(o, k);
    }
    return arr;
}

static struct cv_value *queues_value(const struct cv_snapshot *s)
{
    struct cv_value *arr = cv_value_arr();
    for (size_t i = 0; i < s->nqueues; i++) {
        const struct cv_queue_stats *q = &s->queues[i];
        struct cv_value *o = cv_value_push(arr, cv_value_obj());
        cv_value_set_str(o, "name", q->name);
        cv_value_set_num(o, "capacity", q->capacity);
        cv_value_set_num(o, "max_depth", q->max_depth);
        cv_value_set_num(o, "pushed", (double)q->pushed);
        cv_value_set_num(o, "popped", (double)q->popped);
        cv_value_set_num(o, "push_blocked", (double)q->push_blocked);
        cv_value_set_num(o, "pop_blocked", (double)q->pop_blocked);
        cv_value_set_num(o, "put_timeouts", (double)q->put_timeouts);
        cv_value_set_num(o, "get_timeouts", (double)q->get_timeouts);
        cv_value_set_num(o, "join_waits", (double)q->join_waits);
        cv_value_set_num(o, "join_timeouts", (double)q->join_timeouts);
        cv_value_set_num(o, "unfinished", q->unfinished);
    }
    return arr;
}

/* The members that come from the collector: tasks, completion order, lanes, locks, queues. */
void cv__summary_set_tasks(struct cv_value *root, const struct cv_snapshot *s)
{
    struct cv_value *t = cv_value_set(root, "tasks", cv_value_obj());
    cv_value_set_num(t, "submitted", (double)s->tasks.submitted);
    cv_value_set_num(t, "completed", (double)s->tasks.completed);
    cv_value_set_num(t, "failed", (double)s->tasks.failed);
    cv_value_set_num(t, "cancelled", (double)s->tasks.cancelled);
    cv_value_set_num(t, "timed_out", (double)s->tasks.timed_out);
    cv_value_set_num(t, "retried", (double)s->tasks.retried);

    struct cv_value *order = cv_value_set(root, "completion_order", cv_value_arr());
    for (size_t i = 0; i < s->ncompleted; i++)
        cv_value_push(order, cv_value_num(s->completion_order[i]));
    if (s->completed_unseen) /* ended, the run says, but their end events were lost */
        cv_value_set_num(root, "completion_unseen", s->completed_unseen);
    cv_value_set_num(root, "inflight_max", s->inflight_max);
    cv_value_set(root, "lanes", lanes_value(s));
    cv_value_set(root, "balance", balance_value(s));
    cv_value_set(root, "locks", locks_value(s));
    cv_value_set(root, "queues", queues_value(s));
}

/* The GIL's figures among the results, and the event counts. */
void cv__summary_set_counts(struct cv_value *root, const struct cv_snapshot *s, bool gil)
{
    struct cv_value *res = cv_value_get(root, "results");
    if (!res)
        res = cv_value_set(root, "results", cv_value_obj());
    if (gil) {
        cv_value_set_num(res, "gil_switches", (double)s->gil_switches);
        cv_value_set_num(res, "gil_drop_requests", (double)s->gil_drop_requests);
    }
    struct cv_value *ev = cv_value_set(root, "events", cv_value_obj());
    cv_value_set_num(ev, "recorded", (double)s->events_recorded);
    cv_value_set_num(ev, "dropped", (double)s->events_dropped);
}

/* The first members of a summary: what ran, and how it ended. */
struct cv_value *cv__summary_head(const char *scenario, const char *model, unsigned workers,
                                  bool gil, const char *python, double switch_ms, const char *state)
{
    struct cv_value *root = cv_value_obj();
    cv_value_set_str(root, "schema", "concviz.summary/1");
    cv_value_set_str(root, "scenario", scenario);
    cv_value_set_str(root, "model", model);
    cv_value_set_num(root, "workers", workers);
    cv_value_set_bool(root, "gil", gil);
    if (python)
        cv_value_set_str(root, "python", python);
    else
        cv_value_set(root, "python", cv_value_null());
    if (gil)
        cv_value_set_num(root, "switch_interval_ms", switch_ms);
    cv_value_set_str(root, "state", state);
    return root;
}

struct cv_value *cv__summary_build(const struct cv__run_facts *f)
{
    const struct cv_snapshot *s = f->snap;
    struct cv_value *root = cv__summary_head(f->sc->name, f->model, f->workers, f->gil, f->python,
                                             f->switch_ms, state_text(f->state));
    cv_value_set(root, "params", cv__summary_params(f->sc));
    cv_value_set_num(root, "wall_s", f->wall_s);
    cv_value_set_num(root, "cpu_s", f->cpu_s);

    double peak_kb = f->peak_rss_kb;
    if (peak_kb <= 0) { /* not yet measured at the run's end: the process's peak now */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        peak_kb = (double)ru.ru_maxrss;
    }
    struct cv_value *rt = cv_value_set(root, "runtime", cv_value_obj());
    cv_value_set_num(rt, "os_threads", f->os_threads);
    cv_value_set_num(rt, "os_processes", f->os_processes);
    cv_value_set_num(rt, "peak_rss_kb", peak_kb);
    /* what the run added at its peak, per task (a connection, for the I/O scenarios) */
    double added = peak_kb - f->rss_start_kb;
    cv_value_set_num(rt, "memory_per_task_kb",
                     s->tasks.submitted && added > 0 ? added / (double)s->tasks.submitted : 0);
    cv_value_set_num(rt, "memory_per_inflight_kb",
                     s->inflight_max && added > 0 ? added / (double)s->inflight_max : 0);
    cv_value_set_str(rt, "clock", cv_clock_source_name(cv__clock.source));

    cv__summary_set_tasks(root, s);

    struct cv_value *res = cv_value_set(root, "results", cv_value_copy(f->results));
    cv_value_set(root, "errors", cv_value_copy(f->errors));
    cv_value_set_num(res, "bytes_copied", (double)f->bytes_copied);
    cv__summary_set_counts(root, s, f->gil);
    return root;
}

const char *cv_expectation_mark(const struct cv_value *x)
{
    const struct cv_value *ok = cv_value_get(x, "ok");
    if (!ok || ok->type == CV_VAL_NULL)
        return "n/j "; /* not judged */
    return ok->b ? "ok  " : "FAIL";
}

struct cv_value *cv_expectations_eval(const struct cv_scenario *s, const struct cv_value *root,
                                      unsigned *failed)
{
    struct cv_value *list = cv_value_arr();
    unsigned nfail = 0;
    /* a run stopped before its end (q, Ctrl-C) did not do what the lesson is about: its
     * expectations are listed, not judged ("ok": null and the reason) */
    const struct cv_value *state = cv_value_get(root, "state");
    bool stopped = state && state->type == CV_VAL_STR && !strcmp(state->str, "stopped");
    for (size_t i = 0; i < s->nexpect; i++) {
        const struct cv_expectation *x = &s->expect[i];
        char *actual = NULL;
        int r = cv_expr_eval(x->expr, root, &actual);
        if (r == -1) {
            free(actual);
            continue;
        }
        struct cv_value *o = cv_value_push(list, cv_value_obj());
        cv_value_set_str(o, "name", x->name);
        cv_value_set_str(o, "expr", x->text);
        if (stopped) {
            cv_value_set(o, "ok", cv_value_null());
            cv_value_set_str(o, "reason", "not judged: the run was stopped before its end");
        } else {
            cv_value_set_bool(o, "ok", r == 1);
        }
        cv_value_set_str(o, "actual", actual ? actual : "");
        free(actual);
        if (r != 1 && !stopped)
            nfail++;
    }
    if (failed)
        *failed = nfail;
    return list;
}

/* Expectations (with `check`, unless a sweep checks them), then errors moved last, as the
 * schema lists them. */
void cv__summary_finish(struct cv_value *root, const struct cv_scenario *sc, bool check,
                        unsigned *failed)
{
    unsigned nfail = 0;
    if (check && !sc->nsweep)
        cv_value_set(root, "expectations", cv_expectations_eval(sc, root, &nfail));
    else
        cv_value_set(root, "expectations", cv_value_arr());
    struct cv_value *errs = cv_value_get(root, "errors");
    for (size_t i = 0; errs && i < root->n; i++) {
        if (root->items[i] == errs) {
            char *k = root->keys[i];
            memmove(&root->keys[i], &root->keys[i + 1], (root->n - i - 1) * sizeof(char *));
            memmove(&root->items[i], &root->items[i + 1],
                    (root->n - i - 1) * sizeof(struct cv_value *));
            root->keys[root->n - 1] = k;
            root->items[root->n - 1] = errs;
            break;
        }
    }
    if (failed)
        *failed = nfail;
}

/* Text form */

static double num(const struct cv_value *o, const char *key)
{
    const struct cv_value *v = cv_value_get(o, key);
    return v && v->type == CV_VAL_NUM ? v->num : 0;
}

static const char *str(const struct cv_value *o, const char *key)
{
    const struct cv_value *v = cv_value_get(o, key);
    return v && v->type == CV_VAL_STR ? v->str : "";
}

/* A queue's timeouts and task accounting (queue.Queue's Full, Empty, task_done and join), when
 * the run timed out or joined (unfinished alone says nothing: pipeline never calls task_done). */
static void print_queue_tasks(FILE *out, const struct cv_value *q)
{
    double pt = num(q, "put_timeouts"), gt = num(q, "get_timeouts"), jw = num(q, "join_waits"),
           jt = num(q, "join_timeouts"), un = num(q, "unfinished");
    if (pt == 0 && gt == 0 && jw == 0 && jt == 0)
        return;
    fprintf(out,
            "  %-14s put timeouts (Full) %.0f, get timeouts (Empty) %.0f, join waits %.0f, "
            "join timeouts %.0f, unfinished at the end %.0f\n",
            "", pt, gt, jw, jt, un);
}

static void fmt_secs(char *buf, size_t n, double s)
{
    if (s == 0)
        snprintf(buf, n, "-");
    else if (s < 0.001)
        snprintf(buf, n, "%.0fus", s * 1e6);
    else if (s < 1)
        snprintf(buf, n, "%.1fms", s * 1e3);
    else
        snprintf(buf, n, "%.2fs", s);
}

void cv_summary_write_text(const struct cv_value *sum, FILE *out)
{
    char b[256];
    const struct cv_value *rt = cv_value_get(sum, "runtime");
    const struct cv_value *gil = cv_value_get(sum, "gil");
    const char *py = str(sum, "python");
    char pyb[48] = "";
    if (*py)
        snprintf(pyb, sizeof pyb, " (CPython %s%s)", py, gil && gil->b ? "" : ", free-threaded");
    fprintf(out, "%s  model %s  workers %.0f  gil %s%s  (%s)\n", str(sum, "scenario"),
            str(sum, "model"), num(sum, "workers"), gil && gil->b ? "on" : "off", pyb,
            str(sum, "state"));
    fprintf(out, "  wall %.3fs   cpu %.3fs   os threads %.0f   processes %.0f   peak rss %.1f MB\n",
            num(sum, "wall_s"), num(sum, "cpu_s"), num(rt, "os_threads"), num(rt, "os_processes"),
            num(rt, "peak_rss_kb") / 1024.0);
    const struct cv_value *t = cv_value_get(sum, "tasks");
    fprintf(out,
            "  tasks  submitted %.0f  completed %.0f  failed %.0f  cancelled %.0f  timed out %.0f  "
            "retried %.0f   max in flight %.0f\n",
            num(t, "submitted"), num(t, "completed"), num(t, "failed"), num(t, "cancelled"),
            num(t, "timed_out"), num(t, "retried"), num(sum, "inflight_max"));
    const struct cv_value *order = cv_value_get(sum, "completion_order");
    const struct cv_value *unseen = cv_value_get(sum, "completion_unseen");
    if ((order && order->n) || unseen) {
        fprintf(out, "  completion order ");
        for (size_t i = 0; order && i < order->n && i < 24; i++)
            fprintf(out, "%s%.0f", i ? " " : "", order->items[i]->num);
        if (order && order->n > 24)
            fprintf(out, " ... (%zu)", order->n);
        if (unseen)
            fprintf(out, "%s(and %.0f whose end was in events lost)", order && order->n ? " " : "",
                    unseen->num);
        fputc('\n', out);
    }

    /* the event and condition columns only in a run that has them (its lanes have the keys) */
    static const char *const cols[] = {"running_s",   "io_s",       "lock_wait_s", "queue_wait_s",
                                       "sem_wait_s",  "gil_wait_s", "barrier_s",   "event_wait_s",
                                       "cond_wait_s", "idle_s"};
    static const char *const heads[] = {"running", "io",      "lock",  "queue", "sem",
                                        "gil",     "barrier", "event", "cond",  "idle"};
    static const size_t plain[] = {0, 1, 2, 3, 4, 5, 6, 9},
                        signals[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const struct cv_value *lanes = cv_value_get(sum, "lanes");
    bool sig = lanes && lanes->n && cv_value_get(lanes->items[0], "event_wait_s");
    const size_t *shown = sig ? signals : plain;
    size_t ncols = sig ? 10 : 8;
    int nw = 14; /* the names' column: as wide as the longest */
    bool pids = false;
    for (size_t i = 0; lanes && i < lanes->n; i++) {
        int len = (int)strlen(str(lanes->items[i], "name"));
        nw = len > nw ? len : nw;
        pids = pids || cv_value_get(lanes->items[i], "pid");
    }
    fprintf(out, "\n  %-*s %*s%6s", nw, "lane", pids ? 8 : 0, pids ? "pid " : "", "tasks");
    for (size_t c = 0; c < ncols; c++)
        fprintf(out, " %9s", heads[shown[c]]);
    fputc('\n', out);
    for (size_t i = 0; lanes && i < lanes->n; i++) {
        const struct cv_value *l = lanes->items[i];
        fprintf(out, "  %-*s", nw, str(l, "name"));
        if (pids)
            fprintf(out, " %7.0f", num(l, "pid"));
        fprintf(out, " %6.0f", num(l, "tasks"));
        for (size_t c = 0; c < ncols; c++) {
            fmt_secs(b, sizeof b, num(l, cols[shown[c]]));
            fprintf(out, " %9s", b);
        }
        fputc('\n', out);
    }

    const struct cv_value *locks = cv_value_get(sum, "locks");
    if (locks && locks->n) {
        int kw = 14;
        for (size_t i = 0; i < locks->n; i++) {
            int len = (int)strlen(str(locks->items[i], "name"));
            kw = len > kw ? len : kw;
        }
        fprintf(out, "\n  %-*s %-9s %12s %12s %10s %10s %10s\n", kw, "lock", "kind", "acquired",
                "contended", "wait", "max wait", "held");
        for (size_t i = 0; i < locks->n; i++) {
            const struct cv_value *k = locks->items[i];
            char w[32], m[32], h[32];
            fmt_secs(w, sizeof w, num(k, "wait_s_total"));
            fmt_secs(m, sizeof m, num(k, "wait_s_max"));
            fmt_secs(h, sizeof h, num(k, "hold_s_total"));
            fprintf(out, "  %-*s %-9s %12.0f %12.0f %10s %10s %10s\n", kw, str(k, "name"),
                    str(k, "kind"), num(k, "acquisitions"), num(k, "contended"), w, m, h);
        }
    }
    const struct cv_value *queues = cv_value_get(sum, "queues");
    if (queues && queues->n) {
        fprintf(out, "\n  %-14s %8s %9s %10s %10s %12s %12s\n", "queue", "capacity", "max depth",
                "pushed", "popped", "push blocked", "pop blocked");
        for (size_t i = 0; i < queues->n; i++) {
            const struct cv_value *q = queues->items[i];
            fprintf(out, "  %-14s %8.0f %9.0f %10.0f %10.0f %12.0f %12.0f\n", str(q, "name"),
                    num(q, "capacity"), num(q, "max_depth"), num(q, "pushed"), num(q, "popped"),
                    num(q, "push_blocked"), num(q, "pop_blocked"));
            print_queue_tasks(out, q);
        }
    }
    const struct cv_value *res = cv_value_get(sum, "results");
    if (res && res->n) {
        fprintf(out, "\n  results\n");
        for (size_t i = 0; i < res->n; i++) {
            const struct cv_value *v = res->items[i];
            if (v->type == CV_VAL_ARR) {
                fprintf(out, "    %-20s", res->keys[i]);
                for (size_t j = 0; j < v->n; j++)
                    fprintf(out, " %s", cv_value_text(v->items[j], b, sizeof b));
                fputc('\n', out);
            } else if (v->type == CV_VAL_OBJ) {
                /* one level down: its plain members, e.g. deadlock detected=true text=... */
                fprintf(out, "    %-20s", res->keys[i]);
                for (size_t j = 0; j < v->n; j++)
                    if (v->items[j]->type != CV_VAL_ARR && v->items[j]->type != CV_VAL_OBJ)
                        fprintf(out, " %s=%s", v->keys[j], cv_value_text(v->items[j], b, sizeof b));
                fputc('\n', out);
            } else {
                fprintf(out, "    %-20s %s\n", res->keys[i], cv_value_text(v, b, sizeof b));
            }
        }
    }
    const struct cv_value *ev = cv_value_get(sum, "events");
    fprintf(out, "\n  events recorded %.0f, dropped %.0f%s\n", num(ev, "recorded"),
            num(ev, "dropped"),
            num(ev, "dropped") > 0 ? "  (rings were full: figures are partial)" : "");
    const struct cv_value *exp = cv_value_get(sum, "expectations");
    if (exp && exp->n) {
        const struct cv_value *ok0 = cv_value_get(exp->items[0], "ok");
        fprintf(out, "\n  expectations%s\n",
                ok0 && ok0->type == CV_VAL_NULL
                    ? " (n/j: not judged, the run was stopped before its end)"
                    : "");
        for (size_t i = 0; i < exp->n; i++) {
            const struct cv_value *x = exp->items[i];
            fprintf(out, "    %s %-18s %s   [%s]\n", cv_expectation_mark(x), str(x, "name"),
                    str(x, "expr"), str(x, "actual"));
        }
    }
    const struct cv_value *errs = cv_value_get(sum, "errors");
    for (size_t i = 0; errs && i < errs->n; i++)
        fprintf(out, "  error: %s\n", errs->items[i]->str);
}

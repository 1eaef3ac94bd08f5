/*
 * Scenario files, read with libinih:
 *   [scenario]  name, title, lesson, workload, model, models, workers, gil, switch_interval
 *   [params]    workload parameters (defaults for this scenario)
 *   [expect]    name = expression [when condition]
 * Every problem is reported as "file:line: message".
 */
#include "concviz/scenario.h"
#include "concviz/concviz.h"
#include "concviz/run.h"
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
    char *section, *key, *value;
    int line;
};

struct loader {
    const char *text; /* the whole file, and how far the parser has read it */
    size_t len, pos;
    int line;
    bool at_line_start; /* the next chunk the reader returns starts a new line */
    bool indented;      /* the current line starts with white space (a continuation) */
    size_t n, cap;
    struct entry *e;
    int err_line;
    char *err;
};

static char *reader(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    /* one line, or as much of it as fits in num - 1 bytes (fgets's contract) */
    if (ld->pos >= ld->len || num < 2)
        return NULL;
    size_t room = (size_t)num - 1, k = 0;
    while (k < room && ld->pos < ld->len) {
        char c = ld->text[ld->pos++];
        str[k++] = c;
        if (c == '\n')
            break;
    }
    str[k] = 0;
    char *r = str;
    /* inih reads a long line in several chunks: count lines, not chunks. */
    if (ld->at_line_start) {
        ld->line++;
        ld->indented = r[0] == ' ' || r[0] == '\t';
    }
    size_t n = strlen(r);
    ld->at_line_start = n > 0 && r[n - 1] == '\n';
    return r;
}

static void set_err(struct loader *ld, int line, char *msg)
{
    if (ld->err) {
        free(msg);
        return;
    }
    ld->err = msg;
    ld->err_line = line;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct loader *ld = user;
    if (!*section) {
        set_err(ld, ld->line,
                cv_strdup_printf("'%s' comes before any section (start with [scenario])", name));
        return 0;
    }
    /* A continuation line (indented) arrives as a second call with the same name: append. */
    if (ld->n > 0 && ld->indented) {
        struct entry *last = &ld->e[ld->n - 1];
        if (strcmp(last->section, section) == 0 && strcmp(last->key, name) == 0) {
            char *joined = cv_strdup_printf("%s %s", last->value, value);
            free(last->value);
            last->value = joined;
            return 1;
        }
    }
    for (size_t i = 0; i < ld->n; i++) {
        if (strcmp(ld->e[i].section, section) == 0 && strcmp(ld->e[i].key, name) == 0) {
            set_err(ld, ld->line,
                    cv_strdup_printf("'%s' given twice in [%s] (first on line %d)", name, section,
                                     ld->e[i].line));
            return 0;
        }
    }
    if (ld->n == ld->cap) {
        ld->cap = ld->cap ? ld->cap * 2 : 32;
        ld->e = cv_xrealloc(ld->e, ld->cap * sizeof *ld->e);
    }
    ld->e[ld->n++] =
        (struct entry){cv_strdup(section), cv_strdup(name), cv_strdup(value), ld->line};
    return 1;
}

static void loader_free(struct loader *ld)
{
    for (size_t i = 0; i < ld->n; i++) {
        free(ld->e[i].section);
        free(ld->e[i].key);
        free(ld->e[i].value);
    }
    free(ld->e);
    free(ld->err);
}

void cv_scenario_free(struct cv_scenario *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->text);
    free(s->name);
    free(s->title);
    free(s->lesson);
    free(s->workload_name);
    for (size_t i = 0; i < s->nparams; i++) {
        free(s->params[i].key);
        free(s->params[i].value);
    }
    free(s->params);
    for (size_t i = 0; i < s->nexpect; i++) {
        free(s->expect[i].name);
        free(s->expect[i].text);
        cv_expr_free(s->expect[i].expr);
    }
    free(s->expect);
    free(s);
}

/* Checks a value against its definition; returns NULL or a heap message. */
static char *check_value(const struct cv_param_def *d, const char *value)
{
    char *end;
    switch (d->type) {
    case CV_PARAM_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (!cv_number_is_plain(value, true) || errno)
            return cv_strdup_printf("%s must be a whole number, not '%s'", d->key, value);
        if ((double)v < d->min || (double)v > d->max)
            return cv_strdup_printf("%s must be between %.0f and %.0f, not %lld", d->key, d->min,
                                    d->max, v);
        return NULL;
    }
    case CV_PARAM_FLOAT: {
        if (!cv_number_is_plain(value, false))
            return cv_strdup_printf("%s must be a plain number (digits, at most %d decimals), not "
                                    "'%s'",
                                    d->key, CV_NUMBER_DECIMALS, value);
        double v = strtod(value, &end);
        if (v < d->min || v > d->max)
            return cv_strdup_printf("%s must be between %.15g and %.15g, not %s", d->key, d->min,
                                    d->max, value);
        return NULL;
    }
    case CV_PARAM_INT_LIST:
    case CV_PARAM_NUM_LIST: {
        struct cv__number_range r = {.whole = d->type == CV_PARAM_INT_LIST,
                                     .lo_u = (uint64_t)d->min,
                                     .hi_u = (uint64_t)d->max,
                                     .lo = d->min,
                                     .hi = d->max};
        char *msg = NULL;
        if (cv__parse_numbers(d->key, value, &r, NULL, NULL, UINT32_MAX, &msg) < 0)
            return msg;
        return NULL;
    }
    case CV_PARAM_ENUM: {
        size_t n = strlen(value);
        for (const char *p = d->choices; p && *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == n && strncmp(p, value, n) == 0)
                return NULL;
            p = bar ? bar + 1 : p + len;
        }
        return cv_strdup_printf("%s must be one of %s, not '%s'", d->key, d->choices, value);
    }
    case CV_PARAM_STRING:
        return NULL;
    }
    return NULL;
}

static char *valid_keys(const struct cv_scenario *s)
{
    size_t len = 1;
    for (size_t i = 0; i < s->nparams; i++)
        len += strlen(s->params[i].key) + 2;
    char *out = cv_xmalloc(len);
    out[0] = 0;
    for (size_t i = 0; i < s->nparams; i++) {
        if (i)
            strcat(out, ", ");
        strcat(out, s->params[i].key);
    }
    return out;
}

/* What a run's summary holds at its top level (and a sweep's: see cmd-run.c), for the check
 * that expectations name fields that exist. The fields of results depend on the run and are
 * not checked here. */
static const char *const summary_fields[] = {
    "schema",       "scenario", "model",   "workers", "gil",     "python",  "switch_interval_ms",
    "state",        "params",   "wall_s",  "cpu_s",   "runtime", "tasks",   "completion_order",
    "inflight_max", "lanes",    "balance", "locks",   "queues",  "results", "events",
    "errors",       NULL};
static const char *const sweep_fields[] = {"schema", "scenario", "sweep", "default_workers",
                                           "runs",   "model",    "gil",   "python",
                                           "params", NULL};

/* Python's ThreadPoolExecutor default pool size on this machine: min(32, os.cpu_count() + 4),
 * os.cpu_count() being the online processors. */
static unsigned python_pool_default(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return cpus + 4 < 32 ? (unsigned)cpus + 4 : 32;
}

/* sweep = worker counts, one run each; the word `default` is Python's default pool size, run
 * where it is written (its index stays put whatever the machine: expectations name runs[i]). */
static char *parse_sweep(struct cv_scenario *s, const char *v)
{
    const uint32_t max = sizeof s->sweep / sizeof s->sweep[0];
    const struct cv__number_range r = {.whole = true, .lo_u = 1, .hi_u = 4096};
    uint64_t counts[sizeof s->sweep / sizeof s->sweep[0]];
    char *text = cv_strdup(v);
    size_t at = 0;              /* 1 + the index of `default` */
    if (strstr(v, "default")) { /* the numbers without it, joined by spaces */
        char *copy = cv_strdup(v), *save = NULL;
        size_t len = 0, items = 0;
        text[0] = 0;
        for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
            items++;
            if (strcmp(t, "default") != 0)
                len += (size_t)sprintf(text + len, "%s%s", len ? " " : "", t);
            else if (!at)
                at = items;
            else
                at = SIZE_MAX;
        }
        free(copy);
        if (at == SIZE_MAX) {
            free(text);
            return cv_strdup_printf("sweep: 'default' may appear once, in '%s'", v);
        }
    }
    char *why = NULL;
    int n = at && !text[strspn(text, " \t,")] /* `default` alone */
                ? 0
                : cv__parse_numbers("sweep", text, &r, counts, NULL, max - (at > 0), &why);
    free(text);
    if (n < 0) {
        char *msg = cv_strdup_printf("%s (worker counts from 1 to 4096 and 'default', at most %u)",
                                     why, max);
        free(why);
        return msg;
    }
    s->nsweep = 0;
    for (int i = 0; i < n; i++) {
        if (at && s->nsweep + 1 == at)
            s->sweep[s->nsweep++] = python_pool_default();
        s->sweep[s->nsweep++] = (unsigned)counts[i];
    }
    if (at && s->nsweep + 1 == at)
        s->sweep[s->nsweep++] = python_pool_default();
    s->sweep_default = at;
    return NULL;
}

static bool has_param(const struct cv_scenario *s, const char *key)
{
    for (size_t i = 0; i < s->nparams; i++)
        if (!strcmp(s->params[i].key, key))
            return true;
    return false;
}

static bool known_field(void *ctx, const char *root, const char *field)
{
    const struct cv_scenario *s = ctx;
    if (!strcmp(root, "params"))
        return !field || has_param(s, field);
    for (const char *const *f = s->nsweep ? sweep_fields : summary_fields; *f; f++)
        if (!strcmp(*f, root))
            return true;
    return false;
}

static char *unknown_field_msg(const struct cv_scenario *s, const char *name, const char *path)
{
    if (!strncmp(path, "params.", 7) || !strncmp(path, "params[", 7)) {
        char *keys = valid_keys(s);
        char *msg = cv_strdup_printf("expectation '%s': '%s' names no parameter of the workload "
                                     "(parameters: %s)",
                                     name, path, *keys ? keys : "none");
        free(keys);
        return msg;
    }
    size_t len = 1;
    const char *const *fields = s->nsweep ? sweep_fields : summary_fields;
    for (const char *const *f = fields; *f; f++)
        len += strlen(*f) + 2;
    char *list = cv_xmalloc(len);
    list[0] = 0;
    for (const char *const *f = fields; *f; f++) {
        if (f != fields)
            strcat(list, ", ");
        strcat(list, *f);
    }
    char *msg = cv_strdup_printf("expectation '%s': '%s' is not in the %s summary (it has %s)",
                                 name, path, s->nsweep ? "sweep's" : "run's", list);
    free(list);
    return msg;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
        !strcmp(v, "1")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
        !strcmp(v, "0")) {
        *out = false;
        return true;
    }
    return false;
}

static char *model_list(void)
{
    char *out = cv_xcalloc(1, 128);
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
        if (m)
            strcat(out, ", ");
        strcat(out, cv_model_name(m));
    }
    return out;
}

/* Applies one [scenario] key. Returns NULL or a heap message. */
static char *scenario_key(struct cv_scenario *s, const struct entry *e, int *model_line)
{
    const char *k = e->key, *v = e->value;
    if (!strcmp(k, "name")) {
        for (const char *p = v; *p; p++)
            if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
                return cv_strdup_printf("name '%s' may only use letters, digits, - and _", v);
        s->name = cv_strdup(v);
    } else if (!strcmp(k, "title")) {
        s->title = cv_strdup(v);
    } else if (!strcmp(k, "lesson")) {
        s->lesson = cv_strdup(v);
    } else if (!strcmp(k, "workload")) {
        s->workload = cv_workload_find(v);
        if (!s->workload) {
            char list[512] = "";
            for (size_t i = 0; cv_workload_at(i); i++) {
                size_t len = strlen(list);
                if (!strcmp(cv_workload_at(i)->name, "trace"))
                    continue; /* concviz trace's, which no scenario can run */
                snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                         cv_workload_at(i)->name);
            }
            return cv_strdup_printf("unknown workload '%s' (workloads: %s)", v, list);
        }
        s->workload_name = cv_strdup(v);
    } else if (!strcmp(k, "model")) {
        int m = cv_model_from_name(v);
        if (m < 0) {
            char *all = model_list();
            char *msg = cv_strdup_printf("unknown model '%s' (models: %s)", v, all);
            free(all);
            return msg;
        }
        s->model = (unsigned)m;
        *model_line = e->line;
    } else if (!strcmp(k, "models")) {
        s->models = 0;
        char *copy = cv_strdup(v), *save = NULL;
        for (char *t = strtok_r(copy, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
            int m = cv_model_from_name(t);
            if (m < 0) {
                char *all = model_list();
                char *msg = cv_strdup_printf("unknown model '%s' (models: %s)", t, all);
                free(all);
                free(copy);
                return msg;
            }
            s->models |= 1u << m;
        }
        free(copy);
        if (!s->models)
            return cv_strdup("models lists no model");
    } else if (!strcmp(k, "workers")) {
        long n = strtol(v, NULL, 10);
        if (!cv_number_is_plain(v, true) || strlen(v) > 5 || n < 1 || n > 4096)
            return cv_strdup_printf("workers must be a whole number from 1 to 4096, not '%s'", v);
        s->workers = (unsigned)n;
    } else if (!strcmp(k, "gil")) {
        if (!parse_bool(v, &s->gil))
            return cv_strdup_printf("gil must be true or false, not '%s'", v);
    } else if (!strcmp(k, "on_worker_death")) {
        if (!strcmp(v, "stop"))
            s->survive_death = false;
        else if (!strcmp(v, "continue"))
            s->survive_death = true;
        else
            return cv_strdup_printf("on_worker_death must be stop or continue, not '%s'", v);
    } else if (!strcmp(k, "sweep")) {
        return parse_sweep(s, v);
    } else if (!strcmp(k, "switch_interval")) {
        double ms = strtod(v, NULL);
        if (!cv_number_is_plain(v, false) || !(ms > 0 && ms <= 10000))
            return cv_strdup_printf("switch_interval must be milliseconds in (0, 10000] with at "
                                    "most %d decimals, not '%s'",
                                    CV_NUMBER_DECIMALS, v);
        s->switch_ms = ms;
    } else {
        return cv_strdup_printf(
            "unknown key '%s' in [scenario] (keys: name, title, lesson, workload, model, models, "
            "workers, gil, switch_interval, sweep, on_worker_death)",
            k);
    }
    return NULL;
}

static int fail_at(const char *path, int line, char *msg, char **cause)
{
    if (cause) {
        /* the message quotes the file's text: keep terminal control bytes and binary out */
        char *safe = cv_escape_text(msg, 400);
        *cause = cv_strdup_printf("%s:%d: %s", path, line, safe);
        free(safe);
    }
    free(msg);
    return CV_ERR_USAGE;
}

static int build(struct cv_scenario *s, struct loader *ld, const char *path, char **cause)
{
    int model_line = 0, scenario_line = 0;
    bool model_set = false;
    /* [scenario] first: the workload decides which parameters exist. */
    for (size_t i = 0; i < ld->n; i++) {
        struct entry *e = &ld->e[i];
        if (strcmp(e->section, "scenario") != 0) {
            if (strcmp(e->section, "params") != 0 && strcmp(e->section, "expect") != 0)
                return fail_at(path, e->line,
                               cv_strdup_printf("unknown section [%s] (sections: [scenario], "
                                                "[params], [expect])",
                                                e->section),
                               cause);
            continue;
        }
        if (!scenario_line)
            scenario_line = e->line;
        if (!strcmp(e->key, "model"))
            model_set = true;
        char *msg = scenario_key(s, e, &model_line);
        if (msg)
            return fail_at(path, e->line, msg, cause);
    }
    int end_line = ld->line ? ld->line : 1;
    static const char *const required[] = {"name", "title", "lesson", "workload"};
    const char *have[] = {s->name, s->title, s->lesson, s->workload_name};
    for (size_t i = 0; i < 4; i++)
        if (!have[i])
            return fail_at(path, scenario_line ? scenario_line : end_line,
                           cv_strdup_printf("[scenario] needs '%s'", required[i]), cause);
    if (!s->models)
        s->models = 1u << s->model;
    if (model_set && !(s->models & (1u << s->model)))
        return fail_at(
            path, model_line,
            cv_strdup_printf("default model '%s' is not in models", cv_model_name(s->model)),
            cause);
    if (!model_set) {
        for (unsigned m = 0; m < CV_MODEL__COUNT; m++)
            if (s->models & (1u << m)) {
                s->model = m;
                break;
            }
    }

    /* Parameters: every workload parameter, with the built-in default unless overridden. */
    const struct cv_workload *w = s->workload;
    for (const struct cv_param_def *d = w->params; d && d->key; d++) {
        s->params = cv_xrealloc(s->params, (s->nparams + 1) * sizeof *s->params);
        s->params[s->nparams++] = (struct cv_param){cv_strdup(d->key), cv_strdup(d->def), d};
    }
    /* Parameters of a model rather than of the workload. */
    static const struct cv_param_def openmp_params[] = {
        {"schedule", CV_PARAM_ENUM, "static", "openmp: how loop iterations are shared out",
         "static|dynamic|guided", 0, 0},
        {"chunk", CV_PARAM_INT, "0", "openmp: iterations per chunk (0 = the schedule's default)",
         NULL, 0, 1000000},
        {NULL, 0, NULL, NULL, NULL, 0, 0},
    };
    static const struct cv_param_def hybrid_params[] = {
        {"offload", CV_PARAM_ENUM, "threads",
         "hybrid: the executor's workers are threads (to_thread) or processes "
         "(ProcessPoolExecutor)",
         "threads|procs", 0, 0},
        {NULL, 0, NULL, NULL, NULL, 0, 0},
    };
    static const struct {
        unsigned model;
        const struct cv_param_def *defs;
    } model_params[] = {{CV_MODEL_OPENMP, openmp_params}, {CV_MODEL_HYBRID, hybrid_params}};
    for (size_t m = 0; m < sizeof model_params / sizeof *model_params; m++) {
        if (!(s->models & (1u << model_params[m].model)))
            continue;
        for (const struct cv_param_def *d = model_params[m].defs; d->key; d++) {
            if (cv_scenario_param(s, d->key))
                continue; /* the workload has its own */
            s->params = cv_xrealloc(s->params, (s->nparams + 1) * sizeof *s->params);
            s->params[s->nparams++] = (struct cv_param){cv_strdup(d->key), cv_strdup(d->def), d};
        }
    }
    for (size_t i = 0; i < ld->n; i++) {
        struct entry *e = &ld->e[i];
        if (strcmp(e->section, "params") != 0)
            continue;
        struct cv_param *p = NULL;
        for (size_t j = 0; j < s->nparams; j++)
            if (!strcmp(s->params[j].key, e->key))
                p = &s->params[j];
        if (!p) {
            char *keys = valid_keys(s);
            char *msg =
                cv_strdup_printf("unknown parameter '%s' for workload '%s' (parameters: %s)",
                                 e->key, w->name, *keys ? keys : "none");
            free(keys);
            return fail_at(path, e->line, msg, cause);
        }
        char *msg = check_value(p->def, e->value);
        if (msg)
            return fail_at(path, e->line, msg, cause);
        free(p->value);
        p->value = cv_strdup(e->value);
    }

    for (size_t i = 0; i < ld->n; i++) {
        struct entry *e = &ld->e[i];
        if (strcmp(e->section, "expect") != 0)
            continue;
        struct cv_expr *x = NULL;
        char *why = NULL;
        if (cv_expr_parse(e->value, &x, &why) != CV_OK) {
            char *msg = cv_strdup_printf("expectation '%s': %s", e->key, why);
            free(why);
            return fail_at(path, e->line, msg, cause);
        }
        const char *unknown = cv_expr_unknown_path(x, known_field, s);
        if (unknown) {
            char *msg = unknown_field_msg(s, e->key, unknown);
            cv_expr_free(x);
            return fail_at(path, e->line, msg, cause);
        }
        s->expect = cv_xrealloc(s->expect, (s->nexpect + 1) * sizeof *s->expect);
        s->expect[s->nexpect++] =
            (struct cv_expectation){cv_strdup(e->key), cv_strdup(e->value), e->line, x};
    }
    return CV_OK;
}

#define MAX_SCENARIO_BYTES (1 << 20)
#define MAX_SCENARIO_LINE  4000 /* the parser's line buffer is 4096 bytes */

/* Opens `path` for reading if it is a regular file, without blocking on a FIFO or a device;
 * -1 with *cause set otherwise. */
static int open_regular(const char *path, struct stat *st, char **cause)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, st) != 0) {
        if (cause)
            *cause = cv_strdup_printf("%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        if (cause)
            *cause = cv_strdup_printf("%s: %s", path,
                                      S_ISDIR(st->st_mode) ? "is a directory, not a scenario file"
                                                           : "not a regular file");
        close(fd);
        return -1;
    }
    return fd;
}

/* A scenario's text: no NUL byte, no line longer than MAX_SCENARIO_LINE. */
static bool text_ok(const char *path, const char *buf, size_t n, char **cause)
{
    const char *nul = memchr(buf, 0, n);
    if (nul) {
        int line = 1;
        for (const char *q = buf; q < nul; q++)
            line += *q == '\n';
        if (cause)
            *cause = cv_strdup_printf("%s:%d: a NUL byte: not a text file", path, line);
        return false;
    }
    int line = 1;
    for (size_t at = 0; at < n; line++) {
        const char *nl = memchr(buf + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - buf) : n;
        if (end - at > MAX_SCENARIO_LINE) {
            if (cause)
                *cause = cv_strdup_printf("%s:%d: a line of %zu bytes (at most %d)", path, line,
                                          end - at, MAX_SCENARIO_LINE);
            return false;
        }
        at = end + 1;
    }
    return true;
}

/* A scenario file whole: a regular file of at most MAX_SCENARIO_BYTES, text without NUL bytes,
 * no line longer than MAX_SCENARIO_LINE. */
static char *read_scenario(const char *path, size_t *len, char **cause)
{
    struct stat st;
    int fd = open_regular(path, &st, cause);
    if (fd < 0)
        return NULL;
    if (st.st_size > MAX_SCENARIO_BYTES) {
        if (cause)
            *cause =
                cv_strdup_printf("%s: %lld bytes, too large for a scenario file (at most %d bytes)",
                                 path, (long long)st.st_size, MAX_SCENARIO_BYTES);
        close(fd);
        return NULL;
    }
    char *buf = cv_xmalloc(MAX_SCENARIO_BYTES + 1);
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, MAX_SCENARIO_BYTES + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            if (cause)
                *cause = cv_strdup_printf("%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (got == 0 || (n += (size_t)got) > MAX_SCENARIO_BYTES)
            break;
    }
    close(fd);
    if (n > MAX_SCENARIO_BYTES) { /* it grew after fstat */
        if (cause)
            *cause = cv_strdup_printf("%s: too large for a scenario file (at most %d bytes)", path,
                                      MAX_SCENARIO_BYTES);
        free(buf);
        return NULL;
    }
    if (!text_ok(path, buf, n, cause)) {
        free(buf);
        return NULL;
    }
    buf = cv_xrealloc(buf, n + 1); /* the scenario keeps it */
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Parses a scenario's text (path names it in messages); takes `text` (len bytes, terminated). */
static int parse(const char *path, char *text, size_t len, struct cv_scenario **out, char **cause)
{
    *out = NULL;
    struct loader ld = {0};
    ld.at_line_start = true;
    ld.text = text;
    ld.len = len;
    ini_use_stack = false;
    ini_max_line = 4096;
    ini_allow_realloc = true;
    ini_stop_on_first_error = true;
    ini_allow_multiline = true;
    int bad = ini_parse_stream(reader, &ld, handler, &ld);
    if (bad != 0 || ld.err) {
        free(text);
        int rc;
        if (ld.err) {
            rc = fail_at(path, ld.err_line, ld.err, cause);
            ld.err = NULL;
        } else if (bad < 0) {
            rc = fail_at(path, 1, cv_strdup("cannot read the file"), cause);
        } else {
            rc = fail_at(path, bad,
                         cv_strdup("syntax error: expected 'key = value' or '[section]'"), cause);
        }
        loader_free(&ld);
        return rc;
    }
    struct cv_scenario *s = cv_xcalloc(1, sizeof *s);
    s->path = cv_strdup(path);
    s->text = text;
    s->text_len = len;
    s->model = CV_MODEL_SERIAL;
    s->switch_ms = 5.0;
    if (ld.n == 0) {
        loader_free(&ld);
        cv_scenario_free(s);
        return fail_at(
            path, 1,
            cv_strdup("no settings: a scenario needs a [scenario] section with name, title, "
                      "lesson and workload"),
            cause);
    }
    int rc = build(s, &ld, path, cause);
    loader_free(&ld);
    if (rc != CV_OK) {
        cv_scenario_free(s);
        return rc;
    }
    *out = s;
    return CV_OK;
}

int cv_scenario_load(const char *path, struct cv_scenario **out, char **cause)
{
    *out = NULL;
    size_t len = 0;
    char *text = read_scenario(path, &len, cause);
    if (!text)
        return CV_ERR_USAGE;
    return parse(path, text, len, out, cause);
}

int cv_scenario_load_text(const char *name, const char *text, size_t len, struct cv_scenario **out,
                          char **cause)
{
    *out = NULL;
    if (len > MAX_SCENARIO_BYTES) {
        if (cause)
            *cause = cv_strdup_printf("%s: %zu bytes, too large for a scenario (at most %d bytes)",
                                      name, len, MAX_SCENARIO_BYTES);
        return CV_ERR_USAGE;
    }
    if (!text_ok(name, text, len, cause))
        return CV_ERR_USAGE;
    return parse(name, cv_strndup(text, len), len, out, cause);
}

const struct cv_param *cv_scenario_param(const struct cv_scenario *s, const char *key)
{
    for (size_t i = 0; i < s->nparams; i++)
        if (!strcmp(s->params[i].key, key))
            return &s->params[i];
    return NULL;
}

int cv_scenario_set(struct cv_scenario *s, const char *key, const char *value, char **cause)
{
    struct cv_param *p = (struct cv_param *)cv_scenario_param(s, key);
    if (!p) {
        char *keys = valid_keys(s);
        if (cause)
            *cause = cv_strdup_printf("unknown parameter '%s' for scenario %s (valid: %s)", key,
                                      s->name, *keys ? keys : "none");
        free(keys);
        return CV_ERR_USAGE;
    }
    char *msg = check_value(p->def, value);
    if (msg) {
        if (cause)
            *cause = msg;
        else
            free(msg);
        return CV_ERR_USAGE;
    }
    free(p->value);
    p->value = cv_strdup(value);
    return CV_OK;
}

/* Lookup */

static size_t dirs_of(const char *const *builtin, char ***out)
{
    size_t n = 0;
    char **v = NULL;
    const char *env = getenv("CONCVIZ_SCENARIOS");
    if (env && *env) {
        char *copy = cv_strdup(env), *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
            v = cv_xrealloc(v, (n + 1) * sizeof *v);
            v[n++] = cv_strdup(t);
        }
        free(copy);
    }
    for (size_t i = 0; builtin && builtin[i]; i++) {
        v = cv_xrealloc(v, (n + 1) * sizeof *v);
        v[n++] = cv_strdup(builtin[i]);
    }
    *out = v;
    return n;
}

void cv_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

char *cv_scenario_resolve(const char *name, const char *const *builtin_dirs, char **cause)
{
    if (strchr(name, '/') || ends_with(name, ".ini")) {
        struct stat st;
        int fd = open_regular(name, &st, cause);
        if (fd < 0)
            return NULL;
        close(fd);
        return cv_strdup(name);
    }
    char **dirs;
    size_t n = dirs_of(builtin_dirs, &dirs);
    char *found = NULL;
    for (size_t i = 0; i < n && !found; i++) {
        char *p = cv_strdup_printf("%s/%s.ini", dirs[i], name);
        /* found when it exists: opening it here could block (a FIFO); loading it says what
         * is wrong with it, rather than looking further */
        struct stat st;
        if (stat(p, &st) == 0) {
            found = p;
        } else {
            free(p);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
    if (!found && cause)
        *cause = cv_strdup_printf("unknown scenario '%s' (see 'concviz list')", name);
    return found;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cv_scenario_list(const char *const *builtin_dirs)
{
    char **dirs;
    size_t nd = dirs_of(builtin_dirs, &dirs);
    char **names = NULL, **paths = NULL;
    size_t n = 0;
    for (size_t i = 0; i < nd; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.' || !ends_with(de->d_name, ".ini"))
                continue;
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                if (!strcmp(names[j], de->d_name))
                    dup = true;
            if (dup)
                continue;
            names = cv_xrealloc(names, (n + 1) * sizeof *names);
            paths = cv_xrealloc(paths, (n + 2) * sizeof *paths);
            names[n] = cv_strdup(de->d_name);
            paths[n++] = cv_strdup_printf("%s/%s", dirs[i], de->d_name);
        }
        closedir(d);
    }
    for (size_t i = 0; i < nd; i++)
        free(dirs[i]);
    free(dirs);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!paths)
        paths = cv_xmalloc(sizeof *paths);
    qsort(paths, n, sizeof *paths, cmp_str);
    paths[n] = NULL;
    return paths;
}

/* Scenario files: an INI file per scenario (read with libinih), plus the workload and model
 * registries they refer to. */
#ifndef CONCVIZ_SCENARIO_H
#define CONCVIZ_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "concviz/value.h"

/* INT_LIST and NUM_LIST are lists of numbers separated by commas or blanks, each in [min, max]. */
enum cv_param_type {
    CV_PARAM_INT,
    CV_PARAM_FLOAT,
    CV_PARAM_ENUM,
    CV_PARAM_STRING,
    CV_PARAM_INT_LIST,
    CV_PARAM_NUM_LIST
};

/* Whether s is a plain decimal number: an optional '-', digits and, unless whole, optionally a
 * '.' and 1 to CV_NUMBER_DECIMALS digits. No blanks, '+', exponent, hex, inf or nan. The limit on
 * decimals keeps every positive duration in ms at least a microsecond, never rounded to 0. */
#define CV_NUMBER_DECIMALS 3
bool cv_number_is_plain(const char *s, bool whole);
/* The same with at most max_decimals after the point (0: a whole number). */
bool cv_number_is_decimal(const char *s, int max_decimals);

struct cv_param_def {
    const char *key;
    enum cv_param_type type;
    const char *def;     /* built-in default, as text */
    const char *meaning; /* one line, shown by `concviz show` */
    const char *choices; /* enums: "a|b|c" */
    double min, max;     /* numbers: inclusive range */
};

/* Models, one X-macro table. Listed models exist; a model is usable when its ops exist. */
#define CV_MODELS(X)      \
    X(SERIAL, "serial")   \
    X(THREADS, "threads") \
    X(PROCS, "procs")     \
    X(OPENMP, "openmp")   \
    X(EPOLL, "epoll")     \
    X(HYBRID, "hybrid")

enum cv_model_id {
#define CV_X_ENUM(name, str) CV_MODEL_##name,
    CV_MODELS(CV_X_ENUM)
#undef CV_X_ENUM
        CV_MODEL__COUNT
};
/* `concviz trace`: a program's own threads, not a model a scenario can name (so outside the
 * table the pickers and lists go through). */
#define CV_MODEL_TRACE ((unsigned)CV_MODEL__COUNT)
const char *cv_model_name(unsigned model);
/* Returns the model id or -1 (for "trace" too: no scenario names it). */
int cv_model_from_name(const char *name);
/* True when this build implements the model. */
bool cv_model_available(unsigned model);

struct cv_expr;

struct cv_expectation {
    char *name;
    char *text; /* as written */
    int line;
    struct cv_expr *expr;
};

struct cv_param {
    char *key;
    char *value;
    const struct cv_param_def *def;
};

struct cv_scenario {
    char *path; /* the file it was loaded from (cv_scenario_load_text: the name given) */
    char *text; /* the file's text as loaded (a recording keeps it), and its length */
    size_t text_len;
    char *name;
    char *title;
    char *lesson;
    char *workload_name;
    const struct cv_workload *workload;
    unsigned model;     /* default model */
    unsigned models;    /* bit set of supported models */
    unsigned workers;   /* default worker count (0 = the workload decides) */
    double switch_ms;   /* default GIL switch interval */
    bool gil;           /* default --gil */
    bool survive_death; /* on_worker_death = continue: the rest of the pool goes on */
    size_t nsweep;      /* a sweep of worker counts, one run each (0 = a single run) */
    unsigned sweep[32];
    /* 1 + the index in sweep of the point written `default`: Python's ThreadPoolExecutor
     * default, min(32, os.cpu_count() + 4), on this machine (0: the sweep has none) */
    size_t sweep_default;
    size_t nparams;
    struct cv_param *params; /* every parameter of the workload, defaults resolved */
    size_t nexpect;
    struct cv_expectation *expect;
};

/* Loads and validates a scenario file. On error, *cause is "file:line: message" (caller frees). */
int cv_scenario_load(const char *path, struct cv_scenario **out, char **cause);
/* The same from text in memory (a recording's copy of its scenario); `name` stands for the file
 * in messages. */
int cv_scenario_load_text(const char *name, const char *text, size_t len, struct cv_scenario **out,
                          char **cause);
void cv_scenario_free(struct cv_scenario *s);

/* Overrides a parameter (--set). Unknown key: CV_ERR_USAGE, and *cause lists the valid keys. */
int cv_scenario_set(struct cv_scenario *s, const char *key, const char *value, char **cause);
const struct cv_param *cv_scenario_param(const struct cv_scenario *s, const char *key);

/*
 * Where scenarios are looked up by name: $CONCVIZ_SCENARIOS (colon-separated), then each dir in
 * `builtin_dirs` (NULL-terminated). A name containing '/' or ending in .ini is a path.
 * Returns a heap path or NULL with *cause set.
 */
char *cv_scenario_resolve(const char *name, const char *const *builtin_dirs, char **cause);
/* Lists the scenario files (sorted paths, heap, NULL-terminated) found in the same places. */
char **cv_scenario_list(const char *const *builtin_dirs);
void cv_strv_free(char **v);

/* Expectation expressions: `expr [when cond]`; paths into the summary (results.x,
 * locks.m.contended, completion_order[0]), numbers, "strings", + - * /, comparisons, and/or/not,
 * len(path). */
int cv_expr_parse(const char *text, struct cv_expr **out, char **cause);
void cv_expr_free(struct cv_expr *e);
/* Evaluates against `root`. Returns 1 ok, 0 failed, -1 not applicable (its `when` is false),
 * -2 error. *actual gets the values the expression read ("results.lost_updates=12"), heap. */
int cv_expr_eval(const struct cv_expr *e, const struct cv_value *root, char **actual);
/* The first path in e (as written) for which known(ctx, its first name, its second name or NULL)
 * is false, or NULL: the loader's check that an expectation names fields the summary has. */
const char *cv_expr_unknown_path(const struct cv_expr *e,
                                 bool (*known)(void *ctx, const char *root, const char *field),
                                 void *ctx);

#endif

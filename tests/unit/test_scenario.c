/* Scenario files: loading (every error is "file:line: message"), --set overrides, lookup by
 * name and listing, and the scenarios shipped in the repository. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "concviz/concviz.h"
#include "concviz/run.h"
#include "concviz/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A valid [scenario] section on lines 1-5; rows append to it. */
#define HEAD          "[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = counter\n"
#define HEAD_PIPELINE "[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = pipeline\n"
#define HEAD_SLEEPS   "[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = sleeps\n"
#define MODELS_LIST   "(models: serial, threads, procs, openmp, epoll, hybrid)"
#define SYNTAX        "syntax error: expected 'key = value' or '[section]'"
#define WORKERS_MSG   "workers must be a whole number from 1 to 4096, not "
#define SWITCH_MSG \
    "switch_interval must be milliseconds in (0, 10000] with at most 3 decimals, not "

/* Writes `text` to a new temp file; returns its heap path. */
static char *write_temp(const char *text)
{
    char tmpl[] = "/tmp/cvtestXXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    char *path = strdup(tmpl);
    assert_non_null(path);
    return path;
}

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/cvtestXXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *path = strdup(tmpl);
    assert_non_null(path);
    return path;
}

/* Creates dir/name with `text`; returns the heap path. */
static char *write_in_dir(const char *dir, const char *name, const char *text)
{
    char *path = cv_strdup_printf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static struct cv_scenario *load_ok(const char *path)
{
    struct cv_scenario *s = NULL;
    char *cause = NULL;
    int rc = cv_scenario_load(path, &s, &cause);
    if (rc != CV_OK)
        print_error("%s: unexpected error: %s\n", path, cause ? cause : "(no cause)");
    assert_int_equal(rc, CV_OK);
    assert_null(cause);
    assert_non_null(s);
    return s;
}

struct bad_case {
    const char *what;
    const char *text;
    int line;
    const char *message;
};

/* Loads `c` from a temp file; returns 0 when everything matched, else prints why. */
static int check_bad(const struct bad_case *c)
{
    char *path = write_temp(c->text);
    char *expected = cv_strdup_printf("%s:%d: %s", path, c->line, c->message);
    static int sentinel;
    struct cv_scenario *s = (struct cv_scenario *)(void *)&sentinel;
    char *cause = NULL;
    int rc = cv_scenario_load(path, &s, &cause);
    int bad = 0;
    if (rc != CV_ERR_USAGE) {
        print_error("[%s] returned %d, expected CV_ERR_USAGE\n", c->what, rc);
        bad = 1;
    }
    if (s != NULL) {
        print_error("[%s] *out is not NULL\n", c->what);
        bad = 1;
        if (s != (struct cv_scenario *)(void *)&sentinel)
            cv_scenario_free(s);
    }
    if (!cause || strcmp(cause, expected) != 0) {
        print_error("[%s]\n  expected: %s\n  got:      %s\n", c->what, expected,
                    cause ? cause : "(null)");
        bad = 1;
    }
    free(cause);
    free(expected);
    unlink(path);
    free(path);
    return bad;
}

static int check_bad_table(const struct bad_case *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++)
        failures += check_bad(&cases[i]);
    return failures;
}

static void test_bad_files(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        /* Syntax */
        {"line without '='", HEAD "oops\n", 6, SYNTAX},
        {"unterminated section header", "[scenario\nname = t\n", 1, SYNTAX},
        {"empty file", "", 1,
         "no settings: a scenario needs a [scenario] section with name, title, lesson and "
         "workload"},
        {"comments only", "# nothing here\n\n; nor here\n", 1,
         "no settings: a scenario needs a [scenario] section with name, title, lesson and "
         "workload"},
        {"section without keys", "[scenario]\n", 1,
         "no settings: a scenario needs a [scenario] section with name, title, lesson and "
         "workload"},
        /* Sections and keys */
        {"unknown section", HEAD "[extra]\nfoo = 1\n", 7,
         "unknown section [extra] (sections: [scenario], [params], [expect])"},
        {"key before any section", "name = t\n" HEAD, 1,
         "'name' comes before any section (start with [scenario])"},
        {"unknown key in [scenario]", HEAD "colour = red\n", 6,
         "unknown key 'colour' in [scenario] (keys: name, title, lesson, workload, model, "
         "models, workers, gil, switch_interval, sweep, on_worker_death)"},
        {"key given twice in [scenario]", HEAD "model = serial\nname = u\n", 7,
         "'name' given twice in [scenario] (first on line 2)"},
        {"key given twice in [params]",
         HEAD "[params]\niterations = 5\nwork_ns = 1\niterations = 6\n", 9,
         "'iterations' given twice in [params] (first on line 7)"},
        {"key given twice across repeated sections",
         HEAD "[params]\nwork_ns = 1\n[expect]\na = 1 == 1\n[params]\nwork_ns = 2\n", 11,
         "'work_ns' given twice in [params] (first on line 7)"},
        /* Required keys: reported at the first [scenario] key */
        {"missing name", "[scenario]\ntitle = T\nlesson = L\nworkload = counter\n", 2,
         "[scenario] needs 'name'"},
        {"missing title", "[scenario]\nname = t\nlesson = L\nworkload = counter\n", 2,
         "[scenario] needs 'title'"},
        {"missing lesson", "[scenario]\nname = t\ntitle = T\nworkload = counter\n", 2,
         "[scenario] needs 'lesson'"},
        {"missing workload", "[scenario]\nname = t\ntitle = T\nlesson = L\n", 2,
         "[scenario] needs 'workload'"},
        {"missing workload, [scenario] after [params]",
         "# comment\n[params]\nrepeat = 2\n\n[scenario]\nname = t\ntitle = T\nlesson = L\n", 6,
         "[scenario] needs 'workload'"},
        /* [scenario] values */
        {"bad name with spaces", "[scenario]\ntitle = T\nname = my scenario\n", 3,
         "name 'my scenario' may only use letters, digits, - and _"},
        {"bad name with a dot", "[scenario]\nname = a.b\n", 2,
         "name 'a.b' may only use letters, digits, - and _"},
        {"unknown workload", "[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = nope\n", 5,
         "unknown workload 'nope' (workloads: primes, counter, countdown, pipeline, sleeps, locks, "
         "factorize, chunks, squares, compress, phases, mixed, fetch, blocker, retry, offload, "
         "group, files, stopevent, condlist, taskqueue, daemon)"},
        {"unknown model", HEAD "model = fibers\n", 6, "unknown model 'fibers' " MODELS_LIST},
        {"unknown model in models", HEAD "models = serial, fibers threads\n", 6,
         "unknown model 'fibers' " MODELS_LIST},
        {"models lists none", HEAD "models =\n", 6, "models lists no model"},
        {"default model not in models", HEAD "model = procs\nmodels = serial threads\n", 6,
         "default model 'procs' is not in models"},
        {"default model not in models (models first)",
         HEAD "models = serial\nworkers = 2\nmodel = threads\n", 8,
         "default model 'threads' is not in models"},
        {"workers 0", HEAD "workers = 0\n", 6, WORKERS_MSG "'0'"},
        {"workers -1", HEAD "workers = -1\n", 6, WORKERS_MSG "'-1'"},
        {"workers abc", HEAD "workers = abc\n", 6, WORKERS_MSG "'abc'"},
        {"workers 5000", HEAD "workers = 5000\n", 6, WORKERS_MSG "'5000'"},
        {"workers 4x", HEAD "workers = 4x\n", 6, WORKERS_MSG "'4x'"},
        {"workers empty", HEAD "workers =\n", 6, WORKERS_MSG "''"},
        {"bad gil", HEAD "gil = maybe\n", 6, "gil must be true or false, not 'maybe'"},
        {"bad switch_interval 0", HEAD "switch_interval = 0\n", 6, SWITCH_MSG "'0'"},
        {"bad switch_interval abc", HEAD "switch_interval = abc\n", 6, SWITCH_MSG "'abc'"},
        {"bad switch_interval too big", HEAD "switch_interval = 10001\n", 6, SWITCH_MSG "'10001'"},
        {"bad switch_interval nan", HEAD "switch_interval = nan\n", 6, SWITCH_MSG "'nan'"},
        {"bad switch_interval 1e1", HEAD "switch_interval = 1e1\n", 6, SWITCH_MSG "'1e1'"},
        /* [params] */
        {"unknown parameter", HEAD "\n[params]\nthreads = 4\n", 8,
         "unknown parameter 'threads' for workload 'counter' (parameters: variant, "
         "iterations, increment, work_ns)"},
        {"unknown parameter (primes)",
         "[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = primes\n[params]\nn = 1\n", 7,
         "unknown parameter 'n' for workload 'primes' (parameters: numbers, repeat)"},
        {"int parameter not a number", HEAD "[params]\niterations = lots\n", 7,
         "iterations must be a whole number, not 'lots'"},
        {"int parameter with exponent", HEAD "[params]\niterations = 1e6\n", 7,
         "iterations must be a whole number, not '1e6'"},
        {"int parameter empty", HEAD "[params]\niterations =\n", 7,
         "iterations must be a whole number, not ''"},
        {"int parameter below range", HEAD "[params]\niterations = 0\n", 7,
         "iterations must be between 1 and 1000000000, not 0"},
        {"int parameter above range", HEAD "[params]\nwork_ns = 10000001\n", 7,
         "work_ns must be between 0 and 10000000, not 10000001"},
        {"int parameter overflows", HEAD "[params]\niterations = 99999999999999999999\n", 7,
         "iterations must be a whole number, not '99999999999999999999'"},
        {"float parameter not a number", HEAD_PIPELINE "[params]\nconsume_ms = slow\n", 7,
         "consume_ms must be a plain number (digits, at most 3 decimals), not 'slow'"},
        {"float parameter with exponent", HEAD_PIPELINE "[params]\nconsume_ms = 1e-9\n", 7,
         "consume_ms must be a plain number (digits, at most 3 decimals), not '1e-9'"},
        {"float parameter in hex", HEAD_PIPELINE "[params]\nconsume_ms = 0x1p3\n", 7,
         "consume_ms must be a plain number (digits, at most 3 decimals), not '0x1p3'"},
        {"float parameter finer than 1 us", HEAD_PIPELINE "[params]\nconsume_ms = 0.0001\n", 7,
         "consume_ms must be a plain number (digits, at most 3 decimals), not '0.0001'"},
        {"float parameter with a plus", HEAD_PIPELINE "[params]\nconsume_ms = +1\n", 7,
         "consume_ms must be a plain number (digits, at most 3 decimals), not '+1'"},
        {"list with an empty item", HEAD_SLEEPS "[params]\nsleeps_ms = 1, ,2\n", 7,
         "sleeps_ms: item 2 of '1, ,2' is empty"},
        {"list item in hex", HEAD_SLEEPS "[params]\nsleeps_ms = 0x10\n", 7,
         "sleeps_ms: '0x10' is not a plain number (at most 3 decimals) from 0 to 3600000"},
        {"list with no item", HEAD_SLEEPS "[params]\nsleeps_ms =\n", 7,
         "sleeps_ms: give at least one value"},
        {"sweep with an empty item", HEAD "sweep = 1,,2\n", 6,
         "sweep: item 2 of '1,,2' is empty (worker counts from 1 to 4096 and 'default', at most "
         "32)"},
        {"sweep with default twice", HEAD "sweep = default 2 default\n", 6,
         "sweep: 'default' may appear once, in 'default 2 default'"},
        {"sweep with a word like default", HEAD "sweep = 1 defaults\n", 6,
         "sweep: 'defaults' is not a whole number from 1 to 4096 (worker counts from 1 to 4096 "
         "and 'default', at most 32)"},
        {"float parameter above range", HEAD_PIPELINE "[params]\nconsume_ms = 20000.5\n", 7,
         "consume_ms must be between 0 and 10000, not 20000.5"},
        {"float parameter negative", HEAD_PIPELINE "[params]\nproduce_ms = -1\n", 7,
         "produce_ms must be between 0 and 10000, not -1"},
        {"bad enum value", HEAD "[params]\nvariant = lock\n", 7,
         "variant must be one of none|mutex|atomic|omp_atomic|omp_critical, not 'lock'"},
        {"enum value is a prefix of a choice", HEAD "[params]\nvariant = mut\n", 7,
         "variant must be one of none|mutex|atomic|omp_atomic|omp_critical, not 'mut'"},
        /* [expect] */
        {"expectation missing operand", HEAD "[expect]\nok = 1 == 1\nbad = results.x ==\n", 8,
         "expectation 'bad': expected a value at end of expression"},
        {"expectation missing ')'", HEAD "[expect]\nparen = (1 + 2 3\n", 7,
         "expectation 'paren': expected ')' at column 8 ('3')"},
        {"expectation trailing text", HEAD "[expect]\ntrail = a == 1 b\n", 7,
         "expectation 'trail': unexpected text at column 8 ('b')"},
    };
    assert_int_equal(check_bad_table(cases, sizeof cases / sizeof cases[0]), 0);
}

/*
 * Engine bug: a key repeated on the very next line is taken for a continuation line and the
 * two values are joined with a space, instead of being reported as given twice (scenario.c,
 * handler(): it treats any second call with the same section and key as a continuation).
 */
static void test_bad_files_consecutive_duplicates(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"workload given twice in a row", HEAD "workload = primes\n", 6,
         "'workload' given twice in [scenario] (first on line 5)"},
        {"parameter given twice in a row", HEAD "[params]\niterations = 5\niterations = 6\n", 8,
         "'iterations' given twice in [params] (first on line 7)"},
        {"parameter given twice across two [params] headers",
         HEAD "[params]\niterations = 5\n[params]\niterations = 6\n", 9,
         "'iterations' given twice in [params] (first on line 7)"},
    };
    assert_int_equal(check_bad_table(cases, sizeof cases / sizeof cases[0]), 0);
}

/* Line numbers stay right after a line longer than inih's initial line buffer (200 bytes). */
static void test_bad_file_after_long_line(void **state)
{
    (void)state;
    char long_title[600];
    memset(long_title, 'x', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = 0;
    char *text = cv_strdup_printf("[scenario]\nname = t\ntitle = %s\nlesson = L\n"
                                  "workload = counter\nworkers = 0\n",
                                  long_title);
    struct bad_case c = {"error after a 600-byte line", text, 6, WORKERS_MSG "'0'"};
    int bad = check_bad(&c);
    free(text);
    assert_int_equal(bad, 0);
}

static void test_missing_file(void **state)
{
    (void)state;
    const char *path = "/tmp/cvtest-no-such-dir/none.ini";
    struct cv_scenario *s = NULL;
    char *cause = NULL;
    assert_int_equal(cv_scenario_load(path, &s, &cause), CV_ERR_USAGE);
    assert_null(s);
    assert_non_null(cause);
    assert_true(strncmp(cause, path, strlen(path)) == 0);
    assert_true(strncmp(cause + strlen(path), ": ", 2) == 0);
    free(cause);
    /* A NULL cause is allowed. */
    assert_int_equal(cv_scenario_load(path, &s, NULL), CV_ERR_USAGE);
    assert_null(s);
}

static const char good_text[] =
    "# A scenario that sets every field.\n"                       /* 1 */
    "[scenario]\n"                                                /* 2 */
    "name = good-one_2\n"                                         /* 3 */
    "title = Everything set\n"                                    /* 4 */
    "lesson = First line of the lesson,\n"                        /* 5 */
    "  second line,\n"                                            /* 6 */
    "    and the third.\n"                                        /* 7 */
    "workload = counter\n"                                        /* 8 */
    "model = threads\n"                                           /* 9 */
    "models = serial, threads\tprocs\n"                           /* 10 */
    "workers = 3\n"                                               /* 11 */
    "gil = yes\n"                                                 /* 12 */
    "switch_interval = 2.5\n"                                     /* 13 */
    "\n"                                                          /* 14 */
    "[params]\n"                                                  /* 15 */
    "variant = mutex\n"                                           /* 16 */
    "work_ns = 0\n"                                               /* 17 */
    "\n"                                                          /* 18 */
    "[expect]\n"                                                  /* 19 */
    "exact = results.final == results.expected\n"                 /* 20 */
    "; a comment between expectations\n"                          /* 21 */
    "contended = locks.counter.contended > 0 when workers > 1\n"; /* 22 */

static void test_good_file(void **state)
{
    (void)state;
    char *path = write_temp(good_text);
    struct cv_scenario *s = load_ok(path);

    assert_string_equal(s->path, path);
    assert_string_equal(s->name, "good-one_2");
    assert_string_equal(s->title, "Everything set");
    assert_string_equal(s->lesson, "First line of the lesson, second line, and the third.");
    assert_string_equal(s->workload_name, "counter");
    assert_ptr_equal(s->workload, cv_workload_find("counter"));
    assert_int_equal(s->model, CV_MODEL_THREADS);
    assert_int_equal(s->models,
                     (1u << CV_MODEL_SERIAL) | (1u << CV_MODEL_THREADS) | (1u << CV_MODEL_PROCS));
    assert_int_equal(s->workers, 3);
    assert_true(s->gil);
    assert_true(s->switch_ms == 2.5);

    /* Every workload parameter, in the workload's order, defaults resolved. */
    assert_int_equal(s->nparams, 4);
    static const char *const keys[] = {"variant", "iterations", "increment", "work_ns"};
    static const char *const values[] = {"mutex", "1000000", "bare", "0"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(s->params[i].key, keys[i]);
        assert_string_equal(s->params[i].value, values[i]);
        assert_non_null(s->params[i].def);
        assert_string_equal(s->params[i].def->key, keys[i]);
    }
    assert_int_equal(s->params[0].def->type, CV_PARAM_ENUM);
    assert_int_equal(s->params[1].def->type, CV_PARAM_INT);
    assert_ptr_equal(cv_scenario_param(s, "iterations"), &s->params[1]);
    assert_null(cv_scenario_param(s, "nope"));

    assert_int_equal(s->nexpect, 2);
    assert_string_equal(s->expect[0].name, "exact");
    assert_string_equal(s->expect[0].text, "results.final == results.expected");
    assert_int_equal(s->expect[0].line, 20);
    assert_non_null(s->expect[0].expr);
    assert_string_equal(s->expect[1].name, "contended");
    assert_string_equal(s->expect[1].text, "locks.counter.contended > 0 when workers > 1");
    assert_int_equal(s->expect[1].line, 22);
    assert_non_null(s->expect[1].expr);

    cv_scenario_free(s);
    unlink(path);
    free(path);
}

/* sweep's `default` is Python's ThreadPoolExecutor default, min(32, cpus + 4), where written */
static void test_sweep_default(void **state)
{
    (void)state;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned def = cpus + 4 < 32 ? (unsigned)cpus + 4 : 32;
    static const struct {
        const char *sweep;
        size_t n, at;
        unsigned counts[4];
    } cases[] = {
        {"2 default 8", 3, 2, {2, 0, 8}},
        {"default", 1, 1, {0}},
        {"1, 2, default", 3, 3, {1, 2, 0}},
        {"4 16", 2, 0, {4, 16}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char text[256];
        snprintf(text, sizeof text,
                 "[scenario]\nname = t\ntitle = T\nlesson = L\nworkload = mixed\nsweep = %s\n",
                 cases[c].sweep);
        char *path = write_temp(text);
        struct cv_scenario *s = load_ok(path);
        assert_int_equal(s->nsweep, cases[c].n);
        assert_int_equal(s->sweep_default, cases[c].at);
        for (size_t i = 0; i < cases[c].n; i++)
            assert_int_equal(s->sweep[i], i + 1 == cases[c].at ? def : cases[c].counts[i]);
        cv_scenario_free(s);
        unlink(path);
        free(path);
    }
}

static void test_good_file_defaults(void **state)
{
    (void)state;
    /* Only the required keys: default model serial, no expectations, built-in parameters. */
    char *path =
        write_temp("[scenario]\nname = minimal\ntitle = T\nlesson = L\nworkload = primes\n");
    struct cv_scenario *s = load_ok(path);
    assert_int_equal(s->model, CV_MODEL_SERIAL);
    assert_int_equal(s->models, 1u << CV_MODEL_SERIAL);
    assert_int_equal(s->workers, 0);
    assert_false(s->gil);
    assert_true(s->switch_ms == 5.0);
    assert_int_equal(s->nexpect, 0);
    assert_int_equal(s->nparams, 2);
    assert_string_equal(cv_scenario_param(s, "repeat")->value, "48");
    assert_non_null(cv_scenario_param(s, "numbers"));
    cv_scenario_free(s);
    unlink(path);
    free(path);

    /* models without model: the default is the first listed model (in registry order). */
    path = write_temp("[scenario]\nname = m\ntitle = T\nlesson = L\nworkload = sleeps\n"
                      "models = procs threads\ngil = off\n");
    s = load_ok(path);
    assert_int_equal(s->model, CV_MODEL_THREADS);
    assert_int_equal(s->models, (1u << CV_MODEL_THREADS) | (1u << CV_MODEL_PROCS));
    assert_false(s->gil);
    cv_scenario_free(s);
    unlink(path);
    free(path);

    /* model without models: models is just that model. */
    path = write_temp("[scenario]\nname = m\ntitle = T\nlesson = L\nworkload = sleeps\n"
                      "model = epoll\n");
    s = load_ok(path);
    assert_int_equal(s->model, CV_MODEL_EPOLL);
    assert_int_equal(s->models, 1u << CV_MODEL_EPOLL);
    cv_scenario_free(s);
    unlink(path);
    free(path);

    cv_scenario_free(NULL);
}

static void test_set(void **state)
{
    (void)state;
    char *path = write_temp(good_text);
    struct cv_scenario *s = load_ok(path);
    char *cause = NULL;

    assert_int_equal(cv_scenario_set(s, "threads", "4", &cause), CV_ERR_USAGE);
    assert_non_null(cause);
    assert_string_equal(cause, "unknown parameter 'threads' for scenario good-one_2 "
                               "(valid: variant, iterations, increment, work_ns)");
    free(cause);
    cause = NULL;

    assert_int_equal(cv_scenario_set(s, "iterations", "0", &cause), CV_ERR_USAGE);
    assert_string_equal(cause, "iterations must be between 1 and 1000000000, not 0");
    free(cause);
    cause = NULL;

    assert_int_equal(cv_scenario_set(s, "iterations", "many", &cause), CV_ERR_USAGE);
    assert_string_equal(cause, "iterations must be a whole number, not 'many'");
    free(cause);
    cause = NULL;

    assert_int_equal(cv_scenario_set(s, "variant", "spin", &cause), CV_ERR_USAGE);
    assert_string_equal(
        cause, "variant must be one of none|mutex|atomic|omp_atomic|omp_critical, not 'spin'");
    free(cause);
    cause = NULL;
    /* A failed set leaves the value alone. */
    assert_string_equal(cv_scenario_param(s, "iterations")->value, "1000000");
    assert_string_equal(cv_scenario_param(s, "variant")->value, "mutex");

    assert_int_equal(cv_scenario_set(s, "iterations", "2500", &cause), CV_OK);
    assert_null(cause);
    assert_string_equal(cv_scenario_param(s, "iterations")->value, "2500");
    assert_int_equal(cv_scenario_set(s, "variant", "atomic", &cause), CV_OK);
    assert_string_equal(cv_scenario_param(s, "variant")->value, "atomic");

    /* A NULL cause is allowed. */
    assert_int_equal(cv_scenario_set(s, "nope", "1", NULL), CV_ERR_USAGE);
    assert_int_equal(cv_scenario_set(s, "work_ns", "-5", NULL), CV_ERR_USAGE);
    assert_string_equal(cv_scenario_param(s, "work_ns")->value, "0");

    cv_scenario_free(s);
    unlink(path);
    free(path);
}

static const char minimal_text[] =
    "[scenario]\nname = x\ntitle = T\nlesson = L\nworkload = primes\n";

static void test_resolve(void **state)
{
    (void)state;
    unsetenv("CONCVIZ_SCENARIOS");
    char *dir1 = make_temp_dir();
    char *dir2 = make_temp_dir();
    char *a1 = write_in_dir(dir1, "alpha.ini", minimal_text);
    char *a2 = write_in_dir(dir2, "alpha.ini", minimal_text);
    char *b2 = write_in_dir(dir2, "beta.ini", minimal_text);
    char *cause = NULL;

    /* A directory passed in. */
    const char *const dirs[] = {dir1, dir2, NULL};
    char *p = cv_scenario_resolve("alpha", dirs, &cause);
    assert_non_null(p);
    assert_null(cause);
    assert_string_equal(p, a1); /* the first directory wins */
    free(p);
    p = cv_scenario_resolve("beta", dirs, &cause);
    assert_non_null(p);
    assert_string_equal(p, b2);
    free(p);

    /* Unknown names. */
    p = cv_scenario_resolve("x", dirs, &cause);
    assert_null(p);
    assert_non_null(cause);
    assert_string_equal(cause, "unknown scenario 'x' (see 'concviz list')");
    free(cause);
    cause = NULL;
    assert_null(cv_scenario_resolve("alpha", NULL, &cause));
    assert_string_equal(cause, "unknown scenario 'alpha' (see 'concviz list')");
    free(cause);
    cause = NULL;

    /* $CONCVIZ_SCENARIOS (colon-separated) comes before the directories passed in. */
    char *env = cv_strdup_printf("/tmp/cvtest-no-such-dir:%s", dir2);
    assert_int_equal(setenv("CONCVIZ_SCENARIOS", env, 1), 0);
    p = cv_scenario_resolve("alpha", NULL, &cause);
    assert_non_null(p);
    assert_string_equal(p, a2);
    free(p);
    p = cv_scenario_resolve("alpha", dirs, &cause);
    assert_non_null(p);
    assert_string_equal(p, a2);
    free(p);
    assert_null(cv_scenario_resolve("gamma", dirs, &cause));
    assert_string_equal(cause, "unknown scenario 'gamma' (see 'concviz list')");
    free(cause);
    cause = NULL;
    assert_int_equal(unsetenv("CONCVIZ_SCENARIOS"), 0);
    free(env);

    /* A name with '/' or ending in .ini is a path. */
    p = cv_scenario_resolve(b2, NULL, &cause);
    assert_non_null(p);
    assert_string_equal(p, b2);
    free(p);
    assert_null(cv_scenario_resolve("/tmp/cvtest-no-such-dir/x.ini", dirs, &cause));
    assert_non_null(cause);
    assert_true(strncmp(cause, "/tmp/cvtest-no-such-dir/x.ini: ", 31) == 0);
    free(cause);
    cause = NULL;

    unlink(a1);
    unlink(a2);
    unlink(b2);
    rmdir(dir1);
    rmdir(dir2);
    free(a1);
    free(a2);
    free(b2);
    free(dir1);
    free(dir2);
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

static void test_list(void **state)
{
    (void)state;
    unsetenv("CONCVIZ_SCENARIOS");
    char *dir1 = make_temp_dir();
    char *dir2 = make_temp_dir();
    char *files[] = {
        write_in_dir(dir1, "zeta.ini", minimal_text),
        write_in_dir(dir1, "alpha.ini", minimal_text),
        write_in_dir(dir1, "notes.txt", "not a scenario"),
        write_in_dir(dir1, ".hidden.ini", minimal_text),
        write_in_dir(dir2, "alpha.ini", minimal_text), /* hidden by dir1/alpha.ini */
        write_in_dir(dir2, "mid.ini", minimal_text),
    };

    const char *const one[] = {dir1, NULL};
    char **v = cv_scenario_list(one);
    assert_non_null(v);
    assert_int_equal(strv_len(v), 2);
    assert_string_equal(v[0], files[1]);
    assert_string_equal(v[1], files[0]);
    cv_strv_free(v);

    const char *const two[] = {"/tmp/cvtest-no-such-dir", dir1, dir2, NULL};
    v = cv_scenario_list(two);
    assert_int_equal(strv_len(v), 3);
    for (size_t i = 1; i < 3; i++)
        assert_true(strcmp(v[i - 1], v[i]) < 0);
    for (size_t i = 0; i < 3; i++)
        assert_true(strcmp(v[i], files[0]) == 0 || strcmp(v[i], files[1]) == 0 ||
                    strcmp(v[i], files[5]) == 0);
    cv_strv_free(v);

    /* Via $CONCVIZ_SCENARIOS. */
    assert_int_equal(setenv("CONCVIZ_SCENARIOS", dir2, 1), 0);
    v = cv_scenario_list(NULL);
    assert_int_equal(strv_len(v), 2);
    assert_string_equal(v[0], files[4]);
    assert_string_equal(v[1], files[5]);
    cv_strv_free(v);
    assert_int_equal(unsetenv("CONCVIZ_SCENARIOS"), 0);

    /* Nothing found: an empty list, not NULL. */
    const char *const none[] = {"/tmp/cvtest-no-such-dir", NULL};
    v = cv_scenario_list(none);
    assert_non_null(v);
    assert_null(v[0]);
    cv_strv_free(v);
    cv_strv_free(NULL);

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    rmdir(dir1);
    rmdir(dir2);
    free(dir1);
    free(dir2);
}

/* Every scenario shipped in the repository loads, and its name is its file name. */
static void test_repo_scenarios(void **state)
{
    (void)state;
    const char *data = getenv("CONCVIZ_SCENARIO_DIR");
    if (!data)
        print_error("CONCVIZ_SCENARIO_DIR is not set (run the test through ctest)\n");
    assert_non_null(data);
    char *dir = cv_strdup(data);
    unsetenv("CONCVIZ_SCENARIOS");
    const char *const dirs[] = {dir, NULL};
    char **v = cv_scenario_list(dirs);
    assert_non_null(v);
    assert_true(strv_len(v) > 0);
    int failures = 0;
    for (char **p = v; *p; p++) {
        struct cv_scenario *s = NULL;
        char *cause = NULL;
        if (cv_scenario_load(*p, &s, &cause) != CV_OK) {
            print_error("%s\n", cause ? cause : *p);
            failures++;
            free(cause);
            continue;
        }
        const char *base = strrchr(*p, '/') + 1;
        size_t stem = strlen(base) - strlen(".ini");
        if (strlen(s->name) != stem || strncmp(s->name, base, stem) != 0) {
            print_error("%s: name '%s' does not match the file name\n", *p, s->name);
            failures++;
        }
        if (!(s->models & (1u << s->model))) {
            print_error("%s: default model is not in models\n", *p);
            failures++;
        }
        cv_scenario_free(s);
    }
    cv_strv_free(v);
    free(dir);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_files_consecutive_duplicates),
        cmocka_unit_test(test_bad_file_after_long_line),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_good_file_defaults),
        cmocka_unit_test(test_sweep_default),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_repo_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

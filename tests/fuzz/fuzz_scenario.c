/*
 * libFuzzer target for the scenario parser (concviz/scenario.h) and the expectation language.
 * Each input is a whole scenario file: written to a memfd (or a temporary file rewritten for
 * every input) and loaded through its path. A scenario that loads has every parameter
 * overridden with a few values (--set), and its expectations evaluated against a small summary.
 * Every line of the input is also parsed as an expectation on its own and evaluated, so the
 * expression parser sees inputs the INI layer would not pass through. Run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"

#include "concviz/run.h"
#include "concviz/scenario.h"
#include "concviz/value.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cv_value *summary;

/* A summary with the shapes expectations read: numbers, strings, objects, an array. */
static struct cv_value *make_summary(void)
{
    struct cv_value *root = cv_value_obj();
    cv_value_set_str(root, "model", "threads");
    cv_value_set_num(root, "workers", 4);
    struct cv_value *res = cv_value_set(root, "results", cv_value_obj());
    cv_value_set_num(res, "lost_updates", 12);
    cv_value_set_num(res, "counter_final", 3999988);
    cv_value_set_str(res, "variant", "none");
    struct cv_value *params = cv_value_set(root, "params", cv_value_obj());
    cv_value_set_str(params, "variant", "none");
    cv_value_set_num(params, "iterations", 1000000);
    struct cv_value *locks = cv_value_set(root, "locks", cv_value_obj());
    struct cv_value *m = cv_value_set(locks, "counter", cv_value_obj());
    cv_value_set_num(m, "contended", 5);
    struct cv_value *order = cv_value_set(root, "completion_order", cv_value_arr());
    for (int i = 0; i < 4; i++)
        cv_value_push(order, cv_value_num(3 - i));
    return root;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_input_open("fuzz_scenario");
    summary = make_summary();
    return 0;
}

/* Each line as an expectation of its own. */
static void each_line(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        struct cv_expr *e = NULL;
        char *cause = NULL;
        if (cv_expr_parse(line, &e, &cause) == 0 && e) {
            char *actual = NULL;
            (void)cv_expr_eval(e, summary, &actual);
            free(actual);
            cv_expr_free(e);
        }
        free(cause);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_write(data, size);
    struct cv_scenario *s = NULL;
    char *cause = NULL;
    if (cv_scenario_load(fuzz_input_path, &s, &cause) == 0 && s) {
        static const char *const values[] = {"0", "1", "4096", "-1", "x", "", "1e9"};
        for (size_t i = 0; i < s->nparams; i++)
            for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
                char *why = NULL;
                char *key = strdup(s->params[i].key);
                (void)cv_scenario_set(s, key, values[k], &why);
                free(key);
                free(why);
            }
        unsigned failed = 0;
        cv_value_free(cv_expectations_eval(s, summary, &failed));
        cv_scenario_free(s);
    }
    free(cause);
    each_line(data, size);
    return 0;
}

/* concviz list: the scenarios, a line each. */
#include "cmdline.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"

void tui_models_text(const struct cv_scenario *s, char *buf, size_t n)
{
    buf[0] = 0;
    for (unsigned m = 0; m < CV_MODEL__COUNT; m++) {
        if (!(s->models & (1u << m)))
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s%s", len ? " " : "", cv_model_name(m),
                 cv_model_available(m) ? "" : "(later)");
    }
}

/* The first line of a Python program's docstring, or "". */
static void py_title(const char *path, char *out, size_t n)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *q = strstr(line, "\"\"\"");
        if (!q)
            continue;
        q += 3;
        q[strcspn(q, "\n")] = 0;
        char *end = strstr(q, "\"\"\"");
        if (end)
            *end = 0;
        snprintf(out, n, "%s", q);
        break;
    }
    fclose(f);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The articles' Python programs (scenarios/python), for concviz trace. */
static void list_python(void)
{
    bool header = false;
    for (const char *const *d = tui_scenario_dirs(); *d; d++) {
        char *dir = cv_strdup_printf("%s/python", *d);
        DIR *dh = opendir(dir);
        char **names = NULL;
        size_t n = 0;
        for (struct dirent *e; dh && (e = readdir(dh));) {
            size_t len = strlen(e->d_name);
            if (len > 3 && !strcmp(e->d_name + len - 3, ".py")) {
                names = cv_xrealloc(names, (n + 1) * sizeof *names);
                names[n++] = cv_strdup(e->d_name);
            }
        }
        if (dh)
            closedir(dh);
        qsort(names, n, sizeof *names, by_name);
        for (size_t i = 0; i < n; i++) {
            if (!header) {
                printf("\nPYTHON PROGRAM     WHAT (concviz trace -- python3 %s/NAME)\n", dir);
                header = true;
            }
            char *path = cv_strdup_printf("%s/%s", dir, names[i]);
            char title[128];
            py_title(path, title, sizeof title);
            printf("%-18s %.100s\n", names[i], title);
            free(path);
            free(names[i]);
        }
        free(names);
        free(dir);
    }
}

int tui_list_parse(int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            puts("Usage: concviz list\nLists the scenarios: name, title and supported models; then "
                 "the Python programs\nof the articles, to run with 'concviz trace'.");
            return TUI_EXIT_OK;
        }
        return tui_fail(TUI_EXIT_USAGE, "list takes no arguments ('%s')", argv[1]);
    }
    return TUI_PARSED;
}

int tui_list_exec(void)
{
    char **paths = cv_scenario_list(tui_scenario_dirs());
    int rc = TUI_EXIT_OK;
    if (!paths[0]) {
        cv_strv_free(paths);
        return tui_fail(TUI_EXIT_RUNTIME, "no scenarios found (set CONCVIZ_SCENARIOS?)");
    }
    printf("%-18s %-58s %s\n", "SCENARIO", "TITLE", "MODELS");
    for (char **p = paths; *p; p++) {
        struct cv_scenario *s = NULL;
        char *cause = NULL;
        if (cv_scenario_load(*p, &s, &cause) != CV_OK) {
            tui_fail(TUI_EXIT_USAGE, "%s", cause);
            free(cause);
            rc = TUI_EXIT_USAGE;
            continue;
        }
        char models[128];
        tui_models_text(s, models, sizeof models);
        printf("%-18s %-58.58s %s\n", s->name, s->title, models);
        cv_scenario_free(s);
    }
    cv_strv_free(paths);
    list_python();
    return rc;
}

static int list_parse(int argc, char **argv, struct tui_cmdline *cl)
{
    (void)cl;
    return tui_list_parse(argc, argv);
}

static int list_exec(struct tui_cmdline *cl)
{
    (void)cl;
    return tui_list_exec();
}

const struct tui_command tui_cmd_list = {"list", TUI_CMD_LIST, list_parse, list_exec, NULL};

/* concviz list: the scenarios, a line each. */
#include "cmdline.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

/* The terminal's width when stdout is one, else 0 (nothing is cut). */
static int out_width(void)
{
    if (!isatty(STDOUT_FILENO))
        return 0;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    unsigned long cols;
    const char *env = getenv("COLUMNS");
    return env && tui_parse_ulong(env, 1, 10000, &cols) ? (int)cols : 80;
}

/* Prints text in at most `w` columns (w <= 0: all of it), padded to `pad` columns: a text too
 * long is cut after its last whole word that leaves room for "...". */
static void print_fit(const char *text, int w, int pad)
{
    int len = (int)strlen(text);
    if (w > 0 && len > w) {
        int keep = w - 3;
        while (keep > 0 && text[keep] != ' ')
            keep--;
        while (keep > 0 && (text[keep - 1] == ' ' || text[keep - 1] == ',' ||
                            text[keep - 1] == ':' || text[keep - 1] == ';'))
            keep--;
        if (keep <= 0) /* one word longer than the room: cut in it, there is no better place */
            keep = w > 3 ? w - 3 : 0;
        printf("%.*s...%*s", keep, text, pad > keep + 3 ? pad - keep - 3 : 0, "");
        return;
    }
    printf("%s%*s", text, pad > len ? pad - len : 0, "");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The articles' Python programs (scenarios/python), for concviz trace. */
static void list_python(int width)
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
            printf("%-18s ", names[i]);
            print_fit(title, width ? (width > 43 ? width - 19 : 24) : 0, 0);
            putchar('\n');
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
    size_t n = 0;
    while (paths[n])
        n++;
    struct cv_scenario **sc = cv_xcalloc(n, sizeof *sc);
    int title_w = 5, models_w = 6; /* the widest title and models, at least their headings' */
    for (size_t i = 0; i < n; i++) {
        char *cause = NULL;
        if (cv_scenario_load(paths[i], &sc[i], &cause) != CV_OK) {
            tui_fail(TUI_EXIT_USAGE, "%s", cause);
            free(cause);
            rc = TUI_EXIT_USAGE;
            sc[i] = NULL;
            continue;
        }
        char models[128];
        tui_models_text(sc[i], models, sizeof models);
        if ((int)strlen(sc[i]->title) > title_w)
            title_w = (int)strlen(sc[i]->title);
        if ((int)strlen(models) > models_w)
            models_w = (int)strlen(models);
    }
    /* On a terminal the titles get what its width leaves beside the names and models; one too
     * narrow for 24 columns of title puts the models on a line of their own, under the title.
     * Elsewhere the titles are whole. */
    int width = out_width(), cut = 0;
    bool below = false;
    if (width && 19 + title_w + 1 + models_w > width) {
        cut = width - 19 - 1 - models_w;
        below = cut < 24;
        title_w = cut = below ? (width - 19 > 12 ? width - 19 : 12) : cut;
    }
    if (below)
        printf("%-18s %s\n", "SCENARIO", "TITLE, then MODELS");
    else
        printf("%-18s %-*s %s\n", "SCENARIO", title_w, "TITLE", "MODELS");
    for (size_t i = 0; i < n; i++) {
        if (!sc[i])
            continue;
        char models[128];
        tui_models_text(sc[i], models, sizeof models);
        printf("%-18s ", sc[i]->name);
        print_fit(sc[i]->title, cut, below ? 0 : title_w);
        if (below) { /* under the title, or further left when that leaves too little room */
            int room = width - (int)strlen(models);
            printf("\n%*s%s\n", room < 19 ? (room > 0 ? room : 0) : 19, "", models);
        } else {
            printf(" %s\n", models);
        }
        cv_scenario_free(sc[i]);
    }
    free(sc);
    cv_strv_free(paths);
    list_python(width);
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

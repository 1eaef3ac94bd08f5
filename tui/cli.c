/* Pieces shared by the commands: errors, number parsing and formatting, scenario lookup. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concviz/concviz.h"

#ifndef CONCVIZ_SCENARIO_DIR
#define CONCVIZ_SCENARIO_DIR "scenarios"
#endif

int tui_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("concviz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

bool tui_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

void tui_human(char *buf, size_t n, double x)
{
    if (x >= 1e9)
        snprintf(buf, n, "%.1fG", x / 1e9);
    else if (x >= 1e6)
        snprintf(buf, n, "%.1fM", x / 1e6);
    else if (x >= 1e3)
        snprintf(buf, n, "%.1fk", x / 1e3);
    else
        snprintf(buf, n, "%.0f", x);
}

double tui_num(const struct cv_value *o, const char *key)
{
    const struct cv_value *v = cv_value_get(o, key);
    return v && v->type == CV_VAL_NUM ? v->num : 0;
}

bool tui_parse_size(const char *s, int lo, int hi, int *w, int *h)
{
    char buf[32];
    unsigned long a, b;
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *x = strchr(buf, 'x');
    if (!x)
        return false;
    *x = 0;
    if (!tui_parse_ulong(buf, (unsigned long)lo, (unsigned long)hi, &a) ||
        !tui_parse_ulong(x + 1, (unsigned long)lo, (unsigned long)hi, &b))
        return false;
    *w = (int)a;
    *h = (int)b;
    return true;
}

const char *const *tui_scenario_dirs(void)
{
    static const char *const dirs[] = {CONCVIZ_SCENARIO_DIR, NULL};
    return dirs;
}

struct cv_scenario *tui_load_scenario(const char *name)
{
    char *cause = NULL;
    char *path = cv_scenario_resolve(name, tui_scenario_dirs(), &cause);
    if (!path) {
        tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
        return NULL;
    }
    struct cv_scenario *s = NULL;
    if (cv_scenario_load(path, &s, &cause) != CV_OK) {
        tui_fail(TUI_EXIT_USAGE, "%s", cause);
        free(cause);
    }
    free(path);
    return s;
}

/* Helpers shared by the benchmark programs (each is its own executable; this is header-only). */
#ifndef CONCVIZ_BENCH_UTIL_H
#define CONCVIZ_BENCH_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concviz/concviz.h"
#include "concviz/scenario.h"
#include "concviz/value.h"

/* Writes `body` to a temporary INI file and loads it; NULL (with a message) on failure. */
static inline struct cv_scenario *bench_load_scenario(const char *prog, const char *body)
{
    char path[] = "/tmp/cv_bench_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "%s: mkstemp: %s\n", prog, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return NULL;
    }
    fputs(body, f);
    fclose(f);
    struct cv_scenario *sc = NULL;
    char *cause = NULL;
    if (cv_scenario_load(path, &sc, &cause) != CV_OK) {
        fprintf(stderr, "%s: scenario: %s\n", prog, cause ? cause : "?");
        free(cause);
        sc = NULL;
    }
    unlink(path);
    return sc;
}

/* A number in a summary by dotted path (NaN when missing). */
static inline double bench_summary_num(const struct cv_value *sum, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const struct cv_value *cur = sum;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save))
        cur = cv_value_child(cur, tok);
    return cur && cur->type == CV_VAL_NUM ? cur->num : NAN;
}

#endif

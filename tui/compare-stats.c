/* The compare view's figures (compare-stats.h). */
#include "compare-stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MEDIAN_MAX 64 /* more values than a comparison ever has are left out */

double cmp_median(const double *v, int n)
{
    double s[MEDIAN_MAX];
    if (n > MEDIAN_MAX)
        n = MEDIAN_MAX;
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++) { /* insertion sort of a copy: a handful of values */
        int j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--)
            s[j] = s[j - 1];
        s[j] = v[i];
    }
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double cmp_spread(const double *v, int n, double *min, double *max)
{
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        if (!i || v[i] < lo)
            lo = v[i];
        if (!i || v[i] > hi)
            hi = v[i];
    }
    if (min)
        *min = lo;
    if (max)
        *max = hi;
    double med = cmp_median(v, n);
    return n < 2 || med <= 0 ? -1 : (hi - lo) / med;
}

bool cmp_cpu_parse(const char *text, struct cmp_cpu *out)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, "cpu ", 4) != 0)
            continue;
        char line[256]; /* this line alone: the fields of the next are not its own */
        size_t n = strcspn(p, "\n");
        n = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, p, n);
        line[n] = 0;
        unsigned long long f[8] = {0};
        int got = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
                         &f[3], &f[4], &f[5], &f[6], &f[7]);
        if (got < 4)
            return false;
        *out = (struct cmp_cpu){f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
        return true;
    }
    return false;
}

/* Ticks counted as busy (guest time is inside user and nice already). */
static double busy(const struct cmp_cpu *c)
{
    return (double)(c->user + c->nice + c->system + c->irq + c->softirq);
}

static double total(const struct cmp_cpu *c)
{
    return busy(c) + (double)(c->idle + c->iowait + c->steal);
}

bool cmp_shares(const struct cmp_sample *a, const struct cmp_sample *b, double *steal,
                double *others)
{
    *steal = *others = -1;
    if (!a->ok || !b->ok)
        return false;
    double all = total(&b->cpu) - total(&a->cpu);
    if (all <= 0)
        return false;
    *steal = (double)(b->cpu.steal - a->cpu.steal) / all;
    double rest = busy(&b->cpu) - busy(&a->cpu) - (b->own_ticks - a->own_ticks);
    *others = rest > 0 ? rest / all : 0;
    return true;
}

bool cmp_row_checks(const struct compare_row *r, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    bool bad = r->bad || r->checks_failed;
    if (r->bad) {
        const char *how = strcmp(r->bad_state, "error") ? r->bad_state : "could not start";
        if (r->bad == r->ended)
            len += (size_t)snprintf(buf, cap, "%s", how);
        else
            len += (size_t)snprintf(buf, cap, "%d of %d %s", r->bad, r->ended, how);
    }
    if (len >= cap)
        return bad;
    if (r->checks_failed && len)
        snprintf(buf + len, cap - len, "; FAILED in %d of the %d done", r->checks_failed, r->good);
    else if (r->checks_failed)
        snprintf(buf, cap, "FAILED in %d of %d run%s", r->checks_failed, r->good,
                 r->good == 1 ? "" : "s");
    else if (!len && r->good && r->nexp)
        snprintf(buf, cap, "ok (%u)", r->nexp);
    else if (!len)
        snprintf(buf, cap, "-");
    return bad;
}

/* Appends to buf (of cap bytes, with *len used) as snprintf would, cut at the end. */
__attribute__((format(printf, 4, 5))) static void add(char *buf, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (k > 0)
        *len = *len + (size_t)k < cap ? *len + (size_t)k : cap - 1;
}

bool cmp_warning(char *buf, size_t cap, int n, const char *const *names, const double *spread,
                 const struct cmp_noise *m)
{
    size_t len = 0;
    if (!cap)
        return false;
    buf[0] = 0;
    int parts = 0, spreads = 0;
    for (int i = 0; i < n; i++) {
        if (spread[i] <= CMP_SPREAD_MAX)
            continue;
        add(buf, cap, &len, "%s%.1f%% for %s", spreads ? ", " : "warning: spread ", spread[i] * 100,
            names[i]);
        spreads++;
    }
    if (spreads) {
        add(buf, cap, &len, " (over %.0f%%)", CMP_SPREAD_MAX * 100);
        parts++;
    }
    if (m && m->ncpu > 0 && m->load > m->ncpu) {
        add(buf, cap, &len, "%sload %.2f on %d CPU%s as the runs began",
            parts ? "; " : "warning: ", m->load, m->ncpu, m->ncpu == 1 ? "" : "s");
        parts++;
    }
    bool stole = m && m->steal > CMP_STEAL_MAX, took = m && m->others > CMP_OTHERS_MAX;
    if (stole || took) {
        add(buf, cap, &len, "%s", parts ? "; " : "warning: ");
        if (stole)
            add(buf, cap, &len, "the host stole %.1f%%%s", m->steal * 100, took ? " and " : "");
        if (took)
            add(buf, cap, &len, "other programs took %.1f%%", m->others * 100);
        add(buf, cap, &len, " of the CPU time during the runs");
        parts++;
    }
    if (!parts)
        return false;
    add(buf, cap, &len, ": figures are noisy");
    return true;
}

void cmp_sample_take(struct cmp_sample *s)
{
    memset(s, 0, sizeof *s);
    char text[4096];
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        size_t k = fread(text, 1, sizeof text - 1, f);
        text[k] = 0;
        fclose(f);
        s->ok = cmp_cpu_parse(text, &s->cpu);
    }
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double sec = 0;
    const struct rusage *r[2] = {&self, &kids};
    for (int i = 0; i < 2; i++)
        sec += (double)(r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec) +
               (double)(r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec) / 1e6;
    long hz = sysconf(_SC_CLK_TCK);
    s->own_ticks = sec * (double)(hz > 0 ? hz : 100);
}

void cmp_machine(int *ncpu, double *load)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    *ncpu = n > 0 ? (int)n : 0;
    double l[1];
    *load = getloadavg(l, 1) == 1 ? l[0] : -1;
}

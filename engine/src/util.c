/* Small helpers: allocation that aborts on out-of-memory, formatted strings. */
#include "concviz/concviz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("concviz: out of memory\n", stderr);
    abort();
}

void *cv_xmalloc(unsigned long n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *cv_xcalloc(unsigned long n, unsigned long size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *cv_xrealloc(void *p, unsigned long n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *cv_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cv_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *cv_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    return s;
}

char *cv_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = cv_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

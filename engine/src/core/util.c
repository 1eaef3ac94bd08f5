/* Small helpers: allocation that aborts on out-of-memory, formatted strings. */
#include "concviz/concviz.h"
#include "pages.h"

#include <dirent.h>
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

void cv_make_pages(void *p, unsigned long n)
{
    cv__pages_advise(p, n, MADV_POPULATE_WRITE);
}

void *cv_xcalloc_made(unsigned long n, unsigned long size)
{
    unsigned long bytes;
    if (__builtin_mul_overflow(n ? n : 1, size ? size : 1, &bytes))
        oom();
    void *p = cv_xmalloc(bytes);
    cv_make_pages(p, bytes);
    return memset(p, 0, bytes);
}

#define GROW_MADE (64ul << 10)

void *cv_xgrow(void *p, unsigned long used, unsigned long n)
{
    if (n < GROW_MADE)
        return cv_xrealloc(p, n);
    void *q = cv_xmalloc(n);
    cv_make_pages(q, n);
    if (used)
        memcpy(q, p, used < n ? used : n);
    free(p);
    return q;
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

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (p[0] >= 0xf8 || n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* overlong three- and four-byte forms, surrogates, and beyond U+10FFFF */
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

char *cv_escape_text(const char *s, size_t max)
{
    size_t len = strlen(s), cap = (len < max ? len : max) * 4 + 4, o = 0;
    char *d = cv_xmalloc(cap + 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len && i < max) {
        size_t n = p[i] >= 0x80 ? utf8_len(p + i, len - i) : 1;
        if (n > 1 && i + n <= max) {
            memcpy(d + o, p + i, n);
            o += n;
            i += n;
        } else if (p[i] < 0x20 || p[i] >= 0x7f) {
            o += (size_t)snprintf(d + o, cap + 1 - o, "\\x%02x", p[i]);
            i++;
        } else {
            d[o++] = (char)p[i++];
        }
    }
    if (i < len) {
        memcpy(d + o, "...", 3);
        o += 3;
    }
    d[o] = 0;
    return d;
}

char *cv_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = cv_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

unsigned long cv_open_descriptors(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 3;
    unsigned long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the directory's own */
}

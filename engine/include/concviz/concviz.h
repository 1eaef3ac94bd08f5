/* concviz engine: version and error codes shared by every public header. */
#ifndef CONCVIZ_CONCVIZ_H
#define CONCVIZ_CONCVIZ_H

#include <stddef.h>

#ifndef CONCVIZ_VERSION
#define CONCVIZ_VERSION "0.0.0"
#endif

/* Engine calls return 0 or one of these; messages come back through a `char **cause`. */
enum cv_error {
    CV_OK = 0,
    CV_ERR_USAGE = -1,   /* the caller asked for something invalid (flag, value, scenario) */
    CV_ERR_RUNTIME = -2, /* the system refused (threads, memory map, files) */
    CV_ERR_NOMEM = -3,
};

/* Formats a heap string; aborts on out-of-memory (callers restore the terminal first). */
char *cv_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cv_strdup(const char *s);
/* The first n bytes of s (fewer if it ends first), terminated. */
char *cv_strndup(const char *s, size_t n);
/* `s` made safe to print on a terminal: control bytes and bytes that are not UTF-8 become \xNN,
 * and a text longer than `max` bytes is cut with "...". Valid UTF-8 stays as it is. */
char *cv_escape_text(const char *s, size_t max);
void *cv_xmalloc(unsigned long n);
void *cv_xcalloc(unsigned long n, unsigned long size);
void *cv_xrealloc(void *p, unsigned long n);
/* Makes the pages under [p, p + n) in one call, where a first write to each would cost a trap
 * into the kernel (10-30 us a page on a virtual machine, 1-2 us made in bulk). A kernel that
 * cannot (before 5.14) leaves them to be made as they are written. */
void cv_make_pages(void *p, unsigned long n);
/* cv_xcalloc whose pages are made at once (cv_make_pages) before they are cleared. */
void *cv_xcalloc_made(unsigned long n, unsigned long size);
/* An array of `used` bytes at p grown to n bytes, as cv_xrealloc; a block of 64 KB or more gets
 * its pages made at once before the copy. */
void *cv_xgrow(void *p, unsigned long used, unsigned long n);
/* How many descriptors this process has open (3 when /proc cannot say). */
unsigned long cv_open_descriptors(void);

#endif

/* Pages made in bulk, shared by the engine's helpers and the rings (which the trace library
 * builds on its own, without the rest of core/). */
#ifndef CONCVIZ_CORE_PAGES_H
#define CONCVIZ_CORE_PAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* madvise(advice) over the pages under [p, p + n): MADV_POPULATE_WRITE or _READ make them in one
 * call, where a first touch of each would cost a trap into the kernel. A kernel before 5.14
 * refuses, and the pages are made as they are touched. */
static inline void cv__pages_advise(const void *p, size_t n, int advice)
{
    if (!n)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = (uintptr_t)p & ~(page - 1);
    uintptr_t to = ((uintptr_t)p + n + page - 1) & ~(page - 1);
    (void)madvise((void *)from, to - from, advice);
}

#endif

/* For the unit tests: whether pages are mapped in this process. */
#ifndef CONCVIZ_TEST_PAGEMAP_H
#define CONCVIZ_TEST_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* Whether every page under [p, p + n) is mapped in this process (/proc/self/pagemap's present
 * bit, readable without privileges); false when the file cannot be read. */
static inline bool pages_present(const void *p, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/pagemap", "rb");
    if (!f)
        return false;
    bool all = true;
    for (uintptr_t a = (uintptr_t)p & ~(page - 1); all && a < (uintptr_t)p + n; a += page) {
        uint64_t e = 0;
        all = fseeko(f, (off_t)(a / page * sizeof e), SEEK_SET) == 0 &&
              fread(&e, sizeof e, 1, f) == 1 && (e >> 63 & 1);
    }
    fclose(f);
    return all;
}

#endif

/*
 * Deadlock detection: a cycle in the wait-for graph, where a lane waiting on a mutex points to
 * the lane holding it. Read from the shared mapping without locks, so it is a snapshot; the run
 * reports a deadlock only when the same cycle is seen on two scans in a row.
 */
#include "internal.h"

#include <stdlib.h>

size_t cv__find_deadlock(struct cv_run *run, uint32_t *cycle, size_t max)
{
    uint32_t n = run->nlanes;
    uint32_t *path = cv_xmalloc(n * sizeof *path); /* lanes visited from the start lane */
    uint32_t *via = cv_xmalloc(n * sizeof *via);   /* the mutex each of them waits on */
    size_t found = 0;
    for (uint32_t start = 0; start < n && !found; start++) {
        size_t len = 0;
        uint32_t cur = start;
        while (len < n) {
            uint32_t obj = __atomic_load_n(&run->lanes[cur].waiting_on, __ATOMIC_RELAXED);
            uint32_t holder = obj == CV_NONE ? CV_NONE : cv__obj_holder(run, obj);
            if (holder == CV_NONE || holder >= n)
                break;
            path[len] = cur;
            via[len] = obj;
            len++;
            size_t at = len;
            for (size_t i = 0; i < len; i++)
                if (path[i] == holder)
                    at = i;
            if (at < len) {
                /* The cycle is path[at..len-1]: each waits on via[], held by the next. */
                for (size_t i = at; i < len && found + 2 <= max; i++) {
                    cycle[found++] = path[i];
                    cycle[found++] = via[i];
                }
                break;
            }
            cur = holder;
        }
    }
    free(path);
    free(via);
    return found;
}

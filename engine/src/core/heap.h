/* A binary min-heap over an array, written once for the three that need one: the embedded
 * server's parked requests (by due time), the event loop's timers (by deadline, each timer
 * knowing its place so that it can be removed), and the collector's merge of lanes (lane numbers
 * keyed by their next event's time).
 *
 * CV_HEAP_DEFINE(NAME, T, CTX, KEY, MOVED) defines, for an array a of T:
 *   NAME_up(a, i, ctx)       moves a[i] towards the root until its parent is not larger;
 *   NAME_down(a, n, i, ctx)  moves a[i] towards the leaves of a[0..n) until no child is smaller;
 * where KEY(ctx, x) is x's uint64_t key (smallest first) and MOVED(ctx, x, i) is told each place
 * x takes (CV_HEAP_UNTRACKED where nothing needs to know). Equal keys keep their order as the
 * hand-written heaps did: an element stops below a parent with an equal key and is not passed
 * by a child with an equal key. The usual operations, with n elements:
 *   push x:       a[n] = x; NAME_up(a, n, ctx); n++
 *   pop the root: n--; if (n) { a[0] = a[n]; NAME_down(a, n, 0, ctx); }
 *   re-key a[i]:  NAME_up(a, i, ctx), then NAME_down from where it landed */
#ifndef CONCVIZ_CORE_HEAP_H
#define CONCVIZ_CORE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define CV_HEAP_UNTRACKED(ctx, x, i) ((void)0)

#define CV_HEAP_DEFINE(NAME, T, CTX, KEY, MOVED)                      \
    static inline void NAME##_up(T *a, size_t i, CTX ctx)             \
    {                                                                 \
        (void)ctx;                                                    \
        T x = a[i];                                                   \
        uint64_t kx = KEY(ctx, x);                                    \
        while (i > 0) {                                               \
            size_t p = (i - 1) / 2;                                   \
            if (KEY(ctx, a[p]) <= kx)                                 \
                break;                                                \
            a[i] = a[p];                                              \
            MOVED(ctx, a[i], i);                                      \
            i = p;                                                    \
        }                                                             \
        a[i] = x;                                                     \
        MOVED(ctx, x, i);                                             \
    }                                                                 \
    static inline void NAME##_down(T *a, size_t n, size_t i, CTX ctx) \
    {                                                                 \
        (void)ctx;                                                    \
        T x = a[i];                                                   \
        uint64_t kx = KEY(ctx, x);                                    \
        for (;;) {                                                    \
            size_t c = 2 * i + 1;                                     \
            if (c >= n)                                               \
                break;                                                \
            if (c + 1 < n && KEY(ctx, a[c + 1]) < KEY(ctx, a[c]))     \
                c++;                                                  \
            if (KEY(ctx, a[c]) >= kx)                                 \
                break;                                                \
            a[i] = a[c];                                              \
            MOVED(ctx, a[i], i);                                      \
            i = c;                                                    \
        }                                                             \
        a[i] = x;                                                     \
        MOVED(ctx, x, i);                                             \
    }

#endif

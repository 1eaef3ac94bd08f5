/*
 * The LTTng-UST tracepoint provider of bench_lttng: one event, concviz_bench:event, with the
 * fields of a struct cv_event (kind, lane, task, obj, arg); LTTng adds its own timestamp. Written
 * with the LTTng-UST 2.13 names (LTTNG_UST_TRACEPOINT_EVENT, lttng_ust_field_integer); the
 * pre-2.13 ones (TRACEPOINT_EVENT, ctf_integer) are switched off. Included twice by the
 * provider machinery, hence the guard that LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ reopens; the
 * build puts this directory on the include path so <lttng/tracepoint-event.h> finds it again.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER concviz_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "bench_lttng_tp.h"

#ifndef LTTNG_UST_COMPAT_API_VERSION
#define LTTNG_UST_COMPAT_API_VERSION 1
#endif

#if !defined(CONCVIZ_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define CONCVIZ_BENCH_LTTNG_TP_H

#include <stdint.h>

#include <lttng/tracepoint.h>

/* One field a line; clang-format would staircase them. */
/* clang-format off */
LTTNG_UST_TRACEPOINT_EVENT(
    concviz_bench, event,
    LTTNG_UST_TP_ARGS(uint16_t, kind, uint16_t, lane, uint32_t, task, uint32_t, obj, uint64_t, arg),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint16_t, kind, kind)
        lttng_ust_field_integer(uint16_t, lane, lane)
        lttng_ust_field_integer(uint32_t, task, task)
        lttng_ust_field_integer(uint32_t, obj, obj)
        lttng_ust_field_integer(uint64_t, arg, arg)
    )
)
/* clang-format on */

#endif

#include <lttng/tracepoint-event.h>

/* Exports of a recording (see concviz/record.h): Chrome Trace Event JSON, CSV and SVG. */
#ifndef CONCVIZ_EXPORT_H
#define CONCVIZ_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "concviz/record.h"

/* Chrome Trace Event JSON, object form: loads in Perfetto and chrome://tracing. The exports
 * stop once `out` has failed (ferror), returning CV_ERR_RUNTIME; the stream's error is the
 * caller's to report. */
int cv_export_chrome(struct cv_recording *r, FILE *out, char **cause);
/* One row per event: ts_ns, lane, lane_name, kind, task, obj, obj_name, arg, detail. */
int cv_export_csv(struct cv_recording *r, FILE *out, char **cause);

/* What an SVG shows: a window of the run and the picture's width. */
struct cv_svg_opts {
    uint64_t from_ns; /* the window's start, ns since the run's start (0: the start) */
    uint64_t to_ns;   /* its end; UINT64_MAX, or anything past the run's end: the end */
    unsigned width;   /* px, 400 to 20000; 0: 1200 */
};
/* A picture of the run (opts NULL: all of it, 1200 px wide): one row per lane with its states
 * over time in the terminal UI's colours (at most one rectangle per pixel column, the state the
 * lane spent most of that column in), lock waits marked under their lane, task ids where they
 * fit, a time axis, each queue's depth, a legend and a title line. A window that is empty once
 * clamped to the run's end is CV_ERR_USAGE. */
int cv_export_svg(struct cv_recording *r, FILE *out, const struct cv_svg_opts *opts, char **cause);

#endif

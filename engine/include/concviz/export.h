/* Exports of a recording (see concviz/record.h): Chrome Trace Event JSON and CSV. */
#ifndef CONCVIZ_EXPORT_H
#define CONCVIZ_EXPORT_H

#include <stdio.h>

#include "concviz/record.h"

/* Chrome Trace Event JSON, object form: loads in Perfetto and chrome://tracing. */
int cv_export_chrome(struct cv_recording *r, FILE *out, char **cause);
/* One row per event: ts_ns, lane, lane_name, kind, task, obj, obj_name, arg, detail. */
int cv_export_csv(struct cv_recording *r, FILE *out, char **cause);

#endif

/* Names of event kinds and I/O kinds, from their X-macro tables. */
#include "concviz/event.h"

#include <string.h>

static const char *const kind_names[] = {
#define CV_X_NAME(name, str) str,
    CV_EVENT_KINDS(CV_X_NAME)
#undef CV_X_NAME
};

static const char *const io_names[] = {
#define CV_X_NAME(name, str) str,
    CV_IO_KINDS(CV_X_NAME)
#undef CV_X_NAME
};

const char *cv_event_kind_name(unsigned kind)
{
    return kind < CV_EV__COUNT ? kind_names[kind] : "unknown";
}

int cv_event_kind_from_name(const char *name)
{
    for (unsigned i = 0; i < CV_EV__COUNT; i++)
        if (strcmp(kind_names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *cv_io_kind_name(unsigned io)
{
    return io < CV_IO__COUNT ? io_names[io] : "unknown";
}

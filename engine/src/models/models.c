/* The model table: names for every model, ops for the ones this build implements; and the
 * blocking wait ops shared by the thread- and process-based models. */
#include "internal.h"

#include <string.h>

static const char *const model_names[] = {
#define CV_X_NAME(name, str) str,
    CV_MODELS(CV_X_NAME)
#undef CV_X_NAME
};

const char *cv_model_name(unsigned model)
{
    if (model == CV_MODEL_TRACE)
        return "trace";
    return model < CV_MODEL__COUNT ? model_names[model] : "unknown";
}

int cv_model_from_name(const char *name)
{
    for (unsigned i = 0; i < CV_MODEL__COUNT; i++)
        if (!strcmp(model_names[i], name))
            return (int)i;
    return -1;
}

const struct cv_model_ops *cv__model_ops(unsigned id)
{
    switch (id) {
    case CV_MODEL_SERIAL:
        return &cv__model_serial;
    case CV_MODEL_THREADS:
        return &cv__model_threads;
    case CV_MODEL_PROCS:
        return &cv__model_procs;
    case CV_MODEL_OPENMP:
        return &cv__model_openmp;
    case CV_MODEL_EPOLL:
        return &cv__model_epoll;
    case CV_MODEL_HYBRID:
        return &cv__model_hybrid;
    case CV_MODEL_TRACE:
        return &cv__model_trace;
    default:
        return NULL;
    }
}

bool cv_model_available(unsigned model)
{
    return cv__model_ops(model) != NULL;
}

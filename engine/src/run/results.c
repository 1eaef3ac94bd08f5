/*
 * What a run reports beyond its events: the results workloads set and the errors anyone meets,
 * kept in value trees under one lock, read by the summary.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cv_result_value(struct cv_run *run, const char *key, struct cv_value *value)
{
    pthread_mutex_lock(&run->out_mu);
    cv_value_set(run->results, key, value);
    pthread_mutex_unlock(&run->out_mu);
}

bool cv_result_has(struct cv_run *run, const char *key)
{
    pthread_mutex_lock(&run->out_mu);
    bool has = cv_value_get(run->results, key) != NULL;
    pthread_mutex_unlock(&run->out_mu);
    return has;
}

void cv_result_num(struct cv_run *run, const char *key, double value)
{
    cv_result_value(run, key, cv_value_num(value));
}

void cv_result_str(struct cv_run *run, const char *key, const char *value)
{
    cv_result_value(run, key, cv_value_str(value));
}

void cv_run_error(struct cv_run *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    pthread_mutex_lock(&run->out_mu);
    cv_value_push(run->errors, cv_value_str(msg ? msg : "error"));
    pthread_mutex_unlock(&run->out_mu);
    free(msg);
}

void cv__run_error_first(struct cv_run *run, const char *msg)
{
    pthread_mutex_lock(&run->out_mu);
    cv_value_push(run->errors, cv_value_str(msg));
    struct cv_value **items = run->errors->items;
    struct cv_value *last = items[run->errors->n - 1];
    memmove(items + 1, items, (run->errors->n - 1) * sizeof *items);
    items[0] = last;
    pthread_mutex_unlock(&run->out_mu);
}

/* A small JSON-like value tree: the run summary is built once as one of these, then printed as
 * JSON or text and queried by expectations. */
#ifndef CONCVIZ_VALUE_H
#define CONCVIZ_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cv_value_type { CV_VAL_NULL, CV_VAL_BOOL, CV_VAL_NUM, CV_VAL_STR, CV_VAL_ARR, CV_VAL_OBJ };

struct cv_value {
    enum cv_value_type type;
    bool b;
    double num;
    char *str;
    size_t n, cap;
    char **keys; /* objects only */
    struct cv_value **items;
};

struct cv_value *cv_value_null(void);
struct cv_value *cv_value_bool(bool b);
struct cv_value *cv_value_num(double x);
struct cv_value *cv_value_str(const char *s);
struct cv_value *cv_value_arr(void);
struct cv_value *cv_value_obj(void);
void cv_value_free(struct cv_value *v);
/* A deep copy. */
struct cv_value *cv_value_copy(const struct cv_value *v);

/* Appending takes ownership of `item`. Setting an existing key replaces its value. */
struct cv_value *cv_value_push(struct cv_value *arr, struct cv_value *item);
struct cv_value *cv_value_set(struct cv_value *obj, const char *key, struct cv_value *item);
struct cv_value *cv_value_set_num(struct cv_value *obj, const char *key, double x);
struct cv_value *cv_value_set_str(struct cv_value *obj, const char *key, const char *s);
struct cv_value *cv_value_set_bool(struct cv_value *obj, const char *key, bool b);

/* Object member or NULL. */
struct cv_value *cv_value_get(const struct cv_value *obj, const char *key);
/* Member of an object, or the element of an array of objects whose "name" is `key`. */
struct cv_value *cv_value_child(const struct cv_value *v, const char *key);

/* JSON with two-space indent when `pretty`, else one line. */
void cv_value_write_json(const struct cv_value *v, FILE *out, bool pretty);
/* A compact binary form (for recordings): appends to *buf (grown with realloc). */
void cv_value_encode(const struct cv_value *v, unsigned char **buf, size_t *len, size_t *cap);
/* Decodes what cv_value_encode wrote; NULL when the bytes are not a whole, valid value. */
struct cv_value *cv_value_decode(const unsigned char *buf, size_t len);

/* Short text of a scalar (numbers as integers when whole), into buf. */
const char *cv_value_text(const struct cv_value *v, char *buf, size_t n);

#endif

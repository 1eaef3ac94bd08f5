/* The value tree behind summaries: build, query, print as JSON. */
#include "concviz/value.h"
#include "concviz/concviz.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct cv_value *make(enum cv_value_type t)
{
    struct cv_value *v = cv_xcalloc(1, sizeof *v);
    v->type = t;
    return v;
}

struct cv_value *cv_value_null(void)
{
    return make(CV_VAL_NULL);
}

struct cv_value *cv_value_bool(bool b)
{
    struct cv_value *v = make(CV_VAL_BOOL);
    v->b = b;
    return v;
}

struct cv_value *cv_value_num(double x)
{
    struct cv_value *v = make(CV_VAL_NUM);
    v->num = x;
    return v;
}

struct cv_value *cv_value_str(const char *s)
{
    struct cv_value *v = make(CV_VAL_STR);
    v->str = cv_strdup(s ? s : "");
    return v;
}

struct cv_value *cv_value_arr(void)
{
    return make(CV_VAL_ARR);
}

struct cv_value *cv_value_obj(void)
{
    return make(CV_VAL_OBJ);
}

void cv_value_free(struct cv_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        cv_value_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static void grow(struct cv_value *v)
{
    if (v->n < v->cap)
        return;
    v->cap = v->cap ? v->cap * 2 : 8;
    v->items = cv_xrealloc(v->items, v->cap * sizeof *v->items);
    if (v->type == CV_VAL_OBJ)
        v->keys = cv_xrealloc(v->keys, v->cap * sizeof *v->keys);
}

struct cv_value *cv_value_push(struct cv_value *arr, struct cv_value *item)
{
    grow(arr);
    arr->items[arr->n++] = item;
    return item;
}

struct cv_value *cv_value_set(struct cv_value *obj, const char *key, struct cv_value *item)
{
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            cv_value_free(obj->items[i]);
            obj->items[i] = item;
            return item;
        }
    }
    grow(obj);
    obj->keys[obj->n] = cv_strdup(key);
    obj->items[obj->n++] = item;
    return item;
}

struct cv_value *cv_value_set_num(struct cv_value *obj, const char *key, double x)
{
    return cv_value_set(obj, key, cv_value_num(x));
}

struct cv_value *cv_value_set_str(struct cv_value *obj, const char *key, const char *s)
{
    return cv_value_set(obj, key, cv_value_str(s));
}

struct cv_value *cv_value_set_bool(struct cv_value *obj, const char *key, bool b)
{
    return cv_value_set(obj, key, cv_value_bool(b));
}

struct cv_value *cv_value_copy(const struct cv_value *v)
{
    switch (v->type) {
    case CV_VAL_NULL:
        return cv_value_null();
    case CV_VAL_BOOL:
        return cv_value_bool(v->b);
    case CV_VAL_NUM:
        return cv_value_num(v->num);
    case CV_VAL_STR:
        return cv_value_str(v->str);
    case CV_VAL_ARR: {
        struct cv_value *a = cv_value_arr();
        for (size_t i = 0; i < v->n; i++)
            cv_value_push(a, cv_value_copy(v->items[i]));
        return a;
    }
    case CV_VAL_OBJ: {
        struct cv_value *o = cv_value_obj();
        for (size_t i = 0; i < v->n; i++)
            cv_value_set(o, v->keys[i], cv_value_copy(v->items[i]));
        return o;
    }
    }
    return cv_value_null();
}

struct cv_value *cv_value_get(const struct cv_value *obj, const char *key)
{
    if (!obj || obj->type != CV_VAL_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

struct cv_value *cv_value_child(const struct cv_value *v, const char *key)
{
    if (!v)
        return NULL;
    if (v->type == CV_VAL_OBJ)
        return cv_value_get(v, key);
    if (v->type == CV_VAL_ARR) {
        for (size_t i = 0; i < v->n; i++) {
            struct cv_value *name = cv_value_get(v->items[i], "name");
            if (name && name->type == CV_VAL_STR && strcmp(name->str, key) == 0)
                return v->items[i];
        }
    }
    return NULL;
}

static void write_num(double x, FILE *out)
{
    if (!isfinite(x))
        fputs("null", out);
    else if (x == floor(x) && fabs(x) <= 9007199254740992.0) /* 2^53: every integer exact */
        fprintf(out, "%.0f", x);
    else if (x == floor(x))
        fprintf(out, "%.17g", x);
    else
        fprintf(out, "%.9g", x);
}

static void write_str(const char *s, FILE *out)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static bool all_scalars(const struct cv_value *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i]->type == CV_VAL_ARR || v->items[i]->type == CV_VAL_OBJ)
            return false;
    return true;
}

static void indent(FILE *out, int depth)
{
    fputc('\n', out);
    for (int i = 0; i < depth; i++)
        fputs("  ", out);
}

static void write_json(const struct cv_value *v, FILE *out, bool pretty, int depth)
{
    switch (v->type) {
    case CV_VAL_NULL:
        fputs("null", out);
        break;
    case CV_VAL_BOOL:
        fputs(v->b ? "true" : "false", out);
        break;
    case CV_VAL_NUM:
        write_num(v->num, out);
        break;
    case CV_VAL_STR:
        write_str(v->str, out);
        break;
    case CV_VAL_ARR: {
        /* Arrays of scalars stay on one line: completion orders are long. */
        bool flat = !pretty || all_scalars(v);
        fputc('[', out);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                fputs(flat && pretty ? ", " : ",", out);
            if (!flat)
                indent(out, depth + 1);
            write_json(v->items[i], out, pretty, depth + 1);
        }
        if (!flat && v->n)
            indent(out, depth);
        fputc(']', out);
        break;
    }
    case CV_VAL_OBJ:
        fputc('{', out);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                fputc(',', out);
            if (pretty)
                indent(out, depth + 1);
            write_str(v->keys[i], out);
            fputs(pretty ? ": " : ":", out);
            write_json(v->items[i], out, pretty, depth + 1);
        }
        if (pretty && v->n)
            indent(out, depth);
        fputc('}', out);
        break;
    }
}

void cv_value_write_json(const struct cv_value *v, FILE *out, bool pretty)
{
    write_json(v, out, pretty, 0);
    fputc('\n', out);
}

const char *cv_value_text(const struct cv_value *v, char *buf, size_t n)
{
    if (!v) {
        snprintf(buf, n, "(missing)");
        return buf;
    }
    switch (v->type) {
    case CV_VAL_NULL:
        snprintf(buf, n, "null");
        break;
    case CV_VAL_BOOL:
        snprintf(buf, n, "%s", v->b ? "true" : "false");
        break;
    case CV_VAL_NUM:
        if (v->num == floor(v->num) && fabs(v->num) <= 9007199254740992.0) /* exact to 2^53 */
            snprintf(buf, n, "%.0f", v->num);
        else
            snprintf(buf, n, "%.4g", v->num);
        break;
    case CV_VAL_STR:
        snprintf(buf, n, "%s", v->str);
        break;
    case CV_VAL_ARR:
        snprintf(buf, n, "[%zu items]", v->n);
        break;
    case CV_VAL_OBJ:
        snprintf(buf, n, "{%zu keys}", v->n);
        break;
    }
    return buf;
}

/* ---- binary form: a type byte, then bool: 1 byte; num: 8 bytes; str: u32 length + bytes;
 * arr: u32 count + items; obj: u32 count + (u32 length + key bytes, item) each */

static void put_bytes(unsigned char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        while (*len + n > *cap)
            *cap = *cap ? 2 * *cap : 256;
        *buf = cv_xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

static void put_u32(unsigned char **buf, size_t *len, size_t *cap, size_t x)
{
    uint32_t v = (uint32_t)x;
    put_bytes(buf, len, cap, &v, 4);
}

void cv_value_encode(const struct cv_value *v, unsigned char **buf, size_t *len, size_t *cap)
{
    unsigned char t = (unsigned char)v->type;
    put_bytes(buf, len, cap, &t, 1);
    switch (v->type) {
    case CV_VAL_NULL:
        break;
    case CV_VAL_BOOL: {
        unsigned char b = v->b;
        put_bytes(buf, len, cap, &b, 1);
        break;
    }
    case CV_VAL_NUM:
        put_bytes(buf, len, cap, &v->num, 8);
        break;
    case CV_VAL_STR:
        put_u32(buf, len, cap, strlen(v->str));
        put_bytes(buf, len, cap, v->str, strlen(v->str));
        break;
    case CV_VAL_ARR:
    case CV_VAL_OBJ:
        put_u32(buf, len, cap, v->n);
        for (size_t i = 0; i < v->n; i++) {
            if (v->type == CV_VAL_OBJ) {
                put_u32(buf, len, cap, strlen(v->keys[i]));
                put_bytes(buf, len, cap, v->keys[i], strlen(v->keys[i]));
            }
            cv_value_encode(v->items[i], buf, len, cap);
        }
        break;
    }
}

struct reader {
    const unsigned char *p, *end;
    int depth;
};

static bool get_u32(struct reader *r, uint32_t *x)
{
    if (r->end - r->p < 4)
        return false;
    memcpy(x, r->p, 4);
    r->p += 4;
    return true;
}

static char *get_str(struct reader *r)
{
    uint32_t n;
    if (!get_u32(r, &n) || (size_t)(r->end - r->p) < n || memchr(r->p, 0, n))
        return NULL;
    char *s = cv_xmalloc((size_t)n + 1);
    memcpy(s, r->p, n);
    s[n] = 0;
    r->p += n;
    return s;
}

static struct cv_value *decode(struct reader *r)
{
    if (r->p >= r->end || r->depth > 64)
        return NULL;
    unsigned char t = *r->p++;
    struct cv_value *v = NULL;
    switch (t) {
    case CV_VAL_NULL:
        return cv_value_null();
    case CV_VAL_BOOL:
        if (r->p >= r->end)
            return NULL;
        return cv_value_bool(*r->p++ != 0);
    case CV_VAL_NUM: {
        double x;
        if (r->end - r->p < 8)
            return NULL;
        memcpy(&x, r->p, 8);
        r->p += 8;
        return cv_value_num(x);
    }
    case CV_VAL_STR: {
        char *s = get_str(r);
        if (!s)
            return NULL;
        v = cv_value_str(s);
        free(s);
        return v;
    }
    case CV_VAL_ARR:
    case CV_VAL_OBJ: {
        uint32_t n;
        /* every member takes at least one byte: a count beyond what is left is corrupt */
        if (!get_u32(r, &n) || n > (size_t)(r->end - r->p))
            return NULL;
        v = t == CV_VAL_ARR ? cv_value_arr() : cv_value_obj();
        r->depth++;
        uint32_t got = 0;
        for (; got < n; got++) {
            char *key = NULL;
            if (t == CV_VAL_OBJ && !(key = get_str(r)))
                break;
            struct cv_value *item = decode(r);
            if (!item) {
                free(key);
                break;
            }
            if (key)
                cv_value_set(v, key, item);
            else
                cv_value_push(v, item);
            free(key);
        }
        r->depth--;
        if (got != n) {
            cv_value_free(v);
            return NULL;
        }
        return v;
    }
    default:
        return NULL;
    }
}

struct cv_value *cv_value_decode(const unsigned char *buf, size_t len)
{
    struct reader r = {buf, buf + len, 0};
    struct cv_value *v = decode(&r);
    if (v && r.p != r.end) {
        cv_value_free(v);
        return NULL;
    }
    return v;
}

/*
 * Expectation expressions, evaluated against a run summary:
 *   expect := or ['when' or]
 *   or     := and (('or' | '||') and)*          and := not (('and' | '&&') not)*
 *   not    := ('not' | '!') not | cmp           cmp := sum [('=='|'!='|'<'|'<='|'>'|'>=') sum]
 *   sum    := prod (('+'|'-') prod)*            prod := unary (('*'|'/') unary)*
 *   unary  := '-' unary | primary
 *   primary:= number | "string" | true | false | path | '(' or ')'
 *             | len '(' path ')' | max '(' path ')' | min '(' path ')' | sum '(' path ')'
 *   path   := ident ('.' ident | '.' digits | '[' digits ']' | '[' "name" ']' | '.*' | '[*]')*
 * A path segment that names an array of objects picks the element whose "name" matches; "*"
 * takes every element, for len/max/min/sum (max(lanes[*].idle_s)).
 */
#include "concviz/concviz.h"
#include "concviz/scenario.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum node_type { N_NUM, N_STR, N_BOOL, N_PATH, N_LEN, N_AGG, N_NEG, N_NOT, N_BIN, N_WHEN };
enum agg { AGG_MAX, AGG_MIN, AGG_SUM };
#define SEG_ALL SIZE_MAX /* a "*" segment: every element */
enum op { OP_OR, OP_AND, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL, OP_DIV };

struct seg {
    char *name; /* NULL for an index */
    size_t index;
};

struct cv_expr {
    enum node_type type;
    enum op op;
    enum agg agg;
    bool wild; /* a path with a "*" segment */
    double num;
    bool b;
    char *str; /* string literal, or the path as written */
    struct seg *segs;
    size_t nsegs;
    struct cv_expr *a, *b2;
};

struct parser {
    const char *s;
    const char *p;
    char *err;
};

static struct cv_expr *node(enum node_type t)
{
    struct cv_expr *e = cv_xcalloc(1, sizeof *e);
    e->type = t;
    return e;
}

void cv_expr_free(struct cv_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nsegs; i++)
        free(e->segs[i].name);
    free(e->segs);
    free(e->str);
    cv_expr_free(e->a);
    cv_expr_free(e->b2);
    free(e);
}

static void fail(struct parser *ps, const char *what)
{
    if (ps->err)
        return;
    if (*ps->p)
        ps->err =
            cv_strdup_printf("%s at column %d ('%.12s')", what, (int)(ps->p - ps->s) + 1, ps->p);
    else
        ps->err = cv_strdup_printf("%s at end of expression", what);
}

static void skip(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* Matches a punctuation token or a keyword (whole word). */
static bool accept(struct parser *ps, const char *tok)
{
    skip(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0)
        return false;
    if (isalpha((unsigned char)tok[0]) && (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_'))
        return false;
    /* "<" must not eat the start of "<=", nor "=" of "==" etc. */
    if (n == 1 && strchr("<>!", tok[0]) && ps->p[1] == '=')
        return false;
    ps->p += n;
    return true;
}

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static char *ident(struct parser *ps)
{
    const char *b = ps->p;
    while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
        ps->p++;
    size_t n = (size_t)(ps->p - b);
    char *s = cv_xmalloc(n + 1);
    memcpy(s, b, n);
    s[n] = 0;
    return s;
}

static char *string_lit(struct parser *ps)
{
    char q = *ps->p++;
    const char *b = ps->p;
    while (*ps->p && *ps->p != q)
        ps->p++;
    if (*ps->p != q) {
        fail(ps, "unterminated string");
        return NULL;
    }
    size_t n = (size_t)(ps->p - b);
    ps->p++;
    char *s = cv_xmalloc(n + 1);
    memcpy(s, b, n);
    s[n] = 0;
    return s;
}

static void add_seg(struct cv_expr *e, char *name, size_t index)
{
    e->segs = cv_xrealloc(e->segs, (e->nsegs + 1) * sizeof *e->segs);
    e->segs[e->nsegs++] = (struct seg){name, index};
}

static struct cv_expr *path(struct parser *ps)
{
    const char *b = ps->p;
    struct cv_expr *e = node(N_PATH);
    add_seg(e, ident(ps), 0);
    for (;;) {
        if (*ps->p == '.' && is_ident_start(ps->p[1])) {
            ps->p++;
            add_seg(e, ident(ps), 0);
        } else if (*ps->p == '.' && ps->p[1] == '*') {
            ps->p += 2;
            add_seg(e, NULL, SEG_ALL);
            e->wild = true;
        } else if (*ps->p == '.' && isdigit((unsigned char)ps->p[1])) {
            ps->p++;
            add_seg(e, NULL, strtoul(ps->p, (char **)&ps->p, 10));
        } else if (*ps->p == '[') {
            ps->p++;
            skip(ps);
            if (*ps->p == '"' || *ps->p == '\'') {
                char *s = string_lit(ps);
                if (!s)
                    break;
                add_seg(e, s, 0);
            } else if (isdigit((unsigned char)*ps->p)) {
                add_seg(e, NULL, strtoul(ps->p, (char **)&ps->p, 10));
            } else if (*ps->p == '*') {
                ps->p++;
                add_seg(e, NULL, SEG_ALL);
                e->wild = true;
            } else {
                fail(ps, "expected an index, a \"name\" or *");
                break;
            }
            skip(ps);
            if (*ps->p != ']') {
                fail(ps, "expected ']'");
                break;
            }
            ps->p++;
        } else {
            break;
        }
    }
    size_t n = (size_t)(ps->p - b);
    e->str = cv_xmalloc(n + 1);
    memcpy(e->str, b, n);
    e->str[n] = 0;
    return e;
}

static struct cv_expr *p_or(struct parser *ps);

static struct cv_expr *primary(struct parser *ps)
{
    skip(ps);
    char c = *ps->p;
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)ps->p[1]))) {
        /* Copy the number without the underscores that group digits (4_000_000). */
        char buf[64];
        size_t n = 0;
        const char *q = ps->p;
        while (n < sizeof buf - 1) {
            if (isdigit((unsigned char)*q) || *q == '.') {
                buf[n++] = *q++;
            } else if (*q == '_' && n > 0 && isdigit((unsigned char)buf[n - 1]) &&
                       isdigit((unsigned char)q[1])) {
                q++;
            } else if ((*q == 'e' || *q == 'E') &&
                       (isdigit((unsigned char)q[1]) ||
                        ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
                buf[n++] = *q++;
                if (*q == '+' || *q == '-')
                    buf[n++] = *q++;
            } else {
                break;
            }
        }
        buf[n] = 0;
        struct cv_expr *e = node(N_NUM);
        char *end;
        e->num = strtod(buf, &end);
        if (*end)
            fail(ps, "malformed number");
        ps->p = q;
        return e;
    }
    if (c == '"' || c == '\'') {
        struct cv_expr *e = node(N_STR);
        e->str = string_lit(ps);
        return e;
    }
    if (accept(ps, "(")) {
        struct cv_expr *e = p_or(ps);
        if (!accept(ps, ")"))
            fail(ps, "expected ')'");
        return e;
    }
    if (accept(ps, "true") || accept(ps, "false")) {
        struct cv_expr *e = node(N_BOOL);
        e->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
        return e;
    }
    static const struct {
        const char *name;
        enum node_type type;
        enum agg agg;
    } funcs[] = {{"len", N_LEN, AGG_SUM},
                 {"max", N_AGG, AGG_MAX},
                 {"min", N_AGG, AGG_MIN},
                 {"sum", N_AGG, AGG_SUM}};
    for (size_t f = 0; f < sizeof funcs / sizeof funcs[0]; f++) {
        if (!accept(ps, funcs[f].name))
            continue;
        struct cv_expr *e = node(funcs[f].type);
        e->agg = funcs[f].agg;
        char msg[64];
        if (!accept(ps, "(")) {
            snprintf(msg, sizeof msg, "expected '(' after %s", funcs[f].name);
            fail(ps, msg);
            return e;
        }
        skip(ps);
        if (!is_ident_start(*ps->p)) {
            snprintf(msg, sizeof msg, "%s() takes a path", funcs[f].name);
            fail(ps, msg);
            return e;
        }
        e->a = path(ps);
        if (!accept(ps, ")"))
            fail(ps, "expected ')'");
        return e;
    }
    if (is_ident_start(c))
        return path(ps);
    fail(ps, "expected a value");
    return node(N_NUM);
}

static struct cv_expr *bin(enum op op, struct cv_expr *a, struct cv_expr *b)
{
    struct cv_expr *e = node(N_BIN);
    e->op = op;
    e->a = a;
    e->b2 = b;
    return e;
}

static struct cv_expr *unary(struct parser *ps)
{
    if (accept(ps, "-")) {
        struct cv_expr *e = node(N_NEG);
        e->a = unary(ps);
        return e;
    }
    return primary(ps);
}

static struct cv_expr *prod(struct parser *ps)
{
    struct cv_expr *e = unary(ps);
    for (;;) {
        if (accept(ps, "*"))
            e = bin(OP_MUL, e, unary(ps));
        else if (accept(ps, "/"))
            e = bin(OP_DIV, e, unary(ps));
        else
            return e;
    }
}

static struct cv_expr *sum(struct parser *ps)
{
    struct cv_expr *e = prod(ps);
    for (;;) {
        if (accept(ps, "+"))
            e = bin(OP_ADD, e, prod(ps));
        else if (accept(ps, "-"))
            e = bin(OP_SUB, e, prod(ps));
        else
            return e;
    }
}

static struct cv_expr *cmp(struct parser *ps)
{
    struct cv_expr *e = sum(ps);
    static const struct {
        const char *tok;
        enum op op;
    } ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE},
               {">=", OP_GE}, {"<", OP_LT},  {">", OP_GT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (accept(ps, ops[i].tok))
            return bin(ops[i].op, e, sum(ps));
    return e;
}

static struct cv_expr *p_not(struct parser *ps)
{
    if (accept(ps, "not") || accept(ps, "!")) {
        struct cv_expr *e = node(N_NOT);
        e->a = p_not(ps);
        return e;
    }
    return cmp(ps);
}

static struct cv_expr *p_and(struct parser *ps)
{
    struct cv_expr *e = p_not(ps);
    while (accept(ps, "and") || accept(ps, "&&"))
        e = bin(OP_AND, e, p_not(ps));
    return e;
}

static struct cv_expr *p_or(struct parser *ps)
{
    struct cv_expr *e = p_and(ps);
    while (accept(ps, "or") || accept(ps, "||"))
        e = bin(OP_OR, e, p_and(ps));
    return e;
}

int cv_expr_parse(const char *text, struct cv_expr **out, char **cause)
{
    struct parser ps = {text, text, NULL};
    *out = NULL;
    struct cv_expr *e = p_or(&ps);
    if (accept(&ps, "when")) {
        struct cv_expr *w = node(N_WHEN);
        w->a = e;
        w->b2 = p_or(&ps);
        e = w;
    }
    skip(&ps);
    if (!ps.err && *ps.p)
        fail(&ps, "unexpected text");
    if (ps.err) {
        cv_expr_free(e);
        if (cause)
            *cause = ps.err;
        else
            free(ps.err);
        return CV_ERR_USAGE;
    }
    *out = e;
    return CV_OK;
}

/* Evaluation */

enum vt { V_NUM, V_STR, V_BOOL, V_ERR };

struct val {
    enum vt t;
    double num;
    const char *str;
};

struct ectx {
    const struct cv_value *root;
    char *actual;
    size_t alen;
    char *err;
};

static void note(struct ectx *x, const char *path, const char *value)
{
    char item[256];
    snprintf(item, sizeof item, "%s=%s", path, value);
    if (x->actual) {
        /* Skip exact repeats; items are joined with ", ". */
        size_t n = strlen(item);
        for (const char *p = x->actual; (p = strstr(p, item)) != NULL; p++) {
            bool starts = p == x->actual || (p >= x->actual + 2 && p[-2] == ',' && p[-1] == ' ');
            bool ends = p[n] == 0 || (p[n] == ',' && p[n + 1] == ' ');
            if (starts && ends)
                return;
        }
    }
    size_t n = strlen(item);
    x->actual = cv_xrealloc(x->actual, x->alen + n + 3);
    if (x->alen) {
        memcpy(x->actual + x->alen, ", ", 2);
        x->alen += 2;
    }
    memcpy(x->actual + x->alen, item, n + 1);
    x->alen += n;
}

static struct val err(struct ectx *x, char *msg)
{
    if (!x->err)
        x->err = msg;
    else
        free(msg);
    return (struct val){V_ERR, 0, NULL};
}

static const struct cv_value *resolve(const struct cv_expr *e, const struct cv_value *root)
{
    const struct cv_value *v = root;
    for (size_t i = 0; i < e->nsegs && v; i++) {
        const struct seg *s = &e->segs[i];
        if (s->name)
            v = cv_value_child(v, s->name);
        else
            v = v->type == CV_VAL_ARR && s->index < v->n ? v->items[s->index] : NULL;
    }
    return v;
}

/* Every value a path with "*" segments reaches, from segment `i` on. */
static void resolve_all(const struct cv_expr *e, size_t i, const struct cv_value *v,
                        const struct cv_value ***out, size_t *n)
{
    for (; v && i < e->nsegs; i++) {
        const struct seg *s = &e->segs[i];
        if (!s->name && s->index == SEG_ALL) {
            if (v->type == CV_VAL_ARR || v->type == CV_VAL_OBJ)
                for (size_t k = 0; k < v->n; k++)
                    resolve_all(e, i + 1, v->items[k], out, n);
            return;
        }
        if (s->name)
            v = cv_value_child(v, s->name);
        else
            v = v->type == CV_VAL_ARR && s->index < v->n ? v->items[s->index] : NULL;
    }
    if (!v)
        return;
    *out = cv_xrealloc((void *)*out, (*n + 1) * sizeof **out);
    (*out)[(*n)++] = v;
}

static struct val eval(const struct cv_expr *e, struct ectx *x);

static bool truthy(struct val v)
{
    switch (v.t) {
    case V_NUM:
        return v.num != 0;
    case V_STR:
        return v.str[0] != 0;
    case V_BOOL:
        return v.num != 0;
    case V_ERR:
        return false;
    }
    return false;
}

static struct val eval_bin(const struct cv_expr *e, struct ectx *x)
{
    struct val a = eval(e->a, x);
    if (a.t == V_ERR)
        return a;
    if (e->op == OP_OR || e->op == OP_AND) {
        bool ta = truthy(a);
        if (e->op == OP_OR && ta)
            return (struct val){V_BOOL, 1, NULL};
        if (e->op == OP_AND && !ta)
            return (struct val){V_BOOL, 0, NULL};
        struct val b = eval(e->b2, x);
        if (b.t == V_ERR)
            return b;
        return (struct val){V_BOOL, truthy(b), NULL};
    }
    struct val b = eval(e->b2, x);
    if (b.t == V_ERR)
        return b;
    if (e->op >= OP_EQ && e->op <= OP_GE) {
        int c;
        if (a.t == V_STR && b.t == V_STR) {
            c = strcmp(a.str, b.str);
        } else if (a.t == V_STR || b.t == V_STR) {
            if (e->op == OP_EQ || e->op == OP_NE)
                return (struct val){V_BOOL, e->op == OP_NE, NULL};
            return err(x, cv_strdup("cannot order a string against a number"));
        } else {
            c = a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
        }
        bool r = e->op == OP_EQ   ? c == 0
                 : e->op == OP_NE ? c != 0
                 : e->op == OP_LT ? c < 0
                 : e->op == OP_LE ? c <= 0
                 : e->op == OP_GT ? c > 0
                                  : c >= 0;
        return (struct val){V_BOOL, r, NULL};
    }
    if (a.t == V_STR || b.t == V_STR)
        return err(x, cv_strdup("arithmetic on a string"));
    if (e->op == OP_DIV && b.num == 0)
        return err(x, cv_strdup("division by zero"));
    double r = e->op == OP_ADD   ? a.num + b.num
               : e->op == OP_SUB ? a.num - b.num
               : e->op == OP_MUL ? a.num * b.num
                                 : a.num / b.num;
    return (struct val){V_NUM, r, NULL};
}

static struct val eval(const struct cv_expr *e, struct ectx *x)
{
    switch (e->type) {
    case N_NUM:
        return (struct val){V_NUM, e->num, NULL};
    case N_STR:
        return (struct val){V_STR, 0, e->str};
    case N_BOOL:
        return (struct val){V_BOOL, e->b, NULL};
    case N_AGG: {
        const struct cv_value **all = NULL;
        size_t n = 0;
        resolve_all(e->a, 0, x->root, &all, &n);
        double r = e->agg == AGG_MAX ? -INFINITY : e->agg == AGG_MIN ? INFINITY : 0;
        for (size_t i = 0; i < n; i++) {
            if (all[i]->type != CV_VAL_NUM) {
                free((void *)all);
                return err(x,
                           cv_strdup_printf("%s reaches a value that is not a number", e->a->str));
            }
            double v = all[i]->num;
            r = e->agg == AGG_MAX ? (v > r ? v : r) : e->agg == AGG_MIN ? (v < r ? v : r) : r + v;
        }
        free((void *)all);
        if (n == 0 && e->agg != AGG_SUM)
            return err(x, cv_strdup_printf("no values at %s", e->a->str));
        static const char *const names[] = {"max", "min", "sum"};
        char label[160], buf[64];
        snprintf(label, sizeof label, "%s(%s)", names[e->agg], e->a->str);
        struct cv_value tmp = {.type = CV_VAL_NUM, .num = r};
        note(x, label, cv_value_text(&tmp, buf, sizeof buf));
        return (struct val){V_NUM, r, NULL};
    }
    case N_PATH: {
        if (e->wild)
            return err(x, cv_strdup_printf("%s has a *: use len(), max(), min() or sum()", e->str));
        const struct cv_value *v = resolve(e, x->root);
        if (!v)
            return err(x, cv_strdup_printf("no such field: %s", e->str));
        char buf[128];
        note(x, e->str, cv_value_text(v, buf, sizeof buf));
        switch (v->type) {
        case CV_VAL_NUM:
            return (struct val){V_NUM, v->num, NULL};
        case CV_VAL_BOOL:
            return (struct val){V_BOOL, v->b, NULL};
        case CV_VAL_STR:
            return (struct val){V_STR, 0, v->str};
        case CV_VAL_NULL:
            return err(x, cv_strdup_printf("%s is null", e->str));
        default:
            return err(x, cv_strdup_printf("%s is not a single value (use len())", e->str));
        }
    }
    case N_LEN: {
        double n;
        if (e->a->wild) {
            const struct cv_value **all = NULL;
            size_t count = 0;
            resolve_all(e->a, 0, x->root, &all, &count);
            free((void *)all);
            n = (double)count;
        } else {
            const struct cv_value *v = resolve(e->a, x->root);
            if (!v)
                return err(x, cv_strdup_printf("no such field: %s", e->a->str));
            n = v->type == CV_VAL_STR ? (double)strlen(v->str) : (double)v->n;
        }
        char buf[64];
        snprintf(buf, sizeof buf, "%.0f", n);
        char label[160];
        snprintf(label, sizeof label, "len(%s)", e->a->str);
        note(x, label, buf);
        return (struct val){V_NUM, n, NULL};
    }
    case N_NEG: {
        struct val a = eval(e->a, x);
        if (a.t == V_NUM || a.t == V_BOOL)
            return (struct val){V_NUM, -a.num, NULL};
        return a.t == V_ERR ? a : err(x, cv_strdup("cannot negate a string"));
    }
    case N_NOT: {
        struct val a = eval(e->a, x);
        return a.t == V_ERR ? a : (struct val){V_BOOL, !truthy(a), NULL};
    }
    case N_BIN:
        return eval_bin(e, x);
    case N_WHEN:
        break;
    }
    return err(x, cv_strdup("misplaced 'when'"));
}

int cv_expr_eval(const struct cv_expr *e, const struct cv_value *root, char **actual)
{
    struct ectx x = {root, NULL, 0, NULL};
    int rc;
    if (e->type == N_WHEN) {
        struct ectx wx = {root, NULL, 0, NULL};
        struct val w = eval(e->b2, &wx);
        free(wx.actual);
        if (w.t == V_ERR) {
            if (actual)
                *actual = cv_strdup_printf("error: %s", wx.err);
            free(wx.err);
            return -2;
        }
        if (!truthy(w)) {
            if (actual)
                *actual = NULL;
            return -1;
        }
        e = e->a;
    }
    struct val v = eval(e, &x);
    if (v.t == V_ERR) {
        rc = -2;
        free(x.actual);
        x.actual = cv_strdup_printf("error: %s", x.err);
    } else {
        rc = truthy(v) ? 1 : 0;
    }
    free(x.err);
    if (actual)
        *actual = x.actual ? x.actual : cv_strdup("");
    else
        free(x.actual);
    return rc;
}

const char *cv_expr_unknown_path(const struct cv_expr *e,
                                 bool (*known)(void *ctx, const char *root, const char *field),
                                 void *ctx)
{
    if (!e)
        return NULL;
    if (e->type == N_PATH && e->nsegs > 0 && e->segs[0].name) {
        const char *field = e->nsegs > 1 ? e->segs[1].name : NULL;
        return known(ctx, e->segs[0].name, field) ? NULL : e->str;
    }
    const char *bad = cv_expr_unknown_path(e->a, known, ctx);
    return bad ? bad : cv_expr_unknown_path(e->b2, known, ctx);
}

/* Numbers as users write them in scenario files, `--set` and lists: plain decimals only. strtod
 * alone also takes hex ("0x10"), exponents ("1e-9", which silently made a timeout "never"),
 * "inf" and "nan"; strtok skipped empty list items. Everything here refuses those. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cv_number_is_plain(const char *s, bool whole)
{
    return cv_number_is_decimal(s, whole ? 0 : CV_NUMBER_DECIMALS);
}

bool cv_number_is_decimal(const char *s, int max_decimals)
{
    if (*s == '-')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.' && max_decimals > 0) {
        s++;
        int decimals = 0;
        while (*s >= '0' && *s <= '9') {
            s++;
            decimals++;
        }
        if (decimals == 0 || decimals > max_decimals)
            return false;
    }
    return *s == 0;
}

/* Copies the next item of a list separated by commas and/or blanks into buf. Returns 1 for an
 * item, 0 at the end, -1 for an empty item (",,", a leading or a trailing comma) and -2 for an
 * item longer than buf. */
static int next_item(const char **pos, bool *comma, char *buf, size_t n)
{
    const char *p = *pos;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == 0) {
        *pos = p;
        return *comma ? -1 : 0;
    }
    if (*p == ',')
        return -1;
    size_t len = strcspn(p, ", \t");
    if (len >= n)
        return -2;
    memcpy(buf, p, len);
    buf[len] = 0;
    p += len;
    while (*p == ' ' || *p == '\t')
        p++;
    *comma = *p == ',';
    if (*comma)
        p++;
    *pos = p;
    return 1;
}

static char *list_error(const char *key, int rc, uint32_t item, const char *text)
{
    if (rc == -1)
        return cv_strdup_printf("%s: item %u of '%s' is empty", key, item, text);
    return cv_strdup_printf("%s: item %u of '%s' is too long for a number", key, item, text);
}

int cv__parse_numbers(const char *key, const char *text, const struct cv__number_range *r,
                      uint64_t *out_u, double *out_d, uint32_t max, char **cause)
{
    const char *pos = text;
    bool comma = false;
    char item[64], *msg = NULL;
    uint32_t n = 0;
    int rc;
    while (!msg && (rc = next_item(&pos, &comma, item, sizeof item)) != 0) {
        if (rc < 0) {
            msg = list_error(key, rc, n + 1, text);
            break;
        }
        bool in = cv_number_is_plain(item, r->whole);
        uint64_t u = 0;
        double d = 0;
        if (in && r->whole) {
            errno = 0;
            u = strtoull(item, NULL, 10);
            in = item[0] != '-' && errno == 0 && u >= r->lo_u && u <= r->hi_u;
        } else if (in) {
            d = strtod(item, NULL);
            in = d >= r->lo && d <= r->hi;
        }
        if (!in && r->whole)
            msg = cv_strdup_printf("%s: '%s' is not a whole number from %llu to %llu", key, item,
                                   (unsigned long long)r->lo_u, (unsigned long long)r->hi_u);
        else if (!in)
            msg =
                cv_strdup_printf("%s: '%s' is not a plain number (at most %d decimals) from %.15g "
                                 "to %.15g",
                                 key, item, CV_NUMBER_DECIMALS, r->lo, r->hi);
        else if (n == max)
            msg = cv_strdup_printf("%s: at most %u values", key, max);
        else {
            if (out_u)
                out_u[n] = u;
            if (out_d)
                out_d[n] = d;
            n++;
        }
    }
    if (!msg && n == 0)
        msg = cv_strdup_printf("%s: give at least one value", key);
    if (msg) {
        if (cause)
            *cause = msg;
        else
            free(msg);
        return -1;
    }
    return (int)n;
}

int cv__parse_list(const char *key, const char *text, uint64_t lo, uint64_t hi, uint64_t *out,
                   uint32_t max, char **cause)
{
    struct cv__number_range r = {.whole = true, .lo_u = lo, .hi_u = hi};
    return cv__parse_numbers(key, text, &r, out, NULL, max, cause);
}

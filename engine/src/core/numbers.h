/* core/numbers.h: numbers as users write them (scenario files, --set, lists), checked plainly.
 * Used by the scenario parser and by workloads' list parameters. */
#ifndef CONCVIZ_CORE_NUMBERS_H
#define CONCVIZ_CORE_NUMBERS_H

#include <stdbool.h>
#include <stdint.h>

/* Lists of numbers (numbers.c): items separated by commas and/or blanks, each a plain number
 * (cv_number_is_plain) in the range; an empty item is an error. Whole numbers go to out_u, others
 * to out_d (either may be NULL to only check), at most max of them. Returns how many, or -1 with
 * *cause "KEY: ..." (caller frees). */
struct cv__number_range {
    bool whole;
    uint64_t lo_u, hi_u; /* whole numbers */
    double lo, hi;       /* the others */
};
int cv__parse_numbers(const char *key, const char *text, const struct cv__number_range *r,
                      uint64_t *out_u, double *out_d, uint32_t max, char **cause);
/* The same for whole numbers in [lo, hi]. */
int cv__parse_list(const char *key, const char *text, uint64_t lo, uint64_t hi, uint64_t *out,
                   uint32_t max, char **cause);

#endif

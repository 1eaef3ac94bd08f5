/* The value tree's binary form (what a recording's footer holds): round trips, and every
 * truncation or corruption of it refused without a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concviz/value.h"

static struct cv_value *sample(void)
{
    struct cv_value *root = cv_value_obj();
    cv_value_set_str(root, "scenario", "pipeline");
    cv_value_set_num(root, "wall_s", 2.0312);
    cv_value_set_bool(root, "gil", true);
    cv_value_set(root, "none", cv_value_null());
    struct cv_value *order = cv_value_set(root, "completion_order", cv_value_arr());
    for (int i = 0; i < 50; i++)
        cv_value_push(order, cv_value_num(i * 3 % 50));
    struct cv_value *res = cv_value_set(root, "results", cv_value_obj());
    cv_value_set_str(res, "text", "a \"quoted\" line\nand another");
    cv_value_set(res, "empty", cv_value_arr());
    return root;
}

static char *json(const struct cv_value *v)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    cv_value_write_json(v, f, false);
    fclose(f);
    return buf;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct cv_value *v = sample();
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    cv_value_encode(v, &buf, &len, &cap);
    struct cv_value *back = cv_value_decode(buf, len);
    assert_non_null(back);
    char *a = json(v), *b = json(back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cv_value_free(back);
    cv_value_free(v);
    free(buf);
}

static void test_damage_refused(void **state)
{
    (void)state;
    struct cv_value *v = sample();
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    cv_value_encode(v, &buf, &len, &cap);
    /* every proper prefix is incomplete */
    for (size_t cut = 0; cut < len; cut++)
        assert_null(cv_value_decode(buf, cut));
    /* trailing bytes are refused */
    unsigned char *more = malloc(len + 1);
    memcpy(more, buf, len);
    more[len] = 0;
    assert_null(cv_value_decode(more, len + 1));
    free(more);
    /* every single-bit change is refused, or decodes to a value that re-encodes to exactly the
     * changed bytes (the form has one spelling per value, so the damage shows in the value),
     * but for the bool's byte, where any non-zero byte reads as true: its 7 upper bits give back
     * the value before the change */
    size_t refused = 0, changed = 0, same = 0;
    unsigned char *again = NULL;
    size_t again_len = 0, again_cap = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (unsigned char)(1u << bit);
            struct cv_value *d = cv_value_decode(buf, len);
            if (!d) {
                refused++;
            } else {
                again_len = 0;
                cv_value_encode(d, &again, &again_len, &again_cap);
                assert_int_equal(again_len, len);
                if (memcmp(again, buf, len) == 0) {
                    changed++;
                } else {
                    buf[i] ^= (unsigned char)(1u << bit);
                    assert_memory_equal(again, buf, len); /* the value before the change */
                    buf[i] ^= (unsigned char)(1u << bit);
                    same++;
                }
                cv_value_free(d);
            }
            buf[i] ^= (unsigned char)(1u << bit);
        }
    }
    print_message("%zu single-bit changes: %zu refused, %zu decoded as changed, %zu as before\n",
                  len * 8, refused, changed, same);
    assert_int_equal(same, 7);
    assert_true(refused > 0);
    assert_true(changed > 0);
    free(again);
    /* a huge count with nothing behind it */
    unsigned char arr[5] = {4 /* CV_VAL_ARR */, 0xff, 0xff, 0xff, 0x7f};
    assert_null(cv_value_decode(arr, sizeof arr));
    /* nesting deeper than any summary */
    unsigned char deep[400];
    for (size_t i = 0; i < 80; i++) {
        deep[5 * i] = 4;
        deep[5 * i + 1] = 1;
        deep[5 * i + 2] = deep[5 * i + 3] = deep[5 * i + 4] = 0;
    }
    assert_null(cv_value_decode(deep, sizeof deep));
    cv_value_free(v);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

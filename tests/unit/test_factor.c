/* The second opinion the trial-division scenarios check themselves against (factor.c):
 * Miller-Rabin and Pollard's rho, compared with plain trial division over every small number and
 * with known large ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../engine/src/internal.h"

/* the slow, obvious answers */
static void by_division(uint64_t n, uint64_t *divisors, uint64_t *smallest)
{
    *divisors = 0;
    *smallest = n;
    for (uint64_t d = 1; d * d <= n; d++)
        if (n % d == 0) {
            *divisors += d * d == n ? 1 : 2;
            if (d > 1 && d < *smallest)
                *smallest = d;
        }
}

static void test_small_numbers(void **state)
{
    (void)state;
    for (uint64_t n = 2; n < 60000; n++) {
        uint64_t d1, s1, d2, s2;
        by_division(n, &d1, &s1);
        cv__factor_facts(n, &d2, &s2);
        if (d1 != d2 || s1 != s2)
            fail_msg("n=%llu: division says %llu divisors, smallest %llu; rho says %llu, %llu",
                     (unsigned long long)n, (unsigned long long)d1, (unsigned long long)s1,
                     (unsigned long long)d2, (unsigned long long)s2);
        if (cv__is_prime_fast(n) != (d1 == 2))
            fail_msg("n=%llu: Miller-Rabin says %s", (unsigned long long)n,
                     d1 == 2 ? "composite" : "prime");
    }
    assert_false(cv__is_prime_fast(0));
    assert_false(cv__is_prime_fast(1));
}

static void test_large_numbers(void **state)
{
    (void)state;
    uint64_t d, s;
    /* 600851475143 = 71 x 839 x 1471 x 6857 */
    cv__factor_facts(600851475143ull, &d, &s);
    assert_int_equal(d, 16);
    assert_int_equal(s, 71);
    /* the article's six: four primes, two composites */
    assert_true(cv__is_prime_fast(112272535095293ull));
    assert_true(cv__is_prime_fast(112582705942171ull));
    assert_true(cv__is_prime_fast(115280095190773ull));
    assert_true(cv__is_prime_fast(115797848077099ull));
    assert_false(cv__is_prime_fast(1099726899285419ull));
    cv__factor_facts(1099726899285419ull, &d, &s);
    assert_int_equal(s, 3306091); /* found by trial division in an earlier run */
    /* a square of a prime, a strong pseudoprime to base 2, a Carmichael number, 2^53 */
    cv__factor_facts(999999999989ull * 9999991ull, &d, &s);
    assert_int_equal(d, 4);
    assert_int_equal(s, 9999991);
    cv__factor_facts(94906249ull * 94906249ull, &d, &s); /* 9007196099250001 */
    assert_int_equal(d, 3);
    assert_int_equal(s, 94906249);
    assert_false(cv__is_prime_fast(3215031751ull));
    assert_false(cv__is_prime_fast(561));
    cv__factor_facts(1ull << 53, &d, &s);
    assert_int_equal(d, 54);
    assert_int_equal(s, 2);
    assert_true(cv__is_prime_fast(9007199254740881ull));     /* the largest prime below 2^53 */
    assert_true(cv__is_prime_fast(18446744073709551557ull)); /* below 2^64 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_numbers),
        cmocka_unit_test(test_large_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

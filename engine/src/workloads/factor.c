/* A second, independent way to the answers of the trial-division workloads (primes, factorize):
 * Miller-Rabin with the bases that are exact below 2^64, and Pollard's rho (Brent's variant)
 * for the factors. It takes microseconds where trial division takes seconds, so a run can check
 * its own results for any numbers the user gives, not only the article's. */
#include "wl.h"

static uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t pow_mod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1)
            r = mul_mod(r, b, m);
        b = mul_mod(b, b, m);
        e >>= 1;
    }
    return r;
}

bool cv__is_prime_fast(uint64_t n)
{
    static const uint64_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2)
        return false;
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (n % small[i] == 0)
            return n == small[i];
    uint64_t d = n - 1;
    int s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    /* these twelve bases decide every n below 2^64 (Sorenson and Webster, 2015) */
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        uint64_t x = pow_mod(small[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        bool composite = true;
        for (int r = 1; r < s && composite; r++) {
            x = mul_mod(x, x, n);
            composite = x != n - 1;
        }
        if (composite)
            return false;
    }
    return true;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* A non-trivial factor of the odd composite n. */
static uint64_t rho(uint64_t n)
{
    for (uint64_t c = 1;; c++) {
        uint64_t y = 2, x = 2, q = 1, g = 1, ys = 2;
        const uint64_t m = 128;
        for (uint64_t r = 1; g == 1; r <<= 1) {
            x = y;
            for (uint64_t i = 0; i < r; i++)
                y = (mul_mod(y, y, n) + c) % n;
            for (uint64_t k = 0; k < r && g == 1; k += m) {
                ys = y;
                for (uint64_t i = 0; i < m && i < r - k; i++) {
                    y = (mul_mod(y, y, n) + c) % n;
                    q = mul_mod(q, x > y ? x - y : y - x, n);
                }
                g = gcd(q, n);
            }
        }
        if (g == n) { /* the batch overshot: step one at a time from its start */
            do {
                ys = (mul_mod(ys, ys, n) + c) % n;
                g = gcd(x > ys ? x - ys : ys - x, n);
            } while (g == 1);
        }
        if (g != n)
            return g;
    }
}

/* Appends the prime factors of n (with repeats) to p[*np]. */
static void factor_into(uint64_t n, uint64_t *p, int *np)
{
    if (n == 1)
        return;
    if (cv__is_prime_fast(n)) {
        p[(*np)++] = n;
        return;
    }
    uint64_t f = rho(n);
    factor_into(f, p, np);
    factor_into(n / f, p, np);
}

void cv__factor_facts(uint64_t n, uint64_t *divisors, uint64_t *smallest)
{
    uint64_t p[64];
    int np = 0;
    while (n > 1 && n % 2 == 0) {
        p[np++] = 2;
        n /= 2;
    }
    factor_into(n, p, &np);
    /* sort the few factors, then count each prime's exponent */
    for (int i = 1; i < np; i++)
        for (int j = i; j > 0 && p[j - 1] > p[j]; j--) {
            uint64_t t = p[j];
            p[j] = p[j - 1];
            p[j - 1] = t;
        }
    uint64_t count = 1;
    for (int i = 0; i < np;) {
        int j = i;
        while (j < np && p[j] == p[i])
            j++;
        count *= (uint64_t)(j - i + 1);
        i = j;
    }
    *divisors = count;
    *smallest = np ? p[0] : 1;
}

"""Primes on a ProcessPoolExecutor: a GIL per process, in parallel.

CPU-bound work on a ProcessPoolExecutor: each worker process has its own interpreter and its
own GIL, so the primes are counted in parallel. concviz follows the forked workers: each process
is a group of lanes with its own GIL.
    concviz trace -- python3 scenarios/python/process_primes.py
"""
import concurrent.futures
import math

NUMBERS = [1_000_003, 1_000_033, 1_000_037, 1_000_039, 999_983, 999_979, 999_961, 999_959]


def is_prime(n):
    if n < 2:
        return False
    for d in range(2, math.isqrt(n) + 1):
        if n % d == 0:
            return False
    return True


def count(n):
    # a little more work than one test: every number up to n/20 after n
    return sum(is_prime(k) for k in range(n, n + n // 20))


if __name__ == "__main__":
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(count, NUMBERS))
    print(f"{len(counts)} ranges, {sum(counts)} primes")

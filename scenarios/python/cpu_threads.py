"""One CPU-bound thread against two: the GIL makes them take turns.

One CPU-bound thread against two: under the GIL two threads take as long as one does the
same work twice, as they take turns (the switch interval, 5 ms, is the turn).
    concviz trace -- python3 scenarios/python/cpu_threads.py [THREADS]
"""
import sys
import threading
import time

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
WORK = 10_000_000 // THREADS


def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


start = time.perf_counter()
threads = [threading.Thread(target=spin, args=(WORK,), name=f"spin-{i + 1}") for i in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{THREADS} thread(s): {time.perf_counter() - start:.3f} s")

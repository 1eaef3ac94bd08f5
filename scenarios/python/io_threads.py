"""Twenty HTTP requests on twenty threads: the waits overlap (--serve).

Twenty I/O requests on twenty threads: while one thread waits for the network the GIL is free,
so the waits overlap and the whole takes about as long as one request.
    concviz trace --serve -- python3 scenarios/python/io_threads.py
--serve starts concviz's loopback HTTP server and passes its address in CONCVIZ_HTTP; each
request asks it for a reply delayed by 200 ms.
"""
import concurrent.futures
import os
import sys
import time
import urllib.request

BASE = os.environ.get("CONCVIZ_HTTP")
if not BASE:
    sys.exit("io_threads.py: CONCVIZ_HTTP is not set (run it with: concviz trace --serve -- ...)")
REQUESTS = 20


def fetch(i):
    with urllib.request.urlopen(f"{BASE}/delay/200", timeout=30) as reply:
        return reply.status


start = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(max_workers=REQUESTS) as pool:
    statuses = list(pool.map(fetch, range(REQUESTS)))
took = time.perf_counter() - start
print(f"{statuses.count(200)} of {REQUESTS} requests answered 200 in {took:.2f} s")

"""zlib in threads: compression releases the GIL, so two threads take half the time.

Forty-eight 256 KiB buffers compressed with zlib at level 9, one after another or on a pool of
threads. zlib releases the GIL while it works, so the threads really run at once (the emulated
scenario is compress, whose C work drops the emulated GIL the same way).
    python3 scenarios/python/zlib_threads.py --threads 2
    concviz trace -- python3 scenarios/python/zlib_threads.py --threads 2
"""
import argparse
import concurrent.futures
import random
import time
import zlib


def buffers(n, size):
    words = [bytes(random.Random(i).choices(b"abcdefghijklmnopqrstuvwxyz", k=1 + i % 9))
             for i in range(512)]
    rng = random.Random(42)
    out = []
    for _ in range(n):
        b = bytearray()
        while len(b) < size:
            b += rng.choice(words) + b" "
        out.append(bytes(b[:size]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0, help="0: one after another")
    p.add_argument("--buffers", type=int, default=48)
    p.add_argument("--size-kb", type=int, default=256)
    p.add_argument("--level", type=int, default=9)
    args = p.parse_args()
    data = buffers(args.buffers, args.size_kb * 1024)
    start = time.perf_counter()
    if args.threads:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.threads) as pool:
            out = list(pool.map(lambda b: zlib.compress(b, args.level), data))
    else:
        out = [zlib.compress(b, args.level) for b in data]
    took = time.perf_counter() - start
    ratio = sum(map(len, out)) / sum(map(len, data))
    print(f"{len(out)} buffers in {took:.3f} s, ratio {ratio:.3f}")


if __name__ == "__main__":
    main()

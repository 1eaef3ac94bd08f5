"""asyncio.gather: ten coroutines sleep at once, on one thread.

asyncio.gather: ten coroutines each sleep, on one thread. The tasks are not lanes of their own
(they share the thread that runs the loop): the trace shows one thread waiting in epoll_wait, once,
for all of them together.
    concviz trace -- python3 scenarios/python/asyncio_gather.py
"""
import asyncio
import time


async def job(i):
    await asyncio.sleep(0.2)
    return i


async def main():
    start = time.perf_counter()
    results = await asyncio.gather(*(job(i) for i in range(10)))
    print(f"{len(results)} tasks in {time.perf_counter() - start:.2f} s")


asyncio.run(main())

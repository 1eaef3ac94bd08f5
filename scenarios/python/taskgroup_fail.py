"""Tasks that fail: asyncio.TaskGroup, gather(return_exceptions=True) and gather().

Six tasks wait a second each; the tasks named in --failing raise ConnectionError after --fail-ms
(one value for all, or one per failing task). Prints one line of JSON: how many tasks completed,
failed and were cancelled, the errors the caller saw, and for gather() the tasks still running
when the first error reached the caller. The emulated scenario is taskgroup-fail.
    python3 scenarios/python/taskgroup_fail.py --mode taskgroup --failing 2,4 --fail-ms 300
    concviz trace -- python3 scenarios/python/taskgroup_fail.py
"""
import argparse
import asyncio
import json
import time


async def job(i, fail_s, task_s):
    if fail_s is not None:
        await asyncio.sleep(fail_s)
        raise ConnectionError(f"task {i}")
    await asyncio.sleep(task_s)
    return i


def tally(tasks):
    done = [t for t in tasks if t.done() and not t.cancelled()]
    return {
        "completed": sum(t.exception() is None for t in done),
        "failed": sum(t.exception() is not None for t in done),
        "cancelled": sum(t.cancelled() for t in tasks),
    }


async def main(args):
    failing = [int(x) for x in args.failing.split(",")]
    when = [float(x) / 1000 for x in args.fail_ms.split(",")]
    fail_at = {t: when[0 if len(when) == 1 else k] for k, t in enumerate(failing)}
    make = [lambda i=i: job(i, fail_at.get(i), args.task_ms / 1000) for i in range(args.tasks)]
    out = {"mode": args.mode}
    start = time.monotonic()
    if args.mode == "taskgroup":
        tasks = []
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(m()) for m in make]
        except* ConnectionError as eg:
            out["raised"] = sorted(str(e) for e in eg.exceptions)
    else:
        tasks = [asyncio.create_task(m()) for m in make]
        try:
            got = await asyncio.gather(*tasks, return_exceptions=args.mode == "gather")
            out["raised"] = sorted(str(e) for e in got if isinstance(e, BaseException))
        except ConnectionError as e:
            out["raised"] = [str(e)]
            out["running_at_first_error"] = sum(not t.done() for t in tasks)
            await asyncio.wait([t for t in tasks if not t.done()])  # the others run on
    out["first_error_s"] = round(time.monotonic() - start, 3)
    out.update(tally(tasks))
    for t in tasks:  # retrieve what nobody did, so that asyncio does not complain at exit
        if t.done() and not t.cancelled():
            t.exception()
    print(json.dumps(out))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["taskgroup", "gather", "gather_raise"], default="taskgroup")
    p.add_argument("--tasks", type=int, default=6)
    p.add_argument("--task-ms", type=float, default=1000)
    p.add_argument("--failing", default="2,4")
    p.add_argument("--fail-ms", default="300")
    asyncio.run(main(p.parse_args()))

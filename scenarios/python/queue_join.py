"""queue.Queue timeouts, task_done and join; a daemon thread left working at exit.

Two producers put into a Queue(maxsize=3) with put(timeout=0.025) and put an item again when the
put raises queue.Full; a slow consumer calls task_done() after each item and ends when a
get(timeout=0.15) raises queue.Empty; the main thread joins the producers, then work_queue.join()
returns once every item is marked done. A daemon thread with 1.5 s of work is joined with
join(timeout=0.3), which gives up, and is abandoned when the main thread ends. The concviz
scenarios queue-join and daemon-join model the same.
    concviz trace -- python3 scenarios/python/queue_join.py
"""
import queue
import threading
import time

ITEMS = 15
work_queue = queue.Queue(maxsize=3)
full = []
empty = []


def producer(first):
    for item in range(first, first + ITEMS):
        while True:
            try:
                work_queue.put(item, timeout=0.025)
                break
            except queue.Full:
                full.append(item)  # nothing lost: the same item again


def consumer():
    while True:
        try:
            work_queue.get(timeout=0.15)
        except queue.Empty:
            empty.append(1)
            return
        time.sleep(0.02)  # work on the item
        work_queue.task_done()


def background():
    time.sleep(1.5)
    print("never printed: the daemon's work was abandoned")


start = time.monotonic()
daemon = threading.Thread(target=background, daemon=True)
daemon.start()
threading.Thread(target=consumer).start()
producers = [threading.Thread(target=producer, args=(k * ITEMS,)) for k in range(2)]
for p in producers:
    p.start()
for p in producers:
    p.join()
work_queue.join()  # every item put has been marked done
print(f"joined after {time.monotonic() - start:.2f} s: {2 * ITEMS} items done, "
      f"{len(full)} puts raised Full")
daemon.join(timeout=0.3)
print(f"daemon.join(timeout=0.3) gave up: alive={daemon.is_alive()}; the main thread ends now")

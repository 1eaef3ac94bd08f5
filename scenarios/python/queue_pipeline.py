"""A bounded queue.Queue: a producer and two consumers take turns.

A bounded queue.Queue between a producer and two consumers: the producer blocks when the queue
is full, the consumers when it is empty (both are condition variables over one lock inside the
Queue, shown as waits), and a None per consumer ends them.
    concviz trace -- python3 scenarios/python/queue_pipeline.py
"""
import queue
import threading
import time

ITEMS = 200
q = queue.Queue(maxsize=5)
done = []


def producer():
    for i in range(ITEMS):
        q.put(i)
    for _ in range(2):
        q.put(None)


def consumer():
    while True:
        item = q.get()
        if item is None:
            return
        time.sleep(0.001)  # work on the item, the GIL released
        done.append(item)


threads = [threading.Thread(target=producer, name="producer")]
threads += [threading.Thread(target=consumer, name=f"consumer-{i + 1}") for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{len(done)} of {ITEMS} items consumed")

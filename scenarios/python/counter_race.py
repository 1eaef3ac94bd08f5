"""The articles' race: four threads add one to a shared counter.

The articles' race: four threads each add one to a shared counter a million times.

Run it under concviz to see the GIL handed between the threads:
    concviz trace -- python3 scenarios/python/counter_race.py
With --call the read-modify-write holds a call (`counter = bump(counter)`): the interpreter may
switch inside it, and updates are lost again, as in most real code.
With --lock each increment takes a threading.Lock (a sem_t in CPython 3.11): the lock panel
counts its acquisitions exactly (threads x iterations). Since CPython 3.10 a bare
`counter += 1` loses no update (the interpreter only switches at calls and backward jumps);
3.9 lost about half.
"""
import sys
import threading

THREADS = 4
ITERATIONS = int(sys.argv[sys.argv.index("--iterations") + 1]) if "--iterations" in sys.argv else 1_000_000
USE_LOCK = "--lock" in sys.argv
USE_CALL = "--call" in sys.argv

counter = 0
lock = threading.Lock()


def bump(value):
    return value + 1


def work():
    global counter
    for _ in range(ITERATIONS):
        if USE_LOCK:
            with lock:
                counter += 1
        elif USE_CALL:
            counter = bump(counter)
        else:
            counter += 1


threads = [threading.Thread(target=work) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"counter {counter} of {THREADS * ITERATIONS}")

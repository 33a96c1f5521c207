"""Keeping Python's cyclic garbage collector out of the way of large, short bursts of work."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of verdict tuples are being created.

    With a large heap, each full collection walks every object (the fleet index included) and
    costs 100+ ms; collections triggered by allocation during an assessment would multiply its
    run time. Reference counting still frees everything; cycles wait until the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def keep_out_of_collections() -> None:
    """Move every object alive now into the collector's permanent generation.

    For long-lived structures (the fleet index, the decision index) built in one go: later
    collections, triggered by allocations on hot paths, then never walk them. They have no
    reference cycles, so reference counting still frees whatever is replaced later.
    """
    gc.collect()
    gc.freeze()


def tune_for_service() -> None:
    """Young collections after 20,000 container allocations instead of 700; older generations
    only after 50 of those (the service's `Settler` collects and freezes them every 3 s).

    A check-in decodes and builds a few hundred small objects: with the default thresholds a
    young collection ran every second or third report, and a middle-generation collection,
    which walked every decision-index layer rebuilt since the last freeze, every few seconds
    for 180 ms each (measured with `bench checkin` at 1,000,000 devices and gc.callbacks:
    4.0 s of 30 s in middle-generation collections before, 0.4-0.8 s after).
    """
    gc.set_threshold(20_000, 50, 50)


def keep_new_structure() -> None:
    """Right after building one large long-lived structure (a decision-index base of millions
    of entries): freeze it before a collection walks it.

    Otherwise the next young collection, then the next middle one, each visit every entry of
    the new dict (160 ms each at 2.5 million identities, measured with gc.callbacks), on top of
    the copy itself. Freezing is O(1); the price is that reference cycles that died among the
    young objects since the last collection are never collected (a handful, once per fold).
    """
    gc.freeze()


class Settler:
    """Every `every` seconds at most: collect the young generations, then freeze the survivors
    (every 3 s: each settle then walks a few seconds' survivors, 12-20 ms, not 10 seconds' worth).

    A long-running server keeps accumulating long-lived objects (verdicts, decision entries,
    caches); a full collection walks all of them and stalls every thread for a second or more
    with a million devices (measured with `bench checkin`: 1.1 s pauses, about a fifth of the
    throughput). Freezing the survivors keeps full collections short. The price: a reference
    cycle frozen while alive is never collected; our long-lived structures have none.
    """

    def __init__(self, every: float = 3.0) -> None:
        self.every = every
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def maybe(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.every or not self._lock.acquire(blocking=False):
            return False
        try:
            self._last = now
            gc.collect(1)
            gc.freeze()
            return True
        finally:
            self._lock.release()


SETTLER = Settler()

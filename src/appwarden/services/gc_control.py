"""Keeping Python's cyclic garbage collector out of the way of large, short bursts of work."""

from __future__ import annotations

import gc
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

"""The cyclic garbage collector, paused while a batch builds and writes its rows.

A batch of thousands of phase changes holds tens of thousands of small dicts and
tuples until it commits. None of them is part of a reference cycle (reference
counting frees them all), yet their number sets off full collections of the
whole process heap, which can cost a quarter of a batch's time. While a batch
runs, the collector is paused; uses in several threads at once share one pause,
and a collector the process turned off itself stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """How many batches are running, and whether the collector was on when the first began."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.was_enabled = False


_PAUSE = _Pause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (and any other running at the same time)."""
    with _PAUSE.lock:
        if _PAUSE.running == 0:
            _PAUSE.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSE.running += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.running -= 1
            if _PAUSE.running == 0 and _PAUSE.was_enabled:
                gc.enable()

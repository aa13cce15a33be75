"""Training time: one pause-aware clock for the time budget and every throughput figure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class TrainingClock:
    """Seconds spent training: time paused, in the epoch-end monitors or saving a checkpoint is left out.

    ``already`` starts the clock at the training time a resumed run had spent before it stopped.
    """

    def __init__(self, already: float = 0.0) -> None:
        self._origin = time.perf_counter() - already

    def seconds(self) -> float:
        return time.perf_counter() - self._origin

    @contextmanager
    def excluded(self) -> Iterator[None]:
        """Time spent inside the block is not training time."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self._origin += time.perf_counter() - start


class Throughput:
    """Steps counted on a :class:`TrainingClock` since the last :meth:`take`."""

    def __init__(self, clock: TrainingClock) -> None:
        self.clock = clock
        self.steps = 0
        self._since = clock.seconds()

    def add(self) -> None:
        self.steps += 1

    def per_second(self) -> float:
        return self.steps / max(self.clock.seconds() - self._since, 1e-9)

    def take(self) -> float:
        """Steps per training second since the last take; starts a new count."""
        rate = self.per_second()
        self.steps, self._since = 0, self.clock.seconds()
        return rate

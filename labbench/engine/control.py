"""Thread-safe pause / resume / stop for a running trainer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Control:
    """Commands from another thread (the GUI, a signal handler) to the training loop.

    The loop calls :meth:`wait_if_paused` between steps, so every command takes effect at a
    step boundary: within one step.
    """

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._saving = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused loop must wake up to stop

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait_if_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; return True when the loop should go on, False when it should stop."""
        self._running.wait(timeout)
        return not self._stop.is_set()

    @property
    def is_saving(self) -> bool:
        """True while a checkpoint is being written: a second Ctrl+C then waits for it, not aborts it."""
        return self._saving.is_set()

    @contextmanager
    def saving(self) -> Iterator[None]:
        self._saving.set()
        try:
            yield
        finally:
            self._saving.clear()

"""Waiting in the screenshot scripts: Qt handles its events until a condition holds, or for a while."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def wait_until(app: QApplication, condition: Callable[[], object], timeout: float) -> bool:
    """Handle events until ``condition()`` holds (True) or ``timeout`` seconds have passed (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def settle(app: QApplication, seconds: float) -> None:
    """Handle events for ``seconds``, so that deferred layouts and paints land before a shot."""
    wait_until(app, lambda: False, seconds)

"""``main()``: the QApplication, the theme the person chose last, and the lab bench window.

Entry points: ``python -m ui``, the ``labbench-gui`` script and ``labbench gui`` all call this.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from ui.garbage import collect_in_gui_thread
from ui.settings import APPLICATION, ORGANISATION, open_settings
from ui.theme import apply_theme


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (made once), high-DPI clean, named so QSettings land under "labbench"."""
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 %) as they are: no rounding, so no blurry or clipped text.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "labbench", *(argv or [])])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("labbench")
    apply_theme(app, open_settings().value("view/theme", "dark", str))
    collect_in_gui_thread(app)
    return app


def wait_until(condition: Callable[[], object], timeout: float, poll_ms: int = 10) -> bool:
    """Run the event loop until ``condition()`` holds (True) or ``timeout`` seconds have passed (False).

    For scripts that drive the window (screenshots, benchmarks): a real event loop, so timers fire on
    time and nothing waits on a sleep.
    """
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(poll_ms)
    poll.timeout.connect(lambda: bool(condition()) and loop.quit())
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    if not condition():
        poll.start()
        deadline.start(round(1000 * timeout))
        loop.exec()
        poll.stop()
    return bool(condition())


def settle(seconds: float) -> None:
    """Run the event loop for ``seconds``, so that deferred layouts and paints land (before a screenshot)."""
    wait_until(lambda: False, seconds)


def main(argv: list[str] | None = None) -> int:
    """Open the window on the built-in shapes with SimCLR selected; return the exit code."""
    app = create_application(sys.argv[1:] if argv is None else argv)
    from ui.main_window import MainWindow  # after the QApplication: widgets need it

    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())

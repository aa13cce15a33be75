"""``main()``: the QApplication, the theme the person chose last, and the lab bench window.

Entry points: ``python -m ui``, the ``labbench-gui`` script and ``labbench gui`` all call this.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

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
    return app


def main(argv: list[str] | None = None) -> int:
    """Open the window on the built-in shapes with SimCLR selected; return the exit code."""
    app = create_application(sys.argv[1:] if argv is None else argv)
    from ui.main_window import MainWindow  # after the QApplication: widgets need it

    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())

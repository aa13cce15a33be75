"""Regenerate the window screenshots in this folder: dark and light theme, before and during a run.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshots.py
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshots.py --inspect

Settings and runs go to a temporary folder, so the person's own layout is never touched. The run is
the SimCLR preset on the built-in shapes; the "during" shots are taken once it has finished
``--epochs`` epochs (k-NN and collapse curves need at least one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolTip

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from qt_wait import settle, wait_until  # noqa: E402
from ui.app import create_application  # noqa: E402


def main() -> None:
    if "--inspect" in sys.argv[1:]:  # the Inspect views, one by one: see inspect_screenshots.py
        from inspect_screenshots import main as inspect_main

        inspect_main([a for a in sys.argv[1:] if a != "--inspect"])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs to wait for before the 'during' shots")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="labbench-shots-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    app = create_application([])
    from ui.main_window import MainWindow, default_config

    window = MainWindow(config=default_config(), runs_root=scratch / "runs")
    window.resize(1600, 1000)
    window.show()
    wait_until(app, lambda: window.browser.model.rowCount() > 0 and window.preview.panels, 60)
    settle(app, 1.5)  # thumbnails and preview drawn

    def shoot(name: str) -> None:
        for theme in ("dark", "light"):
            window.set_theme(theme)
            QCursor.setPos(0, 0)  # no hover highlight or tooltip where the pointer happens to rest
            QToolTip.hideText()
            settle(app, 0.4)
            path = args.out / f"{name}-{theme}.png"
            window.grab().save(str(path))
            print("wrote", path)

    shoot("before-run")
    epochs = []
    window.session.epoch.connect(epochs.append)
    window.start_training()
    wait_until(app, lambda: len(epochs) >= args.epochs, 600)
    settle(app, 0.5)
    shoot("during-run")
    window.set_theme("dark")
    window.close()


if __name__ == "__main__":
    main()

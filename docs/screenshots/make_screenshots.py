"""Regenerate the window screenshots in this folder, as the window opens on each screen size.

    .venv/bin/python docs/screenshots/make_screenshots.py            # 1366×768 and 1920×1080, into this folder
    .venv/bin/python docs/screenshots/make_screenshots.py --check    # also 2560×1440 and 1920×1080 at 150 %
    .venv/bin/python docs/screenshots/make_screenshots.py --inspect  # the Inspect views (inspect_screenshots.py)

Each size runs in its own virtual X screen (``xvfb-run``), so the window's first size and layout
come from that screen's available area exactly as on a person's laptop. Per size: the window as it
opens (``window-WxH-start.png``), while the default preset (SimCLR on the built-in shapes) trains
after its first epoch (``window-WxH-training.png``), and the Inspect panel on that run's Collapse
view (``window-WxH-inspect.png``); at 1920×1080 also the light theme. ``--check`` writes the extra
sizes to a scratch folder to look at, not into the repository. Settings and runs go to a temporary
folder, so the person's own layout is never touched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
#: (screen, Qt scale factor, into the repository)
SIZES = [("1366x768", 1.0, True), ("1920x1080", 1.0, True)]
CHECKS = [("2560x1440", 1.0, False), ("1920x1080", 1.5, False)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="also 2560x1440 and 1920x1080 at 150 % (scratch folder)")
    parser.add_argument("--inspect", action="store_true", help="the Inspect views instead (see inspect_screenshots.py)")
    parser.add_argument("--shoot", metavar="WxH", help=argparse.SUPPRESS)  # one size, inside its X screen
    parser.add_argument("--out", type=Path, default=HERE)
    args, rest = parser.parse_known_args()
    if args.inspect:
        sys.path.insert(0, str(HERE))
        from inspect_screenshots import main as inspect_main

        inspect_main(rest)
        return
    if args.shoot:
        shoot(args.shoot, args.out)
        return
    scratch = Path(tempfile.mkdtemp(prefix="labbench-size-checks-"))
    for size, scale, keep in SIZES + (CHECKS if args.check else []):
        out = args.out if keep else scratch / (f"{size}@{scale:g}x" if scale != 1 else size)
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "QT_SCALE_FACTOR": f"{scale:g}", "PYTHONPATH": str(ROOT)}
        subprocess.run(["xvfb-run", "-a", "-s", f"-screen 0 {size}x24", sys.executable, __file__, "--shoot", size,
                        "--out", str(out)], check=True, env=env)
    if args.check:
        print("size checks in", scratch)


def open_as_new_user():
    """The window as ``make run`` opens it for a new user — the default preset, settings and runs in a
    temporary folder (never the person's own) — once its dataset and preview are drawn."""
    from PySide6.QtCore import QSettings

    scratch = Path(tempfile.mkdtemp(prefix="labbench-shots-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    from ui.app import create_application, settle, wait_until

    create_application([])
    from ui.main_window import MainWindow, default_config

    window = MainWindow(config=default_config(), runs_root=scratch / "runs")
    window.show()
    wait_until(lambda: window.browser.model.rowCount() > 0 and window.preview.panels, 120)
    settle(1.5)  # thumbnails and preview drawn
    return window


def shoot(size: str, out: Path) -> None:
    """The window on this X screen: as it opens, while training, and on the Inspect panel."""
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QToolTip

    window = open_as_new_user()
    from ui.app import settle, wait_until

    screen = window.screen().availableGeometry()
    print(f"{size}: available {screen.width()}×{screen.height()} (logical px), window {window.width()}×"
          f"{window.height()}, fits: {screen.contains(window.frameGeometry())}", flush=True)

    def save(name: str, widget=window) -> None:
        QCursor.setPos(0, 0)  # no hover highlight or tooltip where the pointer happens to rest
        QToolTip.hideText()
        settle(0.5)
        path = out / f"window-{size}-{name}.png"
        widget.grab().save(str(path))
        print("wrote", path, flush=True)

    save("start")
    epochs = []
    window.session.epoch.connect(epochs.append)
    window.start_training()
    wait_until(lambda: len(epochs) >= 1, 900)
    settle(1.0)
    save("training")
    if size == "1920x1080":
        window.set_theme("light")
        save("light")
        window.set_theme("dark")
    collapse = window.inspect.show_view("Collapse")
    wait_until(lambda: collapse.history is not None and not collapse.tasks.is_busy(), 120)
    save("inspect", window.inspect)
    window.close()


if __name__ == "__main__":
    main()

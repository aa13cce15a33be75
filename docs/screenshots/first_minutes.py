"""What a new user sees first: the window as ``make run`` opens it, Start pressed on the default preset,
a screenshot after a few minutes of training, and the k-NN of every epoch against the run's own
reference lines (raw pixels, the untrained encoder) with the time since Start.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/first_minutes.py --seconds 120

Settings and runs go to a temporary folder (a new user's window: no settings of an earlier session).
Run from the repository root (``ui`` and ``labbench`` importable).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # make_screenshots, beside this file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="training time before the screenshot")
    parser.add_argument("--out", type=Path, default=HERE / "window-first-minutes.png")
    args = parser.parse_args()

    from make_screenshots import open_as_new_user
    from PySide6.QtGui import QCursor

    window = open_as_new_user()
    from ui.app import settle, wait_until

    reference, epochs = [], []
    window.session.reference.connect(reference.append)
    window.session.epoch.connect(lambda event: epochs.append((time.monotonic() - started, event)))
    started = time.monotonic()
    window.start_training()
    wait_until(lambda: time.monotonic() - started >= args.seconds, args.seconds + 60)
    QCursor.setPos(0, 0)
    settle(1.0)
    window.grab().save(str(args.out))
    print("wrote", args.out)
    if reference:
        print(f"raw pixels {100 * reference[0].raw_pixels_knn:.1f} %, untrained {100 * reference[0].untrained_knn:.1f} %")
    for seconds, event in epochs:
        print(f"{seconds:6.0f} s  epoch {event.epoch:3d}  step {event.step:5d}  k-NN {100 * event.knn_accuracy:.1f} %")
    window.close()


if __name__ == "__main__":
    main()

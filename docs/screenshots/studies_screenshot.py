"""The Studies panel with a finished study: ``studies-panel.png``.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/studies_screenshot.py
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/studies_screenshot.py \
        --folder studies/20261201-101500-augmentations      # a study run with ``labbench study run``

Without ``--folder`` the catalogue study ``--study`` is run first, tiny (``--epochs`` per run on
``--images`` built-in images, batch 64): a picture of the panel, not of the claim's answer.
Settings and the tiny study go to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from ui.app import create_application, settle, wait_until  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="a finished study folder to show (nothing is trained)")
    parser.add_argument("--study", default="augmentations", help="the catalogue study to run tiny")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--out", type=Path, default=HERE / "studies-panel.png")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="labbench-study-shot-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    app = create_application([])
    from labbench.studies import Budget, create_study_folder, load_study
    from ui.main_window import MainWindow

    folder = args.folder
    if folder is None:
        tiny = load_study(args.study).with_changes(
            budget=Budget(epochs=args.epochs),
            settings={"data.num_images": args.images, "train.batch_size": 64, "eval.probe_images": 0})
        folder = create_study_folder(tiny, scratch / "studies")
    window = MainWindow(runs_root=scratch / "runs", load_dataset=False)
    window.resize(1600, 1000)
    window.show()
    panel = window.studies
    panel.raise_()
    panel.open_folder(folder)
    if panel.start_button.isEnabled():
        print(f"running {folder.name} …", flush=True)
        panel.start()
        wait_until(lambda: not panel.session.is_active(), 3600)
    settle(1.0)
    panel.grab().save(str(args.out))
    print("wrote", args.out)
    window.close()


if __name__ == "__main__":
    main()

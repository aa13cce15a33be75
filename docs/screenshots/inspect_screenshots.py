"""Regenerate the Inspect screenshots (``inspect-*.png``): the Inspect window on each view, from real runs.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/make_screenshots.py --inspect \
        [--runs DIR] [--minutes 12]

Runs of DINO, MAE and SimCLR on the built-in shapes are taken from ``--runs`` (the newest completed
one of each method) or trained there first, each for at most ``--minutes`` on this machine's CPU or
GPU; DINO's attention needs the most. The lab bench window opens on that runs folder, and its
Inspect window is shot on every view, following the run each view is about, in the dark theme, at
the size it takes on this screen. Settings go to a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from labbench.engine import Trainer
from labbench.evaluate.attention import attention_jaccard
from labbench.run_config import apply_overrides, load_preset
from labbench.runs import list_runs
from ui.app import create_application, settle, wait_until
from ui.theme import apply_theme

HERE = Path(__file__).resolve().parent
#: preset -> overrides that make a short run show something (smaller set, more steps per image)
RUNS = {
    "dino_vit": ["data.num_images=2400", "train.batch_size=64", "train.epochs=8"],  # a ViT: attention maps
    "mae": ["data.num_images=2400", "train.batch_size=64", "train.epochs=6"],
    "simclr": ["data.num_images=3000", "train.epochs=6"],
}
#: view -> the run it is shown on
VIEW_RUNS = {"Attention maps": "dino_vit", "MAE reconstructions": "mae", "Embeddings": "simclr", "Collapse": "dino_vit",
             "Affinity matrix": "simclr", "Evaluation": "simclr"}
FILE_NAMES = {"Attention maps": "attention", "MAE reconstructions": "reconstruction", "Embeddings": "embeddings",
              "Collapse": "collapse", "Affinity matrix": "affinity", "Evaluation": "evaluation",
              "Pretext-task gallery": "pretext-gallery", "InfoNCE explorer": "infonce-explorer",
              "Contrastive simulator": "contrastive-simulator"}


def run_of(root: Path, preset: str, minutes: float) -> Path:
    """The newest completed run of ``preset``'s method and backbone under ``root``, trained first when there is none."""
    config = apply_overrides(load_preset(preset), [*RUNS[preset], f"train.time_budget_s={60 * minutes}"])
    for info in list_runs(root):
        if (info.method, info.backbone, info.status) == (config.method.name, config.backbone.name, "completed"):
            return info.path
    print(f"training {preset} for at most {minutes} min …", flush=True)
    return Path(Trainer(config, runs_root=root).fit().run_dir)


def shoot(widget: QWidget, name: str, out: Path) -> None:
    settle(0.6)
    path = out / f"inspect-{name}.png"
    widget.grab().save(str(path))
    print("wrote", path, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=None, help="runs folder to reuse (and train missing runs into)")
    parser.add_argument("--minutes", type=float, default=12.0, help="training budget per missing run")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="labbench-inspect-shots-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))
    app = create_application([])
    apply_theme(app, "dark")
    root = args.runs or scratch / "runs"
    runs = {preset: run_of(root, preset, args.minutes) for preset in RUNS}

    from ui.inspect.export_dialog import ExportDialog
    from ui.main_window import MainWindow, default_config

    window = MainWindow(config=default_config(), runs_root=root)
    window.show()
    wait_until(lambda: window.browser.model.rowCount() > 0, 120)
    inspect = window.inspect

    def view(title: str, ready, timeout: float = 900):
        widget = inspect.show_view(title)
        if title in VIEW_RUNS:
            inspect.follow(runs[VIEW_RUNS[title]])
        wait_until(lambda: ready(widget) and not widget.tasks.is_busy(), timeout)
        return widget

    attention = view("Attention maps", lambda w: w.arrays is not None)
    masks = attention.arrays.get("masks")
    if masks is not None:  # show the probe image whose mean map finds its object best
        scores = attention_jaccard(attention.maps(), torch.from_numpy(masks)).mean_map
        attention.images.setCurrentRow(int(scores.argmax()))
    shoot(inspect, FILE_NAMES["Attention maps"], args.out)

    view("MAE reconstructions", lambda w: w.pictures is not None)
    shoot(inspect, FILE_NAMES["MAE reconstructions"], args.out)

    embeddings = view("Embeddings", lambda w: w.projection is not None)
    embeddings.method_combo.setCurrentIndex(embeddings.method_combo.findData("tsne"))
    wait_until(lambda: embeddings.projection.method == "tsne" and not embeddings.tasks.is_busy(), 900)
    embeddings.retrieve(0)
    points = embeddings.projection.points
    x0, y0 = np.percentile(points, 40, axis=0)
    x1, y1 = np.percentile(points, 60, axis=0)
    embeddings.select_rect(x0, y0, x1 - x0, y1 - y0)
    shoot(inspect, FILE_NAMES["Embeddings"], args.out)

    view("Collapse", lambda w: w.probe is not None)
    shoot(inspect, FILE_NAMES["Collapse"], args.out)

    view("Affinity matrix", lambda w: w.matrix is not None)
    shoot(inspect, FILE_NAMES["Affinity matrix"], args.out)

    evaluation = view("Evaluation", lambda w: True)
    evaluation.max_train.setValue(1000)
    for method in ("mae", "simclr"):
        inspect.follow(runs[method])
        evaluation.evaluate(["knn", "linear"])
        wait_until(lambda: not evaluation.tasks.is_busy(), 1800)
    shoot(inspect, FILE_NAMES["Evaluation"], args.out)

    gallery = inspect.show_view("Pretext-task gallery")
    image = attention.arrays["images"][0]
    gallery.set_image(torch.from_numpy(image).permute(2, 0, 1).contiguous(), "probe image 1 of the DINO run")
    wait_until(lambda: bool(gallery.previews) and not gallery.tasks.is_busy(), 300)
    shoot(inspect, FILE_NAMES["Pretext-task gallery"], args.out)

    inspect.show_view("InfoNCE explorer")
    shoot(inspect, FILE_NAMES["InfoNCE explorer"], args.out)

    simulator = inspect.show_view("Contrastive simulator")
    for _ in range(75):
        simulator.tick()
    shoot(inspect, FILE_NAMES["Contrastive simulator"], args.out)

    dialog = ExportDialog(runs["simclr"], window)
    dialog.folder.setText(str(scratch / "export"))
    dialog.show()
    dialog.embeddings_box.setChecked(True)
    dialog.start_export()
    wait_until(lambda: dialog.export_result is not None or not dialog.tasks.is_busy(), 600)
    shoot(dialog, "export", args.out)

    dialog.close()
    window.close()
    window.deleteLater()
    settle(1.0)
    if args.runs is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

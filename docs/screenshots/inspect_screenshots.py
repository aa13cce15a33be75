"""Regenerate the Inspect screenshots (``inspect-*.png``) from real runs of the presets.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshots.py --inspect \
        [--runs DIR] [--minutes 12]

Runs of DINO, MAE and SimCLR on the built-in shapes are taken from ``--runs`` (the newest completed
one of each method) or trained there first, each for at most ``--minutes`` on this machine's CPU or
GPU; DINO's attention needs the most. Every inspector is shot on its own in the dark theme; settings
go to a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from labbench.engine import Trainer
from labbench.evaluate.attention import attention_jaccard
from labbench.run_config import apply_overrides, load_preset
from labbench.runs import list_runs
from qt_wait import settle, wait_until
from ui.app import create_application
from ui.theme import apply_theme

HERE = Path(__file__).resolve().parent
#: preset -> overrides that make a short run show something (smaller set, more steps per image)
RUNS = {
    "dino": ["data.num_images=2400", "train.batch_size=64", "train.epochs=8"],
    "mae": ["data.num_images=2400", "train.batch_size=64", "train.epochs=6"],
    "simclr": ["data.num_images=3000", "train.epochs=6"],
}


def run_of(root: Path, method: str, minutes: float) -> Path:
    """The newest completed ``method`` run under ``root``, trained first when there is none."""
    for info in list_runs(root):
        if info.method == method and info.status == "completed":
            return info.path
    config = apply_overrides(load_preset(method), [*RUNS[method], f"train.time_budget_s={60 * minutes}"])
    print(f"training {method} for at most {minutes} min …", flush=True)
    return Path(Trainer(config, runs_root=root).fit().run_dir)


def shoot(app: QApplication, widget: QWidget, name: str, out: Path) -> None:
    settle(app, 0.4)
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
    runs = {method: run_of(root, method, args.minutes) for method in RUNS}

    from ui.inspect.affinity import AffinityViewer
    from ui.inspect.attention import AttentionViewer
    from ui.inspect.collapse import CollapseDashboard
    from ui.inspect.contrastive_sim import ContrastiveSimulator
    from ui.inspect.embeddings import EmbeddingViewer
    from ui.inspect.evaluation import EvaluationView
    from ui.inspect.export_dialog import ExportDialog
    from ui.inspect.infonce_explorer import InfoNCEExplorer
    from ui.inspect.pretext_gallery import PretextGallery
    from ui.inspect.reconstruction import ReconstructionViewer

    def viewer(cls, method: str, ready, size=(1100, 760)):
        widget = cls(root)
        widget.resize(*size)
        widget.show()
        widget.picker.select(runs[method])
        wait_until(app, lambda: ready(widget) and not widget.tasks.is_busy(), 900)
        return widget

    attention = viewer(AttentionViewer, "dino", lambda w: w.arrays is not None)
    masks = attention.arrays.get("masks")
    if masks is not None:  # show the probe image whose mean map finds its object best
        scores = attention_jaccard(attention.maps(), torch.from_numpy(masks)).mean_map
        attention.images.setCurrentRow(int(scores.argmax()))
    shoot(app, attention, "attention", args.out)

    reconstruction = viewer(ReconstructionViewer, "mae", lambda w: w.pictures is not None)
    shoot(app, reconstruction, "reconstruction", args.out)

    embeddings = viewer(EmbeddingViewer, "simclr", lambda w: w.projection is not None, (1100, 860))
    embeddings.method_combo.setCurrentIndex(embeddings.method_combo.findData("tsne"))
    wait_until(app, lambda: embeddings.projection.method == "tsne" and not embeddings.tasks.is_busy(), 900)
    embeddings.retrieve(0)
    points = embeddings.projection.points
    x0, y0 = np.percentile(points, 40, axis=0)
    x1, y1 = np.percentile(points, 60, axis=0)
    embeddings.select_rect(x0, y0, x1 - x0, y1 - y0)
    shoot(app, embeddings, "embeddings", args.out)

    collapse = viewer(CollapseDashboard, "dino", lambda w: w.probe is not None)
    shoot(app, collapse, "collapse", args.out)

    affinity = viewer(AffinityViewer, "simclr", lambda w: w.matrix is not None)
    shoot(app, affinity, "affinity", args.out)

    evaluation = EvaluationView(root)
    evaluation.resize(1200, 560)
    evaluation.show()
    evaluation.max_train.setValue(1000)
    for method in ("simclr", "mae"):
        evaluation.select_run(runs[method])
        evaluation.evaluate(["knn", "linear"])
        wait_until(app, lambda: not evaluation.tasks.is_busy(), 1800)
    evaluation.select_run(runs["simclr"])
    shoot(app, evaluation, "evaluation", args.out)

    gallery = PretextGallery()
    gallery.resize(1000, 780)
    gallery.show()
    image = attention.arrays["images"][0]
    gallery.set_image(torch.from_numpy(image).permute(2, 0, 1).contiguous(), "probe image 1 of the DINO run")
    wait_until(app, lambda: bool(gallery.previews) and not gallery.tasks.is_busy(), 300)
    shoot(app, gallery, "pretext-gallery", args.out)

    explorer = InfoNCEExplorer()
    explorer.resize(1000, 560)
    explorer.show()
    shoot(app, explorer, "infonce-explorer", args.out)

    simulator = ContrastiveSimulator()
    simulator.resize(1000, 560)
    simulator.show()
    for _ in range(75):
        simulator.tick()
    shoot(app, simulator, "contrastive-simulator", args.out)

    dialog = ExportDialog(runs["simclr"])
    dialog.folder.setText(str(scratch / "export"))
    dialog.show()
    dialog.embeddings_box.setChecked(True)
    dialog.start_export()
    wait_until(app, lambda: dialog.export_result is not None or not dialog.tasks.is_busy(), 600)
    shoot(app, dialog, "export", args.out)

    for widget in QApplication.topLevelWidgets():  # closed and deleted while the application still exists
        widget.close()
        widget.deleteLater()
    settle(app, 1.0)
    if args.runs is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

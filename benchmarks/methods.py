"""Every preset for the same time budget, beside what it must beat: raw pixels and its own untrained encoder.

    python benchmarks/methods.py [--budget 300] [--presets simclr,byol,…] [--data shapes|cifar10] [--device cpu|cuda]

Each preset trains through ``labbench.engine.Trainer`` exactly as ``labbench train`` runs it, with
``train.time_budget_s = --budget`` (the trainer fits every schedule to the steps that fit), in a
process of its own so that its peak memory is its own. The trainer's own reference line gives the
raw-pixel and untrained-encoder k-NN on the same bank/eval split as the trained encoder's k-NN; MAE
adds a linear probe of the trained and the untrained encoder (its k-NN is a poor score by design).

The verdict column applies issue #14's bar: two-view and distillation methods must reach
max(raw pixels, untrained) + 10 points of k-NN; pretext tasks untrained + 10; MAE's linear probe
untrained + 10.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from labbench.data import load_split
from labbench.engine import Trainer
from labbench.engine.device import resolve_device
from labbench.engine.monitors import MonitorSets
from labbench.evaluate.baselines import random_init_method
from labbench.evaluate.features import extract_features
from labbench.evaluate.linear_probe import linear_probe
from labbench.run_config import RunConfig, apply_overrides, load_preset, preset_names

from measure import StepClock, machine_line, peak_rss_mib, print_table

CIFAR10_JPG = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpg"
DATA = {
    "shapes": ["data.source=shapes", "data.image_size=32"],
    # every train/ image is trained on and in the k-NN bank, every test/ image is scored
    "cifar10": ["data.source=folder", f"data.root={str(CIFAR10_JPG)!r}", "data.num_images=0", "data.image_size=32",
                "eval.max_bank=10000", "eval.max_eval=2000"],
}
PRETEXT = {"rotation", "relative_patch", "jigsaw", "colorization", "inpainting", "cpc"}


def bar(method: str) -> str:
    """Which figure the preset must raise by 10 points, per issue #14."""
    if method == "mae":
        return "linear"
    return "untrained" if method in PRETEXT else "max"


def linear_of(method, cfg: RunConfig, split, device) -> float:
    """Linear-probe accuracy of ``method.embed`` on the monitor's bank (train) and eval images."""
    sets = MonitorSets.choose(split.train, split.eval, cfg.eval, cfg.train.seed)
    method.eval()
    feats = [extract_features(method.embed, s.images, cfg.data.image_size, device) for s in (sets.bank, sets.eval)]
    return linear_probe(feats[0], sets.bank.labels.to(device), feats[1], sets.eval.labels.to(device)).accuracy


def measure_one(preset: str, budget: float, data: str, device: torch.device) -> dict:
    """One preset's row (run in a child process)."""
    cfg = apply_overrides(load_preset(preset), [*DATA[data], f"train.device={device.type}",
                                                f"train.time_budget_s={budget}", "train.epochs=100000",
                                                "eval.probe_images=0"])
    events, clock = [], StepClock()
    with tempfile.TemporaryDirectory() as runs_root:
        trainer = Trainer(cfg, [events.append, clock], runs_root=runs_root)
        result = trainer.fit()
    if result.status != "completed":
        raise RuntimeError(f"{preset}: {result.message}")
    reference = next(e for e in events if e.kind == "reference")
    knn = [e.knn_accuracy for e in events if e.kind == "epoch"]
    row = {
        "preset": preset, "method": cfg.method.name, "backbone": cfg.backbone.name, "batch": cfg.train.batch_size,
        "raw": reference.raw_pixels_knn, "untrained": reference.untrained_knn, "knn": knn[-1], "best_knn": max(knn),
        "steps": trainer.step, "epochs": trainer.epoch, "loss": clock.loss_fall(),
        # the trainer's own figure, on its training clock (monitors left out); the first report includes warm-up
        "images_per_sec": statistics.median(e.images_per_sec for e in events if e.kind == "step" and e.step > 1),
        "peak_rss_mib": peak_rss_mib(),
    }
    if bar(cfg.method.name) == "linear":
        split = load_split(cfg.data)
        row["linear"] = linear_of(trainer.method, cfg, split, device)
        row["untrained_linear"] = linear_of(random_init_method(cfg, cfg.train.seed, len(split.train)).to(device),
                                            cfg, split, device)
    return row


def verdict(r: dict) -> tuple[str, float]:
    """(what the score is measured against, its margin in points)."""
    kind = bar(r["method"])
    if kind == "linear":
        return "linear vs untrained", 100 * (r["linear"] - r["untrained_linear"])
    if kind == "untrained":
        return "k-NN vs untrained", 100 * (r["knn"] - r["untrained"])
    return "k-NN vs max(raw, untrained)", 100 * (r["knn"] - max(r["raw"], r["untrained"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per preset")
    parser.add_argument("--presets", default=",".join(preset_names()), help="comma-separated preset names")
    parser.add_argument("--data", default="shapes", choices=sorted(DATA))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: one preset, a JSON line out
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.one:
        print(json.dumps(measure_one(args.one, args.budget, args.data, device)))
        return

    print(machine_line(device))
    print(f"{args.budget:g} s of training per preset on {args.data} at 32 px (train.time_budget_s: monitors and "
          "saving not counted); weighted k-NN with the preset's k and τ on its bank/eval split\n")
    headers = ["preset", "backbone", "batch", "raw pixels", "untrained", f"k-NN after {args.budget:g} s",
               "linear (untrained)", "margin", "bar +10", "loss first → last", "steps", "images/s", "peak RSS"]
    rows = []
    for name in args.presets.split(","):
        child = subprocess.run([sys.executable, __file__, "--one", name, "--budget", str(args.budget),
                                "--data", args.data, "--device", args.device], capture_output=True, text=True)
        if child.returncode != 0:
            rows.append([name, "failed: " + (child.stderr.strip().splitlines() or ["?"])[-1][:100]] + [""] * 11)
        else:
            r = json.loads(child.stdout.strip().splitlines()[-1])
            against, margin = verdict(r)
            linear = (f"{100 * r['linear']:.1f} % ({100 * r['untrained_linear']:.1f} %)" if "linear" in r else "")
            rows.append([
                name, r["backbone"], str(r["batch"]), f"{100 * r['raw']:.1f} %", f"{100 * r['untrained']:.1f} %",
                f"{100 * r['knn']:.1f} %", linear, f"{margin:+.1f} ({against})", "yes" if margin >= 10 else "no",
                "{:.3g} → {:.3g}".format(*r["loss"]), str(r["steps"]), f"{r['images_per_sec']:,.0f}",
                f"{r['peak_rss_mib']:,.0f} MiB",
            ])
        print(f"  {' · '.join(c for c in rows[-1] if c)}", flush=True)
    print()
    print_table(headers, rows)


if __name__ == "__main__":
    main()

"""SimCLR from its preset for a few minutes: k-NN accuracy against raw pixels, and speed against lightly.

    python benchmarks/simclr_shapes.py [--budget 300] [--device cpu|cuda] [--data shapes,cifar10] [--no-peer]

For each set: the raw-pixel and random-init k-NN (the baselines a representation must beat), our
trainer for ``--budget`` seconds with the preset's cosine schedule fitted to the steps that fit, and
the k-NN of the trained encoder, all on the same bank/eval subsets with the same weighted k-NN.
Then our throughput against lightly's SimCLR pipeline (benchmarks/peers.py).

``cifar10`` reads the JPEG folder ``../shared/data/cifar10-jpg`` next to the repository (train/ for
the self-supervised run and the k-NN bank, test/ for the eval side); it is skipped when absent.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import tempfile
from pathlib import Path

import torch

from labbench.data import load_split
from labbench.engine.device import resolve_device
from labbench.engine.monitors import MonitorSets
from labbench.evaluate.baselines import random_init_encoder

from measure import machine_line, print_table
from peers import compare_throughput, knn_of, knn_score, method_config, train_ours, trainer_images_per_sec

CIFAR10_JPG = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpg"
DATASETS = {
    "shapes": [],
    # every train/ image is trained on and in the k-NN bank, every test/ image is scored
    "cifar10": ["data.source=folder", f"data.root={str(CIFAR10_JPG)!r}", "data.num_images=0",
                "eval.max_bank=10000", "eval.max_eval=2000"],
}


def flatten(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1)


def run_set(name: str, budget: float, overrides: list[str], device: torch.device, runs_root: str) -> list[str] | None:
    """One row: baselines and the trained encoder's k-NN on one set (None when its data is absent)."""
    if name == "cifar10" and not (CIFAR10_JPG / "train").is_dir():
        print(f"  cifar10: skipped ({CIFAR10_JPG} not found)")
        return None
    cfg = method_config("simclr", [*DATASETS[name], *overrides])
    split = load_split(cfg.data)
    sets = MonitorSets.choose(split.train, split.eval, cfg.eval, cfg.train.seed)
    pixels = knn_of(flatten, sets, cfg, device)
    encoder = random_init_encoder(cfg, cfg.train.seed).to(device, memory_format=torch.channels_last)
    random_init = knn_of(encoder, sets, cfg, device, encoder)
    trained = train_ours(cfg, budget, trainer_images_per_sec(cfg, 2, 4, runs_root), len(split.train), runs_root)
    knn = knn_score(trained.method, split, cfg, device)
    print(f"  {name}: raw pixels {100 * pixels:.1f} %, random init {100 * random_init:.1f} %, "
          f"SimCLR {100 * knn:.1f} % after {trained.steps} steps", flush=True)
    return [name, f"{len(split.train):,} / {len(sets.bank):,} / {len(sets.eval):,}", f"{100 * pixels:.1f} %",
            f"{100 * random_init:.1f} %", f"{100 * knn:.1f} %", str(trained.steps), f"{trained.images_per_sec:,.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds per set")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--data", default="shapes,cifar10")
    parser.add_argument("--no-peer", action="store_true", help="skip the throughput comparison with lightly")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra config override")
    args = parser.parse_args()
    device = resolve_device(args.device)
    overrides = [f"train.device={device.type}", *args.set]
    print(machine_line(device))
    print(f"SimCLR preset, {args.budget:g} s of training per set\n")

    with tempfile.TemporaryDirectory() as runs_root:
        rows = [row for name in args.data.split(",") if (row := run_set(name, args.budget, overrides, device, runs_root))]
        if rows:
            print()
            print_table(["data", "train / k-NN bank / eval", "raw pixels", "random init", f"SimCLR {args.budget:g} s",
                         "steps", "images/s"], rows)
        if not args.no_peer:
            row = compare_throughput("simclr", overrides, device, warmup=3, steps=10, runs_root=runs_root)
            print(f"\nthroughput on shapes (warm-up 3, 10 timed steps): ours {row.ours:,.0f} img/s, lightly's "
                  f"SimCLR pipeline {row.lightly:,.0f} img/s: {row.ours / row.lightly:.2f}×")


if __name__ == "__main__":
    main()

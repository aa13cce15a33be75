"""Every preset for the same short budget: k-NN against its random-init encoder, loss, speed, memory.

    python benchmarks/methods.py [--budget 60] [--methods simclr,byol,…] [--device cpu|cuda]

Each preset in labbench/resources/presets (together they cover every registered method; a method name
without a preset of its own trains with the SimCLR preset's data, backbone and schedule) trains on
the shapes set at 32 px, for ``--budget`` seconds with its cosine schedule fitted to the
steps its throughput allows, in a process of its own so that its peak memory is its own. The
random-init row is the same backbone untrained, scored by the same weighted k-NN on the same split.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import json
import subprocess
import sys
import tempfile

import torch

from labbench.data import load_split
from labbench.engine.device import resolve_device
from labbench.engine.monitors import MonitorSets
from labbench.evaluate.baselines import random_init_encoder
from labbench.run_config import preset_names

from measure import machine_line, peak_rss_mib, print_table
from peers import knn_of, knn_score, method_config, train_ours, trainer_images_per_sec

SHAPES_32 = ["data.source=shapes", "data.image_size=32"]


def measure_one(name: str, budget: float, device: torch.device) -> dict:
    """One method's row (run in a child process)."""
    cfg = method_config(name, [*SHAPES_32, f"train.device={device.type}"])
    split = load_split(cfg.data)
    sets = MonitorSets.choose(split.train, split.eval, cfg.eval, cfg.train.seed)
    encoder = random_init_encoder(cfg, cfg.train.seed).to(device, memory_format=torch.channels_last)
    random_knn = knn_of(encoder, sets, cfg, device, encoder)
    with tempfile.TemporaryDirectory() as runs_root:
        estimate = trainer_images_per_sec(cfg, 1, 2, runs_root)
        trained = train_ours(cfg, budget, estimate, len(split.train), runs_root)
    return {
        "method": name, "backbone": cfg.backbone.name, "batch": cfg.train.batch_size,
        "knn": knn_score(trained.method, split, cfg, device), "random_knn": random_knn, "steps": trained.steps,
        "loss": trained.loss_first_last, "images_per_sec": trained.images_per_sec, "peak_rss_mib": peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="training seconds per preset")
    parser.add_argument("--methods", default=",".join(preset_names()), help="presets or method names")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: one method, a JSON line out
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.one:
        print(json.dumps(measure_one(args.one, args.budget, device)))
        return

    print(machine_line(device))
    print(f"{args.budget:g} s of training per preset on shapes at 32 px; k-NN: the preset's k and τ on its bank/eval subsets\n")
    headers = ["preset", "backbone", "batch", f"k-NN after {args.budget:g} s", "random-init k-NN",
               "loss (first → last 10 steps)", "steps", "images/s", "peak RSS"]
    rows = []
    for name in args.methods.split(","):
        child = subprocess.run(
            [sys.executable, __file__, "--one", name, "--budget", str(args.budget), "--device", args.device],
            capture_output=True, text=True,
        )
        if child.returncode != 0:
            rows.append([name, "", "", "failed: " + (child.stderr.strip().splitlines() or ["?"])[-1][:80], "", "", "", "", ""])
        else:
            r = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append([name, r["backbone"], str(r["batch"]), f"{100 * r['knn']:.1f} %", f"{100 * r['random_knn']:.1f} %",
                         "{:.3g} → {:.3g}".format(*r["loss"]), str(r["steps"]), f"{r['images_per_sec']:,.0f}",
                         f"{r['peak_rss_mib']:,.0f} MiB"])
        print(f"  {' · '.join(c for c in rows[-1] if c)}", flush=True)
    print()
    print_table(headers, rows)


if __name__ == "__main__":
    main()

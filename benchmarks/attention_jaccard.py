"""Does DINO's attention find the object, and does SimCLR beat its baselines? Short CPU runs, measured.

    python benchmarks/attention_jaccard.py [--dino-epochs 4] [--dino-minutes 8] [--simclr-epochs 4]
                                           [--simclr-minutes 8] [--dino-run RUN] [--simclr-run RUN]

1. The dino_vit preset (ViT-Tiny, 4 blocks, 4-px patches, shapes at 32 px) trains for ``--dino-epochs``
   (at most ``--dino-minutes``); the teacher's last-block CLS attention on eval images is thresholded to
   keep 60 % of its mass (DINO's visualize_attention.py) and scored by its Jaccard index against the
   shapes' exact object masks — next to the same ViT untrained and a centred Gaussian "prior" map.
2. The SimCLR preset trains for ``--simclr-epochs`` (at most ``--simclr-minutes``) and is scored by k-NN and
   the linear probe next to a random-init encoder and raw pixels (``labbench.scoring``).
Pass ``--dino-run`` / ``--simclr-run`` to measure existing run folders instead of training.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from labbench.data import load_split
from labbench.engine import Trainer
from labbench.engine.checkpointed import load_run_method
from labbench.evaluate.attention import AttentionMaps, attention_jaccard, attention_maps
from labbench.evaluate.baselines import random_init_encoder
from labbench.run_config import apply_overrides, load_preset
from labbench.scoring import evaluate_run, format_table, results_table

MASS = 0.6


def train(preset: str, epochs: int, minutes: float, runs_dir: Path) -> Path:
    cfg = apply_overrides(load_preset(preset), [f"train.epochs={epochs}", f"train.time_budget_s={60 * minutes}"])
    started = time.perf_counter()
    result = Trainer(cfg, runs_root=runs_dir).fit()
    if result.status != "completed":
        raise SystemExit(f"{preset} run failed: {result.message}")
    print(f"{preset}: {result.step} steps, {result.epoch} epochs in {time.perf_counter() - started:.0f} s "
          f"-> {result.run_dir}", flush=True)
    return Path(result.run_dir)


def centre_prior(n: int, heads: int, grid: int, size: int) -> AttentionMaps:
    """A centred Gaussian over the patch grid for every image: what "look at the middle" scores."""
    c = (torch.arange(grid) + 0.5) / grid - 0.5
    bump = torch.exp(-(c[:, None] ** 2 + c[None] ** 2) / (2 * 0.2**2))
    return AttentionMaps(bump.expand(n, heads, grid, grid).clone(), size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dino-epochs", type=int, default=4)
    parser.add_argument("--simclr-epochs", type=int, default=4)
    parser.add_argument("--dino-minutes", type=float, default=8.0, help="time budget of the DINO run")
    parser.add_argument("--simclr-minutes", type=float, default=8.0, help="time budget of the SimCLR run")
    parser.add_argument("--dino-run", type=Path)
    parser.add_argument("--simclr-run", type=Path)
    parser.add_argument("--images", type=int, default=600, help="eval images scored for the Jaccard")
    parser.add_argument("--runs-dir", type=Path, default=Path(tempfile.gettempdir()) / "labbench-bench-runs")
    args = parser.parse_args()
    load = "/".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load}\n", flush=True)

    dino_run = args.dino_run or train("dino_vit", args.dino_epochs, args.dino_minutes, args.runs_dir)
    method, cfg = load_run_method(dino_run)
    eval_set = load_split(cfg.data).eval
    images, masks = eval_set.images[: args.images], eval_set.masks[: args.images]
    trained = attention_maps(method, images)
    untrained = attention_maps(random_init_encoder(cfg, seed=0), images)
    _, heads, grid, _ = trained.heads.shape
    rows = [("DINO teacher (trained)", trained), ("same ViT at its init", untrained),
            ("centred Gaussian prior", centre_prior(len(images), heads, grid, cfg.data.image_size))]
    print(f"\nJaccard of the attention keeping {MASS:.0%} of its mass vs the object mask, "
          f"{len(images)} shapes eval images at {cfg.data.image_size} px ({dino_run.name}):")
    print(f"{'':<26}{'mean of heads':>15}{'best head':>12}")
    for name, maps in rows:
        score = attention_jaccard(maps, masks, MASS)
        print(f"{name:<26}{score.mean_map.mean():>15.3f}{score.best_head.mean():>12.3f}")

    simclr_run = args.simclr_run or train("simclr", args.simclr_epochs, args.simclr_minutes, args.runs_dir)
    evaluate_run(simclr_run, ("knn", "linear"), device="cpu")
    print("\nSimCLR preset vs baselines (accuracy, %):")
    print(format_table(results_table([simclr_run])))


if __name__ == "__main__":
    main()

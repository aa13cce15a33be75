"""How much of the label survives a preset's views? The same backbone trained *supervised* through them.

    python benchmarks/view_signal.py [--preset simclr] [--data shapes] [--steps 300]

A self-supervised method can only learn what its two views share. This trains the preset's backbone
with a linear classifier on the labels, one view per image, for ``--steps`` steps of the preset's
batch (AdamW, lr 2e-3), once per view recipe: no augmentation, the preset's views, and the preset's
views with one op family switched off. Each row gives the last 10 steps' training loss (chance is
log of the number of classes) and the weighted k-NN accuracy of the backbone on the eval split, as
the trainer's monitor scores it. If the preset's views leave even a supervised learner near chance,
no self-supervised method will find the label through them.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import math
import time

import torch
import torch.nn.functional as F

from labbench.augment.pipeline import ViewPipeline
from labbench.data import load_split
from labbench.data.store import Split
from labbench.engine.device import resolve_device
from labbench.engine.monitors import MonitorSets
from labbench.models import build_backbone
from labbench.run_config import RunConfig, apply_overrides

from measure import machine_line, print_table
from peers import knn_of, method_config

NO_COLOUR = ["augment.jitter_p=0", "augment.grayscale_p=0"]
RECIPES = {
    "no augmentation (resize only)": ["augment.crop_scale=[1.0,1.0]", "augment.crop_ratio=[1.0,1.0]",
                                      "augment.flip_p=0", "augment.blur_p=0", *NO_COLOUR],
    "the preset's views": [],
    "… without colour jitter and grayscale": NO_COLOUR,
    "… without the crop (whole image)": ["augment.crop_scale=[1.0,1.0]", "augment.crop_ratio=[1.0,1.0]"],
    "… crop 30–100 %, no colour distortion": ["augment.crop_scale=[0.3,1.0]", *NO_COLOUR],
}


def supervised_through_views(cfg: RunConfig, split: Split, steps: int, device: torch.device
                             ) -> tuple[float, float, float]:
    """(mean loss of the last 10 steps, k-NN accuracy, seconds) of a fresh backbone trained on ``split``'s labels."""
    torch.manual_seed(cfg.train.seed)
    encoder = build_backbone(cfg.backbone, cfg.data.image_size).to(device)
    classifier = torch.nn.Linear(encoder.feature_dim, len(split.train.class_names)).to(device)
    optimizer = torch.optim.AdamW([*encoder.parameters(), *classifier.parameters()], lr=2e-3, weight_decay=1e-4)
    views = ViewPipeline(cfg.augment, cfg.data.image_size)
    g = torch.Generator(device=device).manual_seed(cfg.train.seed)
    images, labels = split.train.images.to(device), split.train.labels.to(device)
    losses = []
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(len(images), (cfg.train.batch_size,), generator=g, device=device)
        loss = F.cross_entropy(classifier(encoder(views(images[idx], g))), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    seconds = time.perf_counter() - start
    sets = MonitorSets.choose(split.train, split.eval, cfg.eval, cfg.train.seed)
    return torch.stack(losses[-10:]).mean().item(), knn_of(encoder, sets, cfg, device, encoder), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="simclr")
    parser.add_argument("--data", default="shapes", help="a data source name, or a folder path")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    device = resolve_device(args.device)
    data = [f"data.source={args.data}"] if "/" not in args.data else ["data.source=folder", f"data.root={args.data!r}",
                                                                         "data.num_images=0"]
    base = method_config(args.preset, [*data, f"train.device={device.type}"])
    split = load_split(base.data)  # the recipes change only the views: the data is loaded once
    if split.train.labels is None:
        raise SystemExit(f"{args.data}: the set has no labels to train on")
    print(machine_line(device))
    print(f"{args.preset} preset's backbone ({base.backbone.name}), supervised through its views on {args.data}, "
          f"{args.steps} steps of {base.train.batch_size}\n")
    rows = []
    for name, overrides in RECIPES.items():
        loss, knn, seconds = supervised_through_views(apply_overrides(base, overrides), split, args.steps, device)
        rows.append([name, f"{loss:.2f}", f"{100 * knn:.1f} %", f"{seconds:.0f} s"])
        print(f"  {' · '.join(rows[-1])}", flush=True)
    print()
    print_table(["views", f"training loss (chance {math.log(len(split.train.class_names)):.2f})", "k-NN", "time"], rows)


if __name__ == "__main__":
    main()

"""A 100 000-image folder: decode once into the memory-mapped uint8 cache, then train from it.

    python benchmarks/large_folder.py [--images 100000] [--size 64] [--budget 60] [--root DIR]

Writes shapes-set JPEGs of 32–64 px (one subfolder per class) into a temporary folder with a
process pool, then, each phase in a fresh process so that its peak memory is its own:

1. the first ``load_split`` decodes every file into the cache (``data.cache_dir``): time, cache size;
2. a second ``load_split`` maps the cache without decoding: time;
3. SimCLR (the preset) trains from the mapped cache for ``--budget`` seconds: images/s.

Each phase reports its peak resident memory beside the decoded size (images × 3 × size²). Pages
of the mapped cache count as resident once read; they are file pages the kernel may drop and read
again, so the private memory (RssAnon) is reported too.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import json
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from labbench.config import DataConfig
from labbench.engine.device import physical_cores

from measure import StepClock, machine_line, mapped_rss_mib, peak_rss_mib, print_table, rss_parts_mib

CHUNK = 1000  # images per generated batch: one size, one seed


def _write_chunk(job: tuple[str, int, int, int]) -> int:
    """Draw ``count`` shapes images at ``side`` px (seeded by ``start``) and save them as JPEGs."""
    import torch
    from PIL import Image

    from labbench.data.shapes import CLASS_NAMES, generate_shapes

    torch.set_num_threads(1)  # one process per core already
    root, start, count, side = job
    made = generate_shapes(count, side, seed=start)
    pixels = made.images.permute(0, 2, 3, 1).numpy()
    for i, (image, label) in enumerate(zip(pixels, made.labels.tolist())):
        Image.fromarray(image).save(Path(root) / CLASS_NAMES[label] / f"{start + i:06d}.jpg", quality=90)
    return count


def write_folder(root: Path, images: int, seed: int = 0) -> float:
    """``images`` JPEGs under ``root/<class>/``, sides drawn in 32–64 px per chunk; returns seconds taken."""
    from labbench.data.shapes import CLASS_NAMES

    for name in CLASS_NAMES:
        (root / name).mkdir(parents=True, exist_ok=True)
    sides = np.random.default_rng(seed).integers(32, 65, size=-(-images // CHUNK))
    jobs = [(str(root), start, min(CHUNK, images - start), int(side))
            for start, side in zip(range(0, images, CHUNK), sides)]
    start = time.perf_counter()
    with Pool(physical_cores()) as pool:
        sum(pool.imap_unordered(_write_chunk, jobs))
    return time.perf_counter() - start


def data_overrides(root: str, cache: str, size: int) -> list[str]:
    return ["data.source=folder", f"data.root={root!r}", f"data.cache_dir={cache!r}", f"data.image_size={size}",
            "data.num_images=0"]


def phase_load(root: str, cache: str, size: int) -> dict:
    """Load the folder through the cache (decoding it when the cache is not there yet)."""
    from labbench.data import load_split

    start = time.perf_counter()
    split = load_split(DataConfig(source="folder", root=root, cache_dir=cache, image_size=size, num_images=0))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "train": len(split.train), "eval": len(split.eval),
            "peak_rss_mib": peak_rss_mib(), "cache_rss_mib": mapped_rss_mib(cache), **rss_parts_mib()}


def phase_train(root: str, cache: str, size: int, budget: float) -> dict:
    """SimCLR from the mapped cache for ``budget`` seconds."""
    from labbench.engine import Trainer
    from labbench.run_config import apply_overrides, load_preset

    cfg = apply_overrides(load_preset("simclr"), [
        *data_overrides(root, cache, size), f"train.time_budget_s={budget}", "train.log_every_steps=1",
        "eval.every_epochs=1000000", "train.checkpoint_every_epochs=1000000", "eval.max_bank=1000", "eval.max_eval=500",
    ])
    clock = StepClock()
    with tempfile.TemporaryDirectory() as runs:
        trainer = Trainer(cfg, [clock], runs_root=runs)
        result = trainer.fit()
    return {"status": result.status, "steps": trainer.step, "images_per_sec": clock.images_per_sec(cfg.train.batch_size),
            "peak_rss_mib": peak_rss_mib(), "cache_rss_mib": mapped_rss_mib(cache), **rss_parts_mib()}


def in_child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=64, help="decoded (and training) image size, px")
    parser.add_argument("--budget", type=float, default=60.0, help="training seconds")
    parser.add_argument("--root", help="write the folder here (kept) instead of a temporary folder")
    parser.add_argument("--phase", choices=("load", "train"), help=argparse.SUPPRESS)  # a child process
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = (phase_load(args.root, args.cache, args.size) if args.phase == "load"
                  else phase_train(args.root, args.cache, args.size, args.budget))
        print(json.dumps(result))
        return

    import torch

    print(machine_line(torch.device("cpu")))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.root) if args.root else Path(tmp) / "images"
        cache = Path(tmp) / "cache"
        seconds = write_folder(root, args.images)
        on_disk = sum(p.stat().st_size for p in root.rglob("*.jpg"))
        print(f"wrote {args.images:,} JPEGs (32–64 px, {on_disk / 2**20:,.0f} MiB) in {seconds:.1f} s "
              f"with {physical_cores()} processes", flush=True)
        child = ["--root", str(root), "--cache", str(cache), "--size", str(args.size), "--budget", str(args.budget)]
        first = in_child([*child, "--phase", "load"])
        cache_mib = sum(p.stat().st_size for p in cache.glob("*.npy")) / 2**20
        second = in_child([*child, "--phase", "load"])
        train = in_child([*child, "--phase", "train"])
    decoded_mib = args.images * 3 * args.size**2 / 2**20
    print(f"\ndecoded size: {args.images:,} × 3 × {args.size}² = {decoded_mib:,.0f} MiB; cache file {cache_mib:,.0f} MiB\n")
    def memory(r: dict) -> list[str]:
        return [f"{r['peak_rss_mib']:,.0f} MiB", f"{r.get('RssAnon', float('nan')):,.0f} MiB", f"{r['cache_rss_mib']:,.0f} MiB"]

    rows = [
        ["first load (decode → cache)", f"{first['seconds']:.1f} s", f"{args.images / first['seconds']:,.0f} files/s",
         *memory(first)],
        ["second load (map the cache)", f"{second['seconds']:.1f} s", "", *memory(second)],
        [f"SimCLR {args.budget:g} s from the cache", f"{train['steps']} steps",
         f"{train['images_per_sec']:,.0f} images/s", *memory(train)],
    ]
    print_table(["phase", "time", "rate", "peak RSS", "private (RssAnon) at end", "cache pages resident at end"], rows)

if __name__ == "__main__":
    main()

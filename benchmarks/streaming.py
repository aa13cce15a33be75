"""A large folder of photographs: streamed from packed shards against decoded once into the uint8 store.

    python benchmarks/streaming.py [--images 100000] [--sizes 96,224] [--seconds 60] [--workers N] [--root DIR]

One invocation, every phase in a fresh process (so that each peak memory is its own):

1. write ``--images`` JPEGs of 256–500 px a side (photo-like: smooth colour fields, shapes, grain; quality
   90) in ten class folders, with a process pool;
2. ``labbench data pack`` them: time, shards and bytes on disk;
3. for each size S of ``--sizes``:
   - the uint8 store: the folder decoded once at S into the memory-mapped cache (time, cache file size,
     peak RSS), then its batches as the trainer takes them (SimCLR's two random resized crops cut on the
     CPU from the store) for ``--seconds``: images/s;
   - streaming: the pack's batches (SimCLR's two crops cut from the full-resolution images as
     ``--workers`` DataLoader processes decode them) for ``--seconds``: images/s, peak RSS of the trainer
     process and of a decoding process;
4. the projection of these per-image figures to ImageNet-1k (1.28 M images) for docs/streaming.md.

Images/s are the data path alone (no model): what each way of reading can feed a GPU with. They need epochs
of many batches (the decoding processes work on different batches of an epoch at once): a check on a few
hundred photos runs, but its streaming rate is the start-up of one batch per epoch.
"""

from __future__ import annotations

import labbench  # noqa: F401, I001 — before torch: it sets OpenMP's wait policy as the CLI does
import argparse
import itertools
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from labbench.engine.device import physical_cores

from measure import machine_line, peak_rss_mib, print_table, rss_parts_mib

CLASSES = 10
CHUNK = 200  # images per job of the writing pool
IMAGENET_IMAGES = 1_281_167
IMAGENET_JPEG_BYTES = 140e9  # the ILSVRC-2012 train folder as distributed (~110 KB a file)


# -- the folder -------------------------------------------------------------------------------------------


def photo(rng: np.random.Generator) -> np.ndarray:
    """One photo-like uint8 H×W×3 image, 256–500 px a side: a smooth colour field, a few soft-edged shapes, grain."""
    from PIL import Image, ImageDraw

    h, w = (int(v) for v in rng.integers(256, 501, 2))
    coarse = (rng.random((h // 32 + 2, w // 32 + 2, 3)) * rng.uniform(80, 255, 3)).astype(np.uint8)
    image = Image.fromarray(coarse).resize((w // 2, h // 2), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        box = [x0, y0, x0 + int(rng.integers(10, w // 4)), y0 + int(rng.integers(10, h // 4))]
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    image = image.resize((w, h), Image.Resampling.BILINEAR)  # soft edges, as a lens draws them
    grain = rng.integers(-8, 9, (h, w, 3), dtype=np.int16)
    return np.clip(np.asarray(image, dtype=np.int16) + grain, 0, 255).astype(np.uint8)


def _write_chunk(job: tuple[str, int, int]) -> int:
    from PIL import Image

    root, start, count = job
    rng = np.random.default_rng(start)
    for i in range(start, start + count):
        Image.fromarray(photo(rng)).save(Path(root) / f"class_{i % CLASSES}" / f"{i:07d}.jpg", quality=90)
    return count


def write_folder(root: Path, images: int) -> float:
    """``images`` photo JPEGs under ``root/class_<k>/``; seconds taken."""
    for k in range(CLASSES):
        (root / f"class_{k}").mkdir(parents=True, exist_ok=True)
    jobs = [(str(root), start, min(CHUNK, images - start)) for start in range(0, images, CHUNK)]
    started = time.perf_counter()
    with Pool(physical_cores()) as pool:
        sum(pool.imap_unordered(_write_chunk, jobs))
    return time.perf_counter() - started


# -- the phases, each in its own process ------------------------------------------------------------------


def _peaks() -> dict:
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mib": peak_rss_mib(), "worker_peak_rss_mib": children, **rss_parts_mib()}


def phase_pack(root: str, out: str) -> dict:
    from labbench.data.pack import pack_folder

    report = pack_folder(root, out)
    return {"seconds": report.seconds, "images": report.images, "shards": report.shards, "bytes": report.bytes,
            "source_bytes": report.source_bytes, **_peaks()}


def _config(size: int, workers: int, source: str, root: str, cache: str):
    from labbench.run_config import apply_overrides, load_preset

    return apply_overrides(load_preset("simclr"), [
        f"data.source={source}", f"data.root={root!r}", f"data.cache_dir={cache!r}", f"data.image_size={size}",
        "data.num_images=0", f"data.workers={workers}", "data.store=" + ("stream" if source == "shards" else "auto"),
        "train.device=cpu",
    ])


def _rate(source, seconds: float, batch_size: int, take) -> dict:
    """Images/s of ``source``'s batches, epoch after epoch (after one warm-up batch), each batch's crops taken as
    the method's views take them."""
    import torch

    if source.steps_per_epoch == 0:
        raise ValueError(f"too few images for one batch of {source.batch_size}: use more images")
    batches = itertools.chain.from_iterable(source.epoch(epoch, 0) for epoch in itertools.count())
    g = torch.Generator().manual_seed(0)
    images, _ = next(batches)
    take(images, g)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        images, _ = next(batches)
        take(images, g)
        count += batch_size
    return {"images_per_sec": count / (time.perf_counter() - started), "images": count}


def phase_store(root: str, cache: str, size: int, seconds: float) -> dict:
    """Decode the folder into the store at ``size``, then time its batches with SimCLR's crops cut from it."""
    import torch

    from labbench.augment import take_crop
    from labbench.data import load_split
    from labbench.engine.batches import StoreBatches
    from labbench.methods import build_method

    torch.set_num_threads(physical_cores())
    cfg = _config(size, 0, "folder", root, cache)
    started = time.perf_counter()
    train = load_split(cfg.data).train
    load_seconds = time.perf_counter() - started
    method = build_method(cfg, dataset_size=len(train))
    plan = method.crop_plan()
    source = StoreBatches(train.images, cfg, torch.device("cpu"), 1, 0)

    def take(images, g):
        return [take_crop(images, spec, g) for spec in plan]

    rate = _rate(source, seconds, cfg.train.batch_size, take)
    cache_bytes = sum(p.stat().st_size for p in Path(cache).glob("*.npy"))
    return {"load_seconds": load_seconds, "train_images": len(train), "cache_bytes": cache_bytes, **rate, **_peaks()}


def phase_stream(pack: str, cache: str, size: int, seconds: float, workers: int) -> dict:
    """Time the pack's streamed batches: SimCLR's crops cut from the full-resolution images in ``workers`` processes."""
    import torch

    from labbench.augment import take_crop
    from labbench.data import load_split
    from labbench.engine.batches import StreamBatches
    from labbench.methods import build_method

    cfg = _config(size, workers, "shards", pack, cache)
    started = time.perf_counter()
    train = load_split(cfg.data).train
    load_seconds = time.perf_counter() - started
    method = build_method(cfg, dataset_size=len(train))
    source = StreamBatches(train.images, cfg, torch.device("cpu"), 1, 0)
    source.prepare(method)

    def take(images, g):
        return [take_crop(images, spec, g) for spec in source.plan]

    rate = _rate(source, seconds, cfg.train.batch_size, take)
    return {"load_seconds": load_seconds, "train_images": len(train), **rate, **_peaks()}


def in_child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ---------------------------------------------------------------------------------------------


def _gib(n: float) -> str:
    return f"{n / 2**30:,.2f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def projection(images: int, pack: dict, stores: dict[int, dict], streams: dict[int, dict], workers: int) -> list[list[str]]:
    """Rows of the ImageNet-1k projection: the measured per-image figures times 1.28 M images."""
    scale = IMAGENET_IMAGES / images
    rows = [
        ["shards on disk", (f"{_gib(pack['bytes'] * scale)} for these photos' JPEG sizes; ImageNet's own files as "
                            f"packed: {_gib(IMAGENET_JPEG_BYTES)}"), f"{pack['bytes'] / images / 1024:,.0f} KiB an image measured"],
        ["packing (decode once at 1/8 scale to check)", f"{pack['seconds'] * scale / 3600:,.1f} h on {physical_cores()} cores",
         f"{images / pack['seconds']:,.0f} images/s measured"],
    ]
    for size in sorted(stores):
        store, stream = stores[size], streams[size]
        decode_hours = store["load_seconds"] * scale / 3600
        epoch_minutes = IMAGENET_IMAGES / stream["images_per_sec"] / 60
        rows += [
            [f"uint8 store at {size} px", f"{_gib(3 * size**2 * IMAGENET_IMAGES)} on disk, decoded in {decode_hours:,.1f} h",
             f"{store['train_images'] / store['load_seconds']:,.0f} files/s measured"],
            [f"streaming at {size} px", f"{epoch_minutes:,.0f} min an epoch on {workers} decoding processes",
             f"{stream['images_per_sec'] / workers:,.0f} images/s per process measured"],
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--sizes", default="96,224", help="training image sizes, px (comma-separated)")
    parser.add_argument("--seconds", type=float, default=60.0, help="timed seconds of batches per way and size")
    parser.add_argument("--workers", type=int, default=physical_cores(), help="decoding processes when streaming")
    parser.add_argument("--root", help="keep the photos and the pack here (the photos are reused when there are as many)")
    parser.add_argument("--phase", choices=("pack", "store", "stream"), help=argparse.SUPPRESS)  # a child process
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "pack":
        print(json.dumps(phase_pack(args.folder, args.out)))
        return
    if args.phase == "store":
        print(json.dumps(phase_store(args.folder, args.cache, args.size, args.seconds)))
        return
    if args.phase == "stream":
        print(json.dumps(phase_stream(args.out, args.cache, args.size, args.seconds, args.workers)))
        return

    import torch

    sizes = [int(s) for s in args.sizes.split(",")]
    print(machine_line(torch.device("cpu")))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.root) if args.root else Path(tmp)
        folder, pack_dir = base / "photos", base / "pack"
        if sum(1 for _ in folder.rglob("*.jpg")) != args.images:  # a kept folder is reused when it is the same size
            shutil.rmtree(folder, ignore_errors=True)
            seconds = write_folder(folder, args.images)
            print(f"wrote {args.images:,} JPEGs of 256–500 px in {seconds:.0f} s", flush=True)
        jpeg_bytes = sum(p.stat().st_size for p in folder.rglob("*.jpg"))
        if pack_dir.exists():
            shutil.rmtree(pack_dir)
        pack = in_child(["--phase", "pack", "--folder", str(folder), "--out", str(pack_dir)])
        print(f"packed in {pack['seconds']:.0f} s: {pack['shards']} shards, {_gib(pack['bytes'])}", flush=True)
        stores, streams = {}, {}
        for size in sizes:
            cache = Path(tmp) / f"cache-{size}"
            common = ["--size", str(size), "--seconds", str(args.seconds)]
            stores[size] = in_child(["--phase", "store", "--folder", str(folder), "--cache", str(cache), *common])
            shutil.rmtree(cache, ignore_errors=True)
            streams[size] = in_child(["--phase", "stream", "--out", str(pack_dir), "--cache", str(cache),
                                      "--workers", str(args.workers), *common])
            shutil.rmtree(cache, ignore_errors=True)
            print(f"{size} px: store {stores[size]['images_per_sec']:,.0f} images/s, "
                  f"streaming {streams[size]['images_per_sec']:,.0f} images/s", flush=True)

    n = args.images
    print(f"\n{n:,} JPEGs of 256–500 px, {_gib(jpeg_bytes)} as files; packed in {pack['seconds']:.0f} s "
          f"({n / pack['seconds']:,.0f} images/s) into {pack['shards']} shards, {_gib(pack['bytes'])} on disk; "
          f"peak RSS while packing {pack['peak_rss_mib']:,.0f} MiB\n")
    rows = []
    for size in sizes:
        store, stream = stores[size], streams[size]
        store_rss = f"{store['peak_rss_mib']:,.0f} MiB ({store.get('RssAnon', float('nan')):,.0f} private)"
        rows.append([f"{size} px", "uint8 store", f"{store['load_seconds']:,.0f} s to decode once",
                     _gib(store["cache_bytes"]), store_rss, f"{store['images_per_sec']:,.0f}"])
        rows.append([f"{size} px", f"streaming, {args.workers} decoding processes",
                     f"{stream['load_seconds']:.1f} s to open the pack", _gib(pack["bytes"]),
                     f"{stream['peak_rss_mib']:,.0f} MiB + {stream['worker_peak_rss_mib']:,.0f} MiB a worker",
                     f"{stream['images_per_sec']:,.0f}"])
    print_table(["size", "way", "before the first batch", "on disk", "peak RSS", "images/s (SimCLR's two crops)"],
                rows)
    print(f"\nProjected to ImageNet-1k ({IMAGENET_IMAGES:,} images) from the figures above:\n")
    print_table(["what", "ImageNet-1k", "from"], projection(n, pack, stores, streams, args.workers))


if __name__ == "__main__":
    main()

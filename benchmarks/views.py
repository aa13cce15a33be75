"""Throughput of SimCLR's two views: our batched pipeline vs torchvision.transforms.v2 per image.

    python benchmarks/views.py [--device cpu|cuda] [--images 512] [--size 32]

Both sides run the same ops with the same parameters (crop, flip, jitter, grayscale, blur,
normalise; no antialiasing) on the same device, in the same process. torchvision's transforms draw
one set of parameters per call, so per-sample randomness needs one call per image. Also compares
the two ways to resample crops (grid_sample, which the pipeline uses, and roi_align).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torchvision.ops import roi_align
from torchvision.transforms import v2

from labbench.augment import ViewPipeline, blur_kernel_size, resized_crop, sample_crop_boxes
from labbench.augment.ops import IMAGENET_MEAN, IMAGENET_STD
from labbench.augment.pipeline import SIGMA_REFERENCE_SIZE
from labbench.config import AugmentConfig


def seconds(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Fastest wall time of ``fn`` over ``repeats`` calls after a warm-up (least disturbed by other work)."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


def torchvision_compose(cfg: AugmentConfig, size: int) -> v2.Compose:
    s = cfg.jitter_strength
    sigma = tuple(v * size / SIGMA_REFERENCE_SIZE for v in cfg.blur_sigma)
    return v2.Compose([
        v2.ToDtype(torch.float32, scale=True),
        v2.RandomResizedCrop(size, scale=cfg.crop_scale, ratio=cfg.crop_ratio, antialias=False),
        v2.RandomHorizontalFlip(cfg.flip_p),
        v2.RandomApply([v2.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=cfg.jitter_p),
        v2.RandomGrayscale(cfg.grayscale_p),
        v2.RandomApply([v2.GaussianBlur(blur_kernel_size(size), sigma)], p=cfg.blur_p),
        v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def roi_align_crop(x: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """The alternative to ``resized_crop``: roi_align with aligned=True samples the same pixel centres."""
    top, left, h, w = boxes.to(x.dtype).unbind(1)
    index = torch.arange(x.shape[0], device=x.device, dtype=x.dtype)
    rois = torch.stack([index, left, top, left + w, top + h], dim=1)
    return roi_align(x, rois, size, spatial_scale=1.0, sampling_ratio=1, aligned=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    n, size = args.images, args.size

    cfg = AugmentConfig()
    images = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    images = images.to(device)
    g = torch.Generator(device=device).manual_seed(0)
    pipeline = ViewPipeline(cfg, size)
    compose = torchvision_compose(cfg, size)

    ours = seconds(lambda: (pipeline(images, g), pipeline(images, g)), device, args.repeats)
    theirs = seconds(
        lambda: [torch.stack([compose(img) for img in images]) for _ in range(2)], device, max(1, args.repeats // 2)
    )
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    where = f"{device} ({hardware})"
    print(f"SimCLR two views, {n} images at {size} px on {where}")
    print(f"  labbench ViewPipeline (batched):       {n / ours:10.0f} images/s")
    print(f"  torchvision v2 Compose (per image):    {n / theirs:10.0f} images/s")
    print(f"  ratio:                                 {theirs / ours:10.1f}x")

    x = images.float() / 255
    boxes = sample_crop_boxes(n, size, size, cfg.crop_scale, cfg.crop_ratio, g)
    grid = seconds(lambda: resized_crop(x, boxes, size), device, args.repeats)
    roi = seconds(lambda: roi_align_crop(x, boxes, size), device, args.repeats)
    print(f"crop resampling, {n} crops to {size} px: grid_sample {grid * 1e3:.2f} ms, roi_align {roi * 1e3:.2f} ms")


if __name__ == "__main__":
    main()

"""Memory estimates made before the memory is taken: the decoded image store, and one training step
at the run's batch size. Too much is refused with the numbers and what to lower, instead of the
process dying (the kernel's out-of-memory killer leaves no message at all).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from labbench.config import DataConfig
from labbench.errors import NotEnoughMemory
from labbench.run_config import RunConfig

#: an upper bound on a step's kept bytes per byte of input images (every preset measured at 32 px:
#: jigsaw 140, SimCLR 490, BYOL 980, MoCo v3 4 060, DINO's multi-crop ViT 5 020); a batch that stays
#: far below the free memory even at this rate is not worth measuring
ACTIVATIONS_PER_INPUT_BYTE = 10_000
#: images each source decodes before any cap (torchvision sets: train + test, the whole set is resized)
_DECODED_IMAGES = {"digits": 1797, "cifar10": 60_000, "cifar100": 60_000, "mnist": 70_000,
                   "fashion_mnist": 70_000, "svhn": 99_289, "stl10": 113_000}


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError  # the loop always returns


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().split()[0]
        return None if text == "max" else int(text)
    except (OSError, ValueError, IndexError):
        return None


def available_memory(device: torch.device | None = None) -> int | None:
    """Bytes that can still be allocated on ``device`` (CPU: the kernel's MemAvailable, within the
    cgroup's limit); None where the system does not say."""
    if device is not None and device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device is not None and device.type != "cpu":
        return None
    found = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        cap, used = _read_int(limit), _read_int(usage)
        if cap is not None and used is not None and cap < 1 << 60:
            found.append(max(cap - used, 0))
    return min(found) if found else None


def store_bytes(cfg: DataConfig) -> int | None:
    """Bytes of the decoded uint8 store ``cfg`` asks for (the shapes set adds its masks); None where it
    is unknown before listing the files (a folder, whose large sets go to a memory-mapped file anyway)."""
    per_image = 3 * cfg.image_size**2
    if cfg.source == "shapes":
        return cfg.num_images * (per_image + cfg.image_size**2)
    if cfg.source == "photos":
        return cfg.num_images * per_image
    if cfg.source in _DECODED_IMAGES:
        return _DECODED_IMAGES[cfg.source] * per_image
    return None


def check_store_fits(cfg: DataConfig, available: int | None = None) -> None:
    """Refuse a data set whose decoded store would not fit in memory, before decoding it."""
    need = store_bytes(cfg)
    available = available_memory() if available is None else available
    if need is None or available is None or need <= available:
        return
    fits = int((available / need) ** 0.5 * cfg.image_size)
    size_hint = f"lower data.image_size (at most about {fits} px fits)" if fits >= 8 else "use a machine with more memory"
    count = f", or data.num_images (now {cfg.num_images})" if cfg.source in ("shapes", "photos") else ""
    raise NotEnoughMemory(
        f"data: {cfg.source} at {cfg.image_size} px needs {format_bytes(need)} of memory once decoded, but "
        f"{format_bytes(available)} are available; {size_hint}{count}"
    )


def _output_bytes(output: object) -> int:
    if isinstance(output, torch.Tensor):
        return output.nbytes
    if isinstance(output, tuple | list):
        return sum(_output_bytes(o) for o in output)
    return 0


@torch.no_grad()
def step_bytes_per_image(method: nn.Module, images: torch.Tensor) -> int:
    """Bytes a training step keeps per image for the backward pass: the outputs of every layer (and
    the views) in one forward of ``images`` (uint8, two or more), measured on a copy of ``method``
    without gradients, so the probe itself holds about one layer's output at a time."""
    probe = copy.deepcopy(method)
    total = [0]

    def count(_module, _inputs, output) -> None:
        total[0] += _output_bytes(output)

    hooks = [m.register_forward_hook(count) for m in probe.modules() if not list(m.children())]
    try:
        with torch.random.fork_rng(devices=[images.device] if images.device.type == "cuda" else []):
            g = torch.Generator(device=images.device).manual_seed(0)
            views = probe.make_views(images, g)
            total[0] += sum(v.nbytes for v in views.values() if isinstance(v, torch.Tensor) and v.is_floating_point())
            kwargs = {"indices": torch.arange(len(images), device=images.device)} if probe.needs_indices else {}
            probe.training_step(images, torch.Generator(device=images.device).manual_seed(0), **kwargs)
    finally:
        for hook in hooks:
            hook.remove()
    return total[0] // len(images)


def check_step_fits(method: nn.Module, config: RunConfig, device: torch.device, per_process_batch: int,
                    available: int | None = None) -> None:
    """Refuse a batch size whose training step would not fit in ``device``'s free memory.

    The step is measured (:func:`step_bytes_per_image`) only when it could come near the free memory:
    no method keeps more than ``ACTIVATIONS_PER_INPUT_BYTE`` bytes per byte of its input images.
    """
    available = available_memory(device) if available is None else available
    size = config.data.image_size
    if available is None or per_process_batch * 3 * size**2 * ACTIVATIONS_PER_INPUT_BYTE < available / 2:
        return
    sample = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8, device=device)
    try:
        per_image = step_bytes_per_image(method, sample)
    except (torch.OutOfMemoryError, MemoryError):
        raise NotEnoughMemory(
            f"data.image_size: even a step of 2 images at {size} px does not fit in {format_bytes(available)} "
            "of memory; lower data.image_size (or use a smaller backbone)") from None
    params = sum(p.nbytes for p in method.parameters())
    need = per_image * per_process_batch + 4 * params  # weights, gradients, two optimiser moments
    if need <= available:
        return
    fits = int((available - 4 * params) // max(per_image, 1))
    advice = (f"lower train.batch_size to {fits} or less" if fits >= 2
              else "lower data.image_size or use a smaller backbone")
    raise NotEnoughMemory(
        f"train.batch_size: a step of {per_process_batch} images at {size} px needs about {format_bytes(need)} "
        f"({format_bytes(per_image)} per image), but {format_bytes(available)} are free on {device.type}; {advice}"
    )

"""Where a training step's images come from: gathered from the uint8 store, or streamed from packed shards.

The trainer asks its batch source for the batches of an epoch from a given step on. A batch is
``(images, indices)`` on the training device: ``images`` is a uint8 B×3×H×W tensor gathered from the
store, or a :class:`~labbench.augment.DecodedCrops` whose crops (the method's crop plan) were cut from
the full-resolution images as they were decoded; ``indices`` is each image's position in the training
split (InstDisc's memory bank). Both orders depend only on the seed, the epoch, the rank and the world
size, so a stopped run resumes exactly where it left off.

Streamed batches are decoded by DataLoader workers on the CPU (PIL), or, when training on CUDA, read
by the workers and decoded on the GPU by nvJPEG (``torchvision.io.decode_jpeg(..., device="cuda")``, one
call per batch) with the crops cut there too. A batch's crop boxes are drawn from the full-resolution
sizes in the pack's index, before decoding, with a generator seeded by (seed, epoch, rank, step): the
crops do not depend on which worker decoded the batch, nor on where it was decoded.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from labbench import distributed
from labbench.augment import CropSpec, DecodedCrops
from labbench.augment.crops import crop_boxes, cut_crops, cut_crops_on_device
from labbench.data import ImageSet
from labbench.data.decode import UnreadableImage, decode_full
from labbench.data.encoded import EncodedImages
from labbench.data.packed import STREAM_ABOVE_BYTES
from labbench.data.sharding import rank_order, steps_per_epoch
from labbench.engine.device import physical_cores
from labbench.errors import DataError
from labbench.run_config import RunConfig

Batch = tuple[Tensor | DecodedCrops, Tensor]
#: at most this many decoding processes per training process unless ``data.workers`` asks for more
MAX_DEFAULT_WORKERS = 12


class BatchSource(Protocol):
    steps_per_epoch: int

    def prepare(self, method) -> None:
        """Called once the method is built: a streamed source reads its crop plan."""

    def epoch(self, epoch: int, start: int) -> Iterator[Batch]:
        """The batches of ``epoch`` from step ``start`` on, on the training device."""

    def describe(self) -> str:
        """One line for the run's log: where the batches come from."""


def batch_source(train: ImageSet, cfg: RunConfig, device: torch.device, world: int, rank: int) -> BatchSource:
    """Streamed batches for a streamed training side, else batches gathered from its uint8 store."""
    if train.streamed:
        return StreamBatches(train.images, cfg, device, world, rank)
    return StoreBatches(train.images, cfg, device, world, rank)


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


class StoreBatches:
    """Batches gathered from the uint8 store, which lives on the GPU when it takes under a quarter of its free memory.

    Every process draws the same permutation and keeps every world-th image of each batch (as
    DistributedSampler), so the processes together see exactly the one-process batches. On CUDA the
    index rows are pinned: copying one to the GPU then never stalls the host (no sync per step).
    """

    def __init__(self, images: Tensor, cfg: RunConfig, device: torch.device, world: int, rank: int) -> None:
        self.seed, self.batch_size = cfg.train.seed, cfg.train.batch_size
        self.world, self.rank, self.device = world, rank, device
        self.count = len(images)
        self.steps_per_epoch = self.count // self.batch_size
        self.nbytes = images.numel()
        self.large_folder = cfg.data.source == "folder" and self.nbytes > STREAM_ABOVE_BYTES
        if device.type == "cuda" and images.numel() < 0.25 * torch.cuda.mem_get_info(device)[0]:
            images = images.to(device)
        self.images = images

    def prepare(self, method) -> None:
        pass

    def describe(self) -> str:
        where = "GPU memory" if self.images.device.type == "cuda" else "memory"
        hint = ("; a set this large can stay encoded: pack it (labbench data pack FOLDER OUT) and train on "
                "data.source = 'shards' to stream it" if self.large_folder else "")
        return f"batches: gathered from the uint8 store ({_size(self.nbytes)} in {where}){hint}"

    def order(self, epoch: int) -> Tensor:
        """This process's indices into the training split, one row per step (steps × batch/world)."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        b = self.batch_size
        perm = torch.randperm(self.count, generator=g)[: self.steps_per_epoch * b]
        order = perm.view(self.steps_per_epoch, b)[:, self.rank :: self.world].contiguous()
        return order.pin_memory() if self.device.type == "cuda" else order

    def epoch(self, epoch: int, start: int) -> Iterator[Batch]:
        order = self.order(epoch)
        for idx in order[start:]:
            yield self._gather(idx), idx

    def _gather(self, idx: Tensor) -> Tensor:
        if self.images.device != self.device:
            batch = self.images[idx]
            if self.device.type == "cuda":
                batch = batch.pin_memory()
            return batch.to(self.device, non_blocking=True)
        return self.images[idx.to(self.device, non_blocking=True)]


# -- streaming -----------------------------------------------------------------------------------


def step_seed(seed: int, epoch: int, rank: int, step: int) -> int:
    """The seed of the crop boxes of one rank's batch ``step`` in ``epoch``."""
    return (((seed * 1_000_003 + epoch) * 10_007 + rank) * 1_000_000_007 + step) & (2**63 - 1)


@dataclass
class EncodedBatch:
    """What a worker hands the GPU path: nvJPEG-ready files as bytes, the others decoded on the CPU, the crop
    boxes of every image (B×P×4) and the positions."""

    jpegs: list[Tensor]          # uint8 1-d, the files of the images at ``jpeg_at``
    jpeg_at: list[int]
    decoded: list[Tensor]        # uint8 3×H×W, the images at ``decoded_at``
    decoded_at: list[int]
    boxes: Tensor
    positions: Tensor


@dataclass
class StreamFailure:
    """A worker could not read an image: the message the trainer reports (a worker's own traceback would bury it)."""

    message: str


class StreamedEpoch(Dataset):
    """Item k is step k of one rank's epoch: its images read from the shards, decoded and cut into the
    plan's crops on the CPU (``decode_here``), or read and boxed for the GPU to decode."""

    def __init__(self, images: EncodedImages, order: np.ndarray, plan: tuple[CropSpec, ...], seed: int,
                 epoch: int, rank: int, decode_here: bool) -> None:
        self.images, self.order, self.plan = images, order, plan
        self.seed, self.epoch, self.rank, self.decode_here = seed, epoch, rank, decode_here

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, step: int) -> tuple[DecodedCrops | EncodedBatch, Tensor] | StreamFailure:
        positions = self.order[step]
        heights, widths = self.images.full_sizes(positions)
        g = torch.Generator().manual_seed(step_seed(self.seed, self.epoch, self.rank, step))
        boxes = crop_boxes(heights, widths, self.plan, g)
        sizes = list(zip(positions.tolist(), heights.tolist(), widths.tolist()))
        try:
            if self.decode_here:
                return self._decoded(sizes, boxes), torch.from_numpy(positions)
            return self._encoded(sizes, boxes), torch.from_numpy(positions)
        except DataError as err:
            return StreamFailure(str(err))

    def _full(self, position: int, height: int, width: int) -> Tensor:
        """One image at its full resolution (which the index says is ``height``×``width``), uint8 3×H×W in
        channels-last memory (torch's fast uint8 resize path)."""
        name = self.images.name(position)
        try:
            pixels = decode_full(self.images.read(position), name)
        except UnreadableImage as err:  # decoded once when packed: failing now means the pack is damaged
            raise DataError(f"{err}; the pack is damaged, pack the folder again") from None
        if pixels.shape[:2] != (height, width):
            raise DataError(f"{name}: {pixels.shape[1]}×{pixels.shape[0]} px, but the index says {width}×{height}; "
                            "the pack is damaged, pack the folder again")
        return torch.from_numpy(pixels).permute(2, 0, 1)

    def _decoded(self, sizes: list[tuple[int, int, int]], boxes: Tensor) -> DecodedCrops:
        per_image = [cut_crops(self._full(*size), boxes[i], self.plan) for i, size in enumerate(sizes)]
        return DecodedCrops([torch.stack(crops) for crops in zip(*per_image)], self.plan)

    def _encoded(self, sizes: list[tuple[int, int, int]], boxes: Tensor) -> EncodedBatch:
        batch = EncodedBatch([], [], [], [], boxes, torch.tensor([p for p, _, _ in sizes]))
        for i, (position, height, width) in enumerate(sizes):
            if self.images.gpu_ready(position):
                batch.jpegs.append(torch.frombuffer(bytearray(self.images.read(position)), dtype=torch.uint8))
                batch.jpeg_at.append(i)
            else:
                batch.decoded.append(self._full(position, height, width).contiguous())
                batch.decoded_at.append(i)
        return batch


def decode_on_device(batch: EncodedBatch, plan: tuple[CropSpec, ...], device: torch.device) -> DecodedCrops:
    """nvJPEG decodes the batch's JPEGs in one call on ``device``; the plan's crops are cut there."""
    from torchvision.io import ImageReadMode, decode_jpeg

    images: list[Tensor | None] = [None] * len(batch.positions)
    if batch.jpegs:
        with warnings.catch_warnings():  # torchvision 0.29 deprecates its decoders in favour of TorchCodec
            warnings.simplefilter("ignore", DeprecationWarning)
            decoded = decode_jpeg(batch.jpegs, mode=ImageReadMode.RGB, device=device)
        for i, image in zip(batch.jpeg_at, decoded):
            images[i] = image
    for i, image in zip(batch.decoded_at, batch.decoded):
        images[i] = image.to(device, non_blocking=True)
    return DecodedCrops(cut_crops_on_device(images, batch.boxes, plan), plan)


def default_workers(local_processes: int) -> int:
    """Decoding processes for one training process: the spare physical cores of its share of the machine."""
    return max(1, min(MAX_DEFAULT_WORKERS, physical_cores() // max(1, local_processes) - 1))


class StreamBatches:
    """Batches streamed from packed shards: each rank reads its own shards (:func:`rank_order`), decodes
    the full-resolution images and cuts the method's crops from them."""

    def __init__(self, images: EncodedImages, cfg: RunConfig, device: torch.device, world: int, rank: int) -> None:
        self.images, self.device, self.world, self.rank = images, device, world, rank
        self.seed, self.batch_size = cfg.train.seed, cfg.train.batch_size
        self.groups = images.groups()
        self.steps_per_epoch = steps_per_epoch([len(g) for g in self.groups], self.batch_size, world)
        self.on_device = device.type == "cuda" and cfg.data.decode_on != "cpu"
        self.note = ("; data.decode_on = 'cuda' needs training on CUDA, so the CPU decodes"
                     if cfg.data.decode_on == "cuda" and device.type != "cuda" else "")
        self.workers = (default_workers(distributed.local_world_size()) if cfg.data.workers is None
                        else cfg.data.workers)
        self.plan: tuple[CropSpec, ...] = ()

    def prepare(self, method) -> None:
        self.plan = method.crop_plan()

    def describe(self) -> str:
        if self.on_device:
            where = "decoded on the GPU (nvJPEG)"
        elif self.workers:
            where = f"decoded on the CPU in {self.workers} worker process{'es' if self.workers != 1 else ''}"
        else:
            where = "decoded on the CPU in the training process"
        mine = f", {len(self.groups[self.rank :: self.world])} per process" if self.world > 1 else ""
        crops = "; ".join(str(spec) for spec in self.plan)
        return (f"batches: streamed from {len(self.groups)} shard{'s' if len(self.groups) != 1 else ''}{mine}, "
                f"{where}; cut from the full-resolution images: {crops}{self.note}")

    def epoch(self, epoch: int, start: int) -> Iterator[Batch]:
        if not self.plan:
            raise RuntimeError("StreamBatches.prepare(method) must be called before the first epoch")
        order = rank_order(self.groups, self.batch_size, self.world, self.rank, self.seed, epoch)
        dataset = StreamedEpoch(self.images, order, self.plan, self.seed, epoch, self.rank,
                                decode_here=not self.on_device)
        workers = self.workers
        loader = DataLoader(
            dataset, batch_size=None, sampler=range(start, len(order)), num_workers=workers,
            pin_memory=self.device.type == "cuda", prefetch_factor=2 if workers else None,
            # trained from a worker thread (the window's): fork would copy a process whose other threads (Qt's)
            # hold locks the child then waits on for ever; spawn starts clean
            multiprocessing_context="spawn" if workers and threading.current_thread() is not threading.main_thread()
            else None,
        )
        for item in loader:
            if isinstance(item, StreamFailure):
                raise DataError(item.message)
            crops, positions = item
            if self.on_device:
                yield decode_on_device(crops, self.plan, self.device), positions
            else:
                yield crops.to(self.device, non_blocking=True), positions

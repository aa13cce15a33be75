"""The first op of every view, the crop, taken from the uint8 store on the device or cut at decode time.

A view starts with a crop of the image: a random resized crop (SimCLR, BYOL, MoCo, DINO's global and
local crops, MAE, the pretext methods' crop-and-flip) or the whole image (relative patch location, whose
grid is placed at random already). :class:`CropSpec` names one such crop; a method's *crop plan* is the
list of crops one training step takes from each image, in order (``Method.crop_plan``).

Where the crop is taken depends on where the images are:

- from the uint8 store (small sets), :func:`take_crop` cuts it on the device from the stored image, with
  per-sample parameters drawn from the step's generator, as it always has;
- from packed shards (large sets), the crops of the whole plan are cut as each image is decoded, from the
  image at its full resolution (:func:`cut_crops` in DataLoader workers on the CPU, :func:`cut_crops_on_device`
  after nvJPEG on the GPU), and arrive as :class:`DecodedCrops`; :func:`take_crop` then hands each view its
  crop in plan order, and everything after the crop (flip, colour, blur, solarize, masks, tiles) runs on the
  device exactly as for the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import roi_align
from torchvision.transforms.v2 import functional as TF

from labbench.augment.ops import resized_crop, sample_crop_boxes, to_float01

DEFAULT_RATIO = (3 / 4, 4 / 3)


@dataclass(frozen=True)
class CropSpec:
    """One crop cut from each image: a random resized crop (area share uniform in ``scale``, aspect ratio
    log-uniform in ``ratio``, torchvision's RandomResizedCrop) resampled to size×size, or, with ``scale``
    None, the whole image fitted to size×size (shorter side, centre square)."""

    size: int
    scale: tuple[float, float] | None = None
    ratio: tuple[float, float] = DEFAULT_RATIO

    def __str__(self) -> str:
        if self.scale is None:
            return f"the whole image at {self.size} px"
        return f"a {self.scale[0]:g}–{self.scale[1]:g} area crop at {self.size} px"


class DecodedCrops:
    """One training batch whose crops were cut from the full-resolution images as they were decoded:
    ``crops[j]`` is uint8 B×3×s×s for ``plan[j]``.

    :func:`take_crop` hands them out in plan order; a second pass over the plan (a step run again) gets
    the same crops again. It stands where the uint8 batch would be: ``len()`` is the batch size.
    """

    def __init__(self, crops: Sequence[Tensor], plan: Sequence[CropSpec]) -> None:
        if len(crops) != len(plan):
            raise ValueError(f"{len(crops)} crops for a plan of {len(plan)}")
        self.crops, self.plan = list(crops), tuple(plan)
        self._next = 0

    def __len__(self) -> int:
        return self.crops[0].shape[0]

    @property
    def device(self) -> torch.device:
        return self.crops[0].device

    def take(self, spec: CropSpec) -> Tensor:
        """The next crop of the plan, which must be ``spec``."""
        j = self._next
        if self.plan[j] != spec:
            raise RuntimeError(f"this batch was cut for {self.plan[j]} as crop {j + 1} of its plan, but the step "
                               f"asked for {spec}: the method's views no longer follow its crop plan")
        self._next = (j + 1) % len(self.plan)
        return self.crops[j]

    def to(self, device: torch.device | str, non_blocking: bool = False) -> DecodedCrops:
        return DecodedCrops([c.to(device, non_blocking=non_blocking) for c in self.crops], self.plan)

    def pin_memory(self) -> DecodedCrops:
        """Page-locked copies (what DataLoader's ``pin_memory`` calls), so the copy to the GPU does not stall the host."""
        return DecodedCrops([c.pin_memory() for c in self.crops], self.plan)


class CropRecorder(DecodedCrops):
    """Stands in for ``batch`` images on ``device`` and notes every crop asked of it: a method's crop plan."""

    def __init__(self, batch: int, device: torch.device | str) -> None:
        self.batch, self._device = batch, torch.device(device)
        self.plan: tuple[CropSpec, ...] = ()

    def __len__(self) -> int:
        return self.batch

    @property
    def device(self) -> torch.device:
        return self._device

    def take(self, spec: CropSpec) -> Tensor:
        self.plan += (spec,)
        return torch.zeros(self.batch, 3, spec.size, spec.size, dtype=torch.uint8, device=self._device)


def check_images(images: Tensor) -> None:
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"expected uint8 images B×3×H×W, got {images.dtype} of shape {tuple(images.shape)}")


def take_crop(images: Tensor | DecodedCrops, spec: CropSpec, g: torch.Generator) -> Tensor:
    """The crop ``spec`` of every image, float32 B×3×s×s in [0, 1]: cut now from uint8 B×3×H×W ``images``
    (parameters drawn from ``g``, on their device), or taken from a batch cut at decode time."""
    if isinstance(images, DecodedCrops):
        return to_float01(images.take(spec))
    check_images(images)
    if g.device.type != images.device.type:
        raise ValueError(f"the generator is on {g.device} but the images are on {images.device}; "
                         "make it with torch.Generator(device=images.device)")
    n, _, height, width = images.shape
    x = to_float01(images)
    if spec.scale is None:
        if (height, width) == (spec.size, spec.size):
            return x
        side = min(height, width)
        box = torch.tensor([(height - side) // 2, (width - side) // 2, side, side], device=images.device)
        return resized_crop(x, box.expand(n, 4), spec.size)
    return resized_crop(x, sample_crop_boxes(n, height, width, spec.scale, spec.ratio, g), spec.size)


# -- cutting the plan's crops from full-resolution images, at decode time ---------------------------------


def crop_boxes(heights: Tensor, widths: Tensor, plan: Sequence[CropSpec], g: torch.Generator) -> Tensor:
    """Every image's box (top, left, height, width) for every plan entry: int64 B×P×4 for images of the
    given full-resolution ``heights`` and ``widths`` (B each).

    The random ones are torchvision's RandomResizedCrop parameters (:func:`sample_crop_boxes`), drawn
    from ``g`` entry by entry; the whole-image ones are the centre squares.
    """
    heights, widths = torch.as_tensor(heights, dtype=torch.int64), torch.as_tensor(widths, dtype=torch.int64)
    side = torch.minimum(heights, widths)
    squares = torch.stack([(heights - side) // 2, (widths - side) // 2, side, side], dim=1)
    return torch.stack([
        squares if spec.scale is None else sample_crop_boxes(len(heights), heights, widths, spec.scale, spec.ratio, g)
        for spec in plan
    ], dim=1)


def cut_crops(image: Tensor, boxes: Tensor, plan: Sequence[CropSpec]) -> list[Tensor]:
    """The plan's crops of one uint8 3×H×W image (``boxes``: P×4), each uint8 3×s×s: torchvision's ``resized_crop``
    (bilinear, antialiased), so each is what RandomResizedCrop gives for that box. The CPU path."""
    return [TF.resized_crop(image, *(int(v) for v in box), [spec.size, spec.size], antialias=True)
            for box, spec in zip(boxes, plan)]


def cut_crops_on_device(images: Sequence[Tensor], boxes: Tensor, plan: Sequence[CropSpec]) -> list[Tensor]:
    """The plan's crops of a batch of uint8 3×H×W images of any sizes (on one device): uint8 B×3×s×s per
    plan entry. ``boxes``: B×P×4 (top, left, height, width).

    One ``roi_align`` per image and crop size cuts all its crops of that size at once (what a GPU needs:
    a few kernels per image, not a few per crop). Its adaptive sampling averages ⌈box/size⌉² bilinear
    samples per output pixel, an area filter where torchvision's antialiasing uses a triangle one: the
    crops agree with :func:`cut_crops` to a few grey levels. The GPU path after nvJPEG.
    """
    device = images[0].device
    boxes = boxes.to(device, non_blocking=True).to(torch.float32)
    top, left, height, width = boxes.unbind(dim=-1)
    # roi_align's boxes: (batch index, x1, y1, x2, y2) in pixel edges; aligned=True samples pixel centres
    rois = torch.stack([torch.zeros_like(top), left, top, left + width, top + height], dim=-1)
    by_size: dict[int, list[int]] = defaultdict(list)
    for j, spec in enumerate(plan):
        by_size[spec.size].append(j)
    out: list[Tensor | None] = [None] * len(plan)
    for size, entries in by_size.items():
        crops = torch.stack([
            roi_align(image[None].float(), rois[i, entries], output_size=size, sampling_ratio=-1, aligned=True)
            for i, image in enumerate(images)
        ])  # B×k×3×s×s
        crops = crops.round_().clamp_(0, 255).to(torch.uint8)
        for k, j in enumerate(entries):
            out[j] = crops[:, k].contiguous()
    return out

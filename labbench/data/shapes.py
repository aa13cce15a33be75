"""The built-in shapes set: ten geometric shapes drawn with random colour, size, rotation and position
on varied backgrounds, each with its exact object mask.

Only the outline carries the label: colour, background, size, position and rotation are drawn
independently of it. The nuisances are the ones the lecture's views remove (position and scale: the
crop; colour: jitter and grayscale) or have few values (a palette of 8 colours and three background
families shared by every class; objects upright within ±20°), so raw pixels stay weak (pixel k-NN
28 % at the defaults, chance 10 %) while a pooling CNN can learn the outline. ``palette_size = 0``
brings back instance-unique free colours: the shortcut that contrastive learning takes instead of
the shape (the ``colour_shortcut`` study).

Shapes are signed-distance functions evaluated on the pixel grid; the edge is anti-aliased
analytically (coverage = clamp(0.5 − distance in pixels, 0, 1)), so one sample per pixel gives a
smooth outline at any size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from labbench.config import DataConfig
from labbench.data.split import holdout_split
from labbench.data.store import ImageSet, Split
from labbench.errors import DataError

# -- signed distances in the shape's own frame (the shape fits the unit disc, y points up) -------
# Each takes the x and y coordinate tensors separately: tiny trailing dimensions are slow in torch.


def _circle(x: Tensor, y: Tensor, r: float) -> Tensor:
    return torch.hypot(x, y) - r


def _box(x: Tensor, y: Tensor, hx: float, hy: float) -> Tensor:
    dx, dy = x.abs() - hx, y.abs() - hy
    return torch.hypot(dx.clamp(min=0), dy.clamp(min=0)) + torch.maximum(dx, dy).clamp(max=0)


def _convex(x: Tensor, y: Tensor, vertices: list[tuple[float, float]]) -> Tensor:
    """Distance to a convex polygon (counter-clockwise) as the largest distance to its edges' lines:
    exact on and inside the outline, slightly short outside corners, which anti-aliasing never sees."""
    out = None
    for (ax, ay), (bx, by) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        length = math.hypot(bx - ax, by - ay)
        nx, ny = (by - ay) / length, (ax - bx) / length  # outward normal
        d = (x - ax) * nx + (y - ay) * ny
        out = d if out is None else torch.maximum(out, d)
    return out


def _star(x: Tensor, y: Tensor, r: float, sharpness: float) -> Tensor:
    # Quilez's five-pointed star: fold the plane onto one spike by its mirror lines, then one edge.
    k1x, k1y = 0.809016994375, -0.587785252292
    x = x.abs()
    for kx in (k1x, -k1x):
        fold = 2 * (kx * x + k1y * y).clamp(min=0)
        x, y = x - fold * kx, y - fold * k1y
    x, y = x.abs(), y - r
    bax, bay = -sharpness * k1y, sharpness * k1x - 1.0
    h = ((x * bax + y * bay) / (bax * bax + bay * bay)).clamp(0, r)
    return torch.hypot(x - bax * h, y - bay * h) * torch.sign(y * bax - x * bay)


def _ellipse(x: Tensor, y: Tensor, a: float, b: float) -> Tensor:
    # Quilez's first-order estimate: exact on the outline, close near it, which is all the edge needs.
    k0 = torch.hypot(x / a, y / b)
    k1 = torch.hypot(x / (a * a), y / (b * b)).clamp(min=1e-9)
    return k0 * (k0 - 1.0) / k1


def _heart(x: Tensor, y: Tensor) -> Tensor:
    # Quilez's exact heart (tip at the origin, lobes up to y≈1.1), scaled and centred on the unit disc.
    s = 1.6
    x, y = x.abs() / s, y / s + 0.55
    upper = torch.hypot(x - 0.25, y - 0.75) - math.sqrt(2) / 4
    tip = x.square() + (y - 1.0).square()
    half = 0.5 * (x + y).clamp(min=0)
    lower = torch.minimum(tip, (x - half).square() + (y - half).square()).sqrt() * torch.sign(x - y)
    return torch.where(x + y > 1.0, upper, lower) * s


def _triangle(r: float) -> list[tuple[float, float]]:
    return [(r * math.cos(a), r * math.sin(a)) for a in (math.pi / 2, math.pi * 7 / 6, math.pi * 11 / 6)]


SHAPES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "circle": lambda x, y: _circle(x, y, 0.8),
    "ellipse": lambda x, y: _ellipse(x, y, 1.0, 0.45),
    "ring": lambda x, y: (torch.hypot(x, y) - 0.74).abs() - 0.22,
    "triangle": lambda x, y: _convex(x, y, _triangle(1.0)),
    "square": lambda x, y: _box(x, y, 0.7, 0.7),
    "star": lambda x, y: _star(x, y, 1.0, 0.45),
    "cross": lambda x, y: torch.minimum(_box(x, y, 0.95, 0.28), _box(x, y, 0.28, 0.95)),
    "crescent": lambda x, y: torch.maximum(_circle(x, y, 0.9), -_circle(x - 0.45, y, 0.75)),
    "heart": _heart,
    "arrow": lambda x, y: torch.minimum(
        _box(x + 0.45, y, 0.55, 0.17), _convex(x, y, [(1.0, 0.0), (0.05, 0.6), (0.05, -0.6)])
    ),
}
CLASS_NAMES = list(SHAPES)

BACKGROUNDS = ("flat", "gradient", "noise", "stripes", "checker")
_NOISE_GRID = 6
_PIXELS_PER_CHUNK = 1 << 21  # bounds the float temporaries of one chunk (about 8 MB each)

#: well-separated colours (sRGB in [0, 1]); a palette of size k uses the first k
PALETTE = torch.tensor([
    (0.10, 0.10, 0.12),  # black
    (0.94, 0.94, 0.90),  # white
    (0.85, 0.15, 0.15),  # red
    (0.95, 0.85, 0.25),  # yellow
    (0.20, 0.35, 0.85),  # blue
    (0.25, 0.70, 0.30),  # green
    (0.95, 0.55, 0.15),  # orange
    (0.50, 0.25, 0.65),  # purple
    (0.30, 0.80, 0.85),  # cyan
    (0.50, 0.50, 0.50),  # grey
    (0.95, 0.60, 0.75),  # pink
    (0.50, 0.30, 0.15),  # brown
])
#: an object and its background differ by at least this much luma, so a grayscale view keeps the object
MIN_LUMA_GAP = 0.2
#: half the spread of a palette background's pattern (gradient, noise, …) around its colour
PATTERN_SPREAD = 0.07
_LUMA = torch.tensor([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class ShapesStyle:
    """The nuisances of a generated set (``DataConfig``'s shapes fields): what varies besides the outline."""

    palette_size: int = 8
    rotation_range: float = 20.0  # degrees either way; 180 = any angle
    object_scale: tuple[float, float] = (0.18, 0.38)  # radius as a share of the image side
    backgrounds: tuple[str, ...] = ("flat", "gradient", "noise")

    @classmethod
    def from_config(cls, cfg: DataConfig) -> ShapesStyle:
        return cls(cfg.palette_size, cfg.rotation_range, tuple(cfg.object_scale), tuple(cfg.backgrounds))


def palette_pairs(size: int) -> Tensor:
    """Every (object, background) index pair of the first ``size`` palette colours whose luma differs
    by at least MIN_LUMA_GAP, as a P×2 long tensor."""
    luma = PALETTE[:size] @ _LUMA
    gap = (luma[:, None] - luma[None, :]).abs()
    return (gap >= MIN_LUMA_GAP).nonzero()


def coverage(classes: Tensor, centres: Tensor, radii: Tensor, angles: Tensor, size: int) -> Tensor:
    """Float B×size×size share of each pixel covered by shape ``classes[i]`` (index into CLASS_NAMES),
    centred at ``centres[i]`` (x, y in pixels), ``radii[i]`` pixels across its unit disc, turned by
    ``angles[i]`` radians (counter-clockwise)."""
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    xs, ys = xs.reshape(1, -1), ys.reshape(1, -1)
    out = torch.empty(len(classes), size * size)
    for k, shape in enumerate(SHAPES.values()):
        idx = (classes == k).nonzero().squeeze(1)
        cos, sin = angles[idx, None].cos(), angles[idx, None].sin()
        scale = radii[idx, None]
        dx, dy = (xs - centres[idx, 0, None]) / scale, (ys - centres[idx, 1, None]) / scale
        # rotate by −angle into the shape's frame, where y points up (it points down in the image)
        dist_px = shape(cos * dx + sin * dy, sin * dx - cos * dy) * scale
        out[idx] = (0.5 - dist_px).clamp_(0, 1)
    return out.reshape(-1, size, size)


def _pattern(kind: str, along: Tensor, across: Tensor, freq: Tensor, phase: Tensor, noise: Tensor) -> Tensor:
    """B×H×W mixing weights in [0, 1] between a background's two colours."""
    if kind == "gradient":
        return along + 0.5
    if kind == "stripes":
        return 0.5 + 0.5 * torch.sin(2 * math.pi * freq * along + phase)
    if kind == "checker":
        return (torch.floor(freq * along + phase) + torch.floor(freq * across + phase)) % 2
    if kind == "noise":
        size = along.shape[-1]
        return F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False).squeeze(1).clamp(0, 1)
    return torch.zeros_like(along)


def _draw_colours(rng: np.random.Generator, n: int, palette_size: int) -> tuple[Tensor, Tensor, Tensor]:
    """n×3×1×1 object colours, background colours and the background pattern's second colours.

    From a palette: a random allowed (object, background) pair, the pattern a small luma step away.
    Free colours: uniform colours, the pattern's second colour up to 0.25 away per channel, and an
    object colour turned away from a background it would blend into (see :func:`_foreground`).
    """
    if palette_size:
        pairs = palette_pairs(palette_size)
        if len(pairs) == 0:
            raise DataError(f"data.palette_size: {palette_size} colours leave no object/background pair "
                            f"{MIN_LUMA_GAP:g} luma apart; use at least 2")
        obj, bg = pairs[torch.from_numpy(rng.integers(len(pairs), size=n))].unbind(1)
        sign = torch.from_numpy(rng.choice([-1.0, 1.0], size=(n, 1, 1, 1))).float()
        base = PALETTE[bg][..., None, None]
        other = (base + 2 * PATTERN_SPREAD * sign).clamp(0, 1)
        return PALETTE[obj][..., None, None], base, other
    base = torch.from_numpy(rng.uniform(0, 1, (n, 3, 1, 1))).float()
    other = (base + torch.from_numpy(rng.uniform(-0.25, 0.25, (n, 3, 1, 1))).float()).clamp(0, 1)
    colour = torch.from_numpy(rng.uniform(0, 1, (n, 3, 1, 1))).float()
    shift = torch.from_numpy(rng.uniform(-0.15, 0.15, (n, 3, 1, 1))).float()
    return _foreground(base, other, colour, shift), base, other


def _foreground(base: Tensor, other: Tensor, colour: Tensor, shift: Tensor) -> Tensor:
    """Free colours: the random ``colour``, unless it is close to the background's mean colour; then
    every channel of that mean is turned half-way round (plus a random ``shift``)."""
    mean = (base + other) / 2
    close = (colour - mean).norm(dim=1, keepdim=True) < 0.5
    return torch.where(close, (mean + 0.5 + shift) % 1.0, colour)


def _draw_backgrounds(rng: np.random.Generator, n: int, kinds: tuple[str, ...]) -> dict[str, Tensor]:
    """Per-image background parameters: a pattern kind (index into BACKGROUNDS), direction, frequency,
    phase and a coarse noise grid. Drawn up front, so that a set looks the same at every image size."""
    allowed = torch.tensor([BACKGROUNDS.index(kind) for kind in kinds])
    return {
        "kind": allowed[torch.from_numpy(rng.integers(len(allowed), size=n))],
        "theta": torch.from_numpy(rng.uniform(0, 2 * math.pi, (n, 1, 1))).float(),
        "freq": torch.from_numpy(rng.uniform(2.0, 5.0, (n, 1, 1))).float(),  # periods per image
        "phase": torch.from_numpy(rng.uniform(0, 2 * math.pi, (n, 1, 1))).float(),
        "noise": torch.from_numpy(rng.uniform(0, 1, (n, 1, _NOISE_GRID, _NOISE_GRID))).float(),
    }


def _backgrounds(p: dict[str, Tensor], base: Tensor, other: Tensor, size: int) -> Tensor:
    """Float n×3×size×size in [0, 1]: each image's two colours mixed by its pattern."""
    ys, xs = torch.meshgrid(torch.linspace(-0.5, 0.5, size), torch.linspace(-0.5, 0.5, size), indexing="ij")
    mix = torch.empty(len(p["kind"]), 1, size, size)
    for k, name in enumerate(BACKGROUNDS):
        idx = (p["kind"] == k).nonzero().squeeze(1)
        cos, sin = p["theta"][idx].cos(), p["theta"][idx].sin()
        along, across = xs * cos + ys * sin, ys * cos - xs * sin  # coordinates along a random direction
        mix[idx, 0] = _pattern(name, along, across, p["freq"][idx], p["phase"][idx], p["noise"][idx])
    return base + (other - base) * mix


@lru_cache(maxsize=4)
def generate_shapes(num_images: int, image_size: int, seed: int, style: ShapesStyle = ShapesStyle()) -> ImageSet:
    """``num_images`` shapes images at ``image_size`` px, balanced over the classes; deterministic by seed."""
    rng = np.random.default_rng(seed)
    n = num_images
    labels = torch.from_numpy(rng.permutation(np.arange(n) % len(SHAPES)))
    radii = torch.from_numpy(rng.uniform(*style.object_scale, n) * image_size).float()
    margin = radii * 0.95  # keeps the shape's unit disc (almost) inside the image
    centres = margin[:, None] + torch.from_numpy(rng.uniform(0, 1, (n, 2))).float() * (image_size - 2 * margin)[:, None]
    turn = math.radians(style.rotation_range)
    angles = torch.from_numpy(rng.uniform(-turn, turn, n)).float()
    backgrounds = _draw_backgrounds(rng, n, style.backgrounds)
    colours, bases, others = _draw_colours(rng, n, style.palette_size)

    images = torch.empty(n, 3, image_size, image_size, dtype=torch.uint8)
    masks = torch.empty(n, image_size, image_size, dtype=torch.bool)
    step = max(1, _PIXELS_PER_CHUNK // (image_size * image_size))
    for start in range(0, n, step):
        part = slice(start, start + step)
        background = _backgrounds({key: value[part] for key, value in backgrounds.items()},
                                  bases[part], others[part], image_size)
        alpha = coverage(labels[part], centres[part], radii[part], angles[part], image_size)
        masks[part] = alpha >= 0.5
        image = background + (colours[part] - background) * alpha[:, None]
        images[part] = (image * 255).round_().clamp_(0, 255).to(torch.uint8)
    return ImageSet(images=images, labels=labels.long(), masks=masks, class_names=list(CLASS_NAMES), name="shapes")


def load_shapes(cfg: DataConfig) -> Split:
    """The shapes set of ``cfg.num_images`` images, split by ``cfg.eval_fraction`` (stratified)."""
    if cfg.num_images <= 0:
        raise DataError("data.num_images: the shapes set is generated, give how many images to make (e.g. 6000)")
    data = generate_shapes(cfg.num_images, cfg.image_size, cfg.seed, ShapesStyle.from_config(cfg))
    return holdout_split(data, cfg.eval_fraction, cfg.seed)

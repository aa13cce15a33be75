"""Arrays to pictures for the inspectors: heat maps, outlines, thumbnails, and image items made once.

Every picture here is an H×W×3 or H×W×4 uint8 array, row 0 at the top (``row-major`` ImageItems).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPixmap

from ui.widgets.image_view import rgb_to_qimage

HEAT_MAP = pg.colormap.get("inferno")


def image_item() -> pg.ImageItem:
    """An ImageItem for H×W(×C) arrays with row 0 at the top (combine with an inverted-y ViewBox)."""
    return pg.ImageItem(axisOrder="row-major")


def heat_rgba(values: np.ndarray, alpha: float = 0.6, colour_map: pg.ColorMap = HEAT_MAP) -> np.ndarray:
    """An H×W map scaled to its own range, coloured, with a constant ``alpha``: H×W×4 uint8."""
    v = np.asarray(values, dtype=np.float32)
    span = float(v.max() - v.min())
    v = (v - v.min()) / span if span > 0 else np.zeros_like(v)
    rgba = colour_map.map(v.ravel(), mode="byte").reshape(*v.shape, -1)[..., :4].copy()
    rgba[..., 3] = round(255 * alpha)
    return rgba


def outline(mask: np.ndarray) -> np.ndarray:
    """The border pixels of a bool H×W mask (inside the mask, next to the outside)."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return m[1:-1, 1:-1] & ~inner


def paint(rgb: np.ndarray, where: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """``rgb`` with the pixels of ``where`` set to ``colour`` (a copy)."""
    out = np.array(rgb, dtype=np.uint8, copy=True)
    out[where] = colour
    return out


def to_rgb8(pictures: np.ndarray) -> np.ndarray:
    """Float pictures in [0, 1] (or uint8 already) as uint8."""
    if pictures.dtype == np.uint8:
        return pictures
    return (np.clip(pictures, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def pixmap(rgb: np.ndarray, side: int) -> QPixmap:
    """An H×W×3 uint8 picture scaled to ``side`` px, pixels kept sharp."""
    return QPixmap.fromImage(rgb_to_qimage(rgb)).scaled(
        side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


def icon(rgb: np.ndarray, side: int) -> QIcon:
    return QIcon(pixmap(rgb, side))


def chw_to_hwc(images) -> np.ndarray:
    """uint8 N×3×H×W (tensor or array) as N×H×W×3."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 2, 3, 1))

"""Showing images: tensor/array -> QImage conversions and a zoom-to-fit view with a mask overlay."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An H×W×3 uint8 array as a QImage that owns its pixels (safe to send across threads)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def tensor_to_qimage(image: torch.Tensor) -> QImage:
    """A uint8 3×H×W tensor (one dataset image) as a QImage."""
    return rgb_to_qimage(image.detach().cpu().permute(1, 2, 0).numpy())


def float_to_qimage(image: np.ndarray) -> QImage:
    """An H×W×3 float picture in [0, 1] (a preview panel) as a QImage."""
    return rgb_to_qimage((np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def mask_to_qimage(mask: torch.Tensor, colour: QColor) -> QImage:
    """A bool H×W mask as a translucent ARGB overlay in ``colour``."""
    m = mask.detach().cpu().numpy().astype(bool)
    rgba = np.zeros((*m.shape, 4), dtype=np.uint8)
    rgba[m] = (colour.red(), colour.green(), colour.blue(), 140)
    h, w = m.shape
    return QImage(np.ascontiguousarray(rgba).data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class ImageView(QWidget):
    """One image scaled to fit, pixels kept sharp (datasets are tiny), with an optional overlay."""

    def __init__(self, parent: QWidget | None = None, min_side: int = 96) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._overlay = QImage()
        self._show_overlay = False
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage, overlay: QImage | None = None) -> None:
        self._image = image
        self._overlay = overlay if overlay is not None else QImage()
        self.update()

    def set_overlay_visible(self, visible: bool) -> None:
        self._show_overlay = visible
        self.update()

    def has_overlay(self) -> bool:
        return not self._overlay.isNull()

    def image(self) -> QImage:
        return self._image

    def sizeHint(self) -> QSize:
        return QSize(256, 256)

    def target_rect(self) -> QRectF:
        """Where the image is drawn: the largest centred rectangle with the image's aspect."""
        if self._image.isNull():
            return QRectF()
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        if self._image.isNull():
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No image selected")
            return
        rect = self.target_rect()
        painter.drawImage(rect, self._image)
        if self._show_overlay and not self._overlay.isNull():
            painter.drawImage(rect, self._overlay)

"""Small drawn icons for the Inspect navigator: each shows in miniature what its view draws.

Drawn with QPainter (no image files to ship or lose), in colours that read on both themes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

SIZE = 32
BLUE, ORANGE, GREEN, RED, GREY = (QColor(c) for c in ("#4c8bf5", "#f5a142", "#3fb96b", "#e25555", "#8a9099"))


def _attention(p: QPainter) -> None:
    heat = [[0.1, 0.2, 0.2, 0.1], [0.2, 0.9, 0.7, 0.2], [0.2, 0.8, 1.0, 0.3], [0.1, 0.2, 0.3, 0.1]]
    for r, row in enumerate(heat):
        for c, v in enumerate(row):
            colour = QColor(ORANGE)
            colour.setAlphaF(0.15 + 0.85 * v)
            p.fillRect(QRectF(3 + 6.5 * c, 3 + 6.5 * r, 6, 6), colour)


def _reconstruction(p: QPainter) -> None:
    for r in range(4):
        for c in range(4):
            masked = (r * 4 + c) % 3 != 0  # MAE hides three patches in four
            p.fillRect(QRectF(3 + 6.5 * c, 3 + 6.5 * r, 6, 6), GREY if masked else BLUE)


def _embeddings(p: QPainter) -> None:
    for colour, (cx, cy) in ((BLUE, (10, 11)), (ORANGE, (22, 10)), (GREEN, (15, 22))):
        p.setBrush(colour)
        for k in range(5):
            a = 2 * math.pi * k / 5
            p.drawEllipse(QPointF(cx + 4 * math.cos(a), cy + 4 * math.sin(a)), 1.8, 1.8)


def _collapse(p: QPainter) -> None:
    p.setPen(QPen(GREY, 1.5, Qt.PenStyle.DashLine))
    p.drawLine(QPointF(3, 9), QPointF(29, 9))
    p.setPen(QPen(RED, 2.5))
    points = [QPointF(3 + 26 * t / 6, 10 + 18 * (1 - math.exp(-t / 1.8))) for t in range(7)]
    p.drawPolyline(points)


def _affinity(p: QPainter) -> None:
    for r in range(4):
        for c in range(4):
            colour = ORANGE if abs(r - c) == 2 else BLUE if r == c else QColor(GREY.red(), GREY.green(), GREY.blue(), 90)
            p.fillRect(QRectF(3 + 6.5 * c, 3 + 6.5 * r, 6, 6), colour)


def _evaluation(p: QPainter) -> None:
    for i, (h, colour) in enumerate(((10, GREY), (16, GREY), (24, GREEN))):
        p.fillRect(QRectF(4 + 9 * i, 29 - h, 7, h), colour)


def _pretext(p: QPainter) -> None:
    p.setPen(QPen(BLUE, 2))
    p.translate(16, 16)
    for _ in range(4):  # the four rotations
        p.drawRect(QRectF(2, 2, 9, 9))
        p.rotate(90)
    p.resetTransform()


def _infonce(p: QPainter) -> None:
    p.setPen(QPen(GREY, 1.5))
    p.drawEllipse(QPointF(16, 16), 12, 12)
    for colour, angle in ((BLUE, 0.0), (GREEN, 0.5), (RED, 2.4), (RED, -2.0)):
        p.setPen(QPen(colour, 1.2))
        end = QPointF(16 + 12 * math.cos(angle), 16 - 12 * math.sin(angle))
        p.drawLine(QPointF(16, 16), end)
        p.setBrush(colour)
        p.drawEllipse(end, 2.6, 2.6)


def _simulator(p: QPainter) -> None:
    p.setPen(QPen(GREY, 1.5))
    p.drawEllipse(QPointF(16, 16), 12, 12)
    p.setPen(Qt.PenStyle.NoPen)
    for colour, centre in ((BLUE, 0.4), (ORANGE, 2.5), (GREEN, 4.4)):
        p.setBrush(colour)
        for k in (-0.25, 0.0, 0.25):
            p.drawEllipse(QPointF(16 + 12 * math.cos(centre + k), 16 - 12 * math.sin(centre + k)), 2.2, 2.2)


DRAWINGS: dict[str, Callable[[QPainter], None]] = {
    "attention": _attention, "reconstruction": _reconstruction, "embeddings": _embeddings,
    "collapse": _collapse, "affinity": _affinity, "evaluation": _evaluation, "pretext": _pretext,
    "infonce": _infonce, "simulator": _simulator,
}


def view_icon(name: str, title: str = "") -> QIcon:
    """The icon drawn for ``name``; an unknown one gets the title's initial in a rounded square."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw = DRAWINGS.get(name)
    if draw is not None:
        draw(p)
    else:
        p.setPen(QPen(BLUE, 2))
        p.drawRoundedRect(QRectF(3, 3, 26, 26), 5, 5)
        p.drawText(QRectF(3, 3, 26, 26), Qt.AlignmentFlag.AlignCenter, (title or "?")[:1].upper())
    p.end()
    return QIcon(pixmap)

"""The inspectors' pyqtgraph plots in the window's theme, and restyled when the person switches it.

pyqtgraph does not follow the Qt palette, so each inspector draws its plots from
:func:`ui.theme.current_theme` and :class:`ThemedWidget` calls its ``restyle`` once the
application's palette has changed (the theme is applied palette first, so the restyle waits for
the event loop to come round).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from ui.theme import current_theme


def class_colour(index: int) -> QColor:
    """A distinct colour per class label: the theme's curve colours, then hues a golden angle apart
    (bright enough for the dark theme, saturated enough for the light one)."""
    curves = current_theme().curves
    if 0 <= index < len(curves):
        return QColor(curves[index])
    return QColor.fromHsv(round(index * 137.5) % 360, 170, 225)


def style_plot(plot: pg.PlotItem, title: str | None = None) -> None:
    """Axes and title of one plot in the current theme's foreground colour."""
    fg = current_theme().plot_foreground
    if title is not None:
        plot.setTitle(title, color=fg, size="10pt")
    for side in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(fg))
        axis.setTextPen(pg.mkPen(fg))


def style_canvas(widget: pg.GraphicsView) -> None:
    """The background of a PlotWidget / GraphicsLayoutWidget in the current theme."""
    widget.setBackground(current_theme().plot_background)


def image_view_box(invert_y: bool = True) -> pg.ViewBox:
    """A ViewBox for pictures: square pixels, row 0 at the top, no mouse panning by accident."""
    box = pg.ViewBox(lockAspect=True, invertY=invert_y, enableMenu=False)
    box.setMouseEnabled(x=False, y=False)
    return box


class ThemedWidget(QWidget):
    """A widget whose ``restyle()`` runs again after every theme switch."""

    _restyle_pending = False

    def restyle(self) -> None:
        """Apply the current theme to the widget's plots (override)."""

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        # One switch sends several palette events; restyle once, after apply_theme has recorded the new
        # theme's name — and not at all when the widget has been deleted in between.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and not self._restyle_pending:
            self._restyle_pending = True
            QTimer.singleShot(0, self._restyle_later)
        super().changeEvent(event)

    def _restyle_later(self) -> None:
        if isValid(self):
            self._restyle_pending = False
            self.restyle()

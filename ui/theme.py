"""Dark and light themes: a Fusion palette, a short style sheet, and the colours the plots use.

Both themes are built from the same few roles so every widget — and every pyqtgraph plot, which
does not follow the Qt palette — stays readable when the person switches between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory


@dataclass(frozen=True)
class Theme:
    """Colour roles of one theme (hex strings)."""

    name: str
    window: str
    base: str
    alternate: str
    text: str
    muted: str
    button: str
    highlight: str
    error: str
    warning: str
    plot_background: str
    plot_foreground: str
    curves: tuple[str, ...]


DARK = Theme(
    name="dark",
    window="#202124",
    base="#17181a",
    alternate="#26282b",
    text="#e8eaed",
    muted="#9aa0a6",
    button="#2d2f33",
    highlight="#4c8bf5",
    error="#ff6b6b",
    warning="#f5b84c",
    plot_background="#17181a",
    plot_foreground="#c8ccd1",
    curves=("#4c8bf5", "#f5b84c", "#5fd38d", "#ff6b6b", "#c58af9", "#4fd1d9", "#f28bc1", "#d7d97a"),
)

LIGHT = Theme(
    name="light",
    window="#f3f4f6",
    base="#ffffff",
    alternate="#eef0f3",
    text="#1f2328",
    muted="#5f6368",
    button="#e6e8eb",
    highlight="#1a66d2",
    error="#c62828",
    warning="#a15c00",
    plot_background="#ffffff",
    plot_foreground="#3c4043",
    curves=("#1a66d2", "#d9822b", "#188038", "#c62828", "#8430ce", "#00838f", "#c2185b", "#827717"),
)

THEMES: dict[str, Theme] = {"dark": DARK, "light": LIGHT}


def _palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window,
        QPalette.ColorRole.WindowText: t.text,
        QPalette.ColorRole.Base: t.base,
        QPalette.ColorRole.AlternateBase: t.alternate,
        QPalette.ColorRole.ToolTipBase: t.base,
        QPalette.ColorRole.ToolTipText: t.text,
        QPalette.ColorRole.PlaceholderText: t.muted,
        QPalette.ColorRole.Text: t.text,
        QPalette.ColorRole.Button: t.button,
        QPalette.ColorRole.ButtonText: t.text,
        QPalette.ColorRole.BrightText: t.error,
        QPalette.ColorRole.Highlight: t.highlight,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: t.highlight,
        QPalette.ColorRole.Mid: t.muted,
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.muted))
    return p


def _style_sheet(t: Theme) -> str:
    # Inline validation and warnings: the red border plus a reason under the field.
    return f"""
    *[invalid="true"] {{ border: 1px solid {t.error}; border-radius: 2px; }}
    QLabel[role="error"] {{ color: {t.error}; }}
    QLabel[role="warning"] {{ color: {t.warning}; font-weight: bold; }}
    QLabel[role="muted"] {{ color: {t.muted}; }}
    QLabel[role="heading"] {{ font-weight: bold; }}
    QDockWidget::title {{ padding: 4px 6px; background: {t.alternate}; }}
    QToolTip {{ color: {t.text}; background: {t.base}; border: 1px solid {t.muted}; }}
    """


class ThemedStyle(QProxyStyle):
    """Fusion, with every check box and radio button framed in the theme's muted colour.

    Fusion draws those frames a shade darker than the window, which on the dark theme leaves an
    unchecked box all but invisible.
    """

    FRAMED = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
              QStyle.PrimitiveElement.PE_IndicatorRadioButton)

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802 (Qt override)
        super().drawPrimitive(element, option, painter, widget)
        if element in self.FRAMED:
            painter.save()
            painter.setRenderHint(painter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(current_theme().muted), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            box = option.rect.adjusted(1, 1, -1, -1)
            if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
                painter.drawEllipse(box)
            else:
                painter.drawRoundedRect(box, 2, 2)
            painter.restore()


def apply_theme(app: QApplication, name: str) -> Theme:
    """Switch the whole application to the named theme (unknown names fall back to dark)."""
    theme = THEMES.get(name, DARK)
    if not isinstance(app.style(), ThemedStyle):
        app.setStyle(ThemedStyle())
    app.setPalette(_palette(theme))
    app.setStyleSheet(_style_sheet(theme))
    app.setProperty("labbench_theme", theme.name)
    return theme


def current_theme() -> Theme:
    """The theme last applied to the running application (dark before any)."""
    app = QApplication.instance()
    name = app.property("labbench_theme") if app is not None else None
    return THEMES.get(name or "dark", DARK)

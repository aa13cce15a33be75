"""The themes: every control readable on both, the dark one included."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QCheckBox, QStyle, QStyleOptionButton

from ui.theme import apply_theme, current_theme


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_an_unchecked_check_box_stands_out_from_the_window(qtbot, theme):
    apply_theme(QApplication.instance(), theme)
    try:
        box = QCheckBox("Train for")
        qtbot.addWidget(box)
        box.show()
        picture = box.grab().toImage()
        option = QStyleOptionButton()
        box.initStyleOption(option)
        frame = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        window = QColor(current_theme().window).lightness()
        contrast = max(abs(picture.pixelColor(x, y).lightness() - window)
                       for x in range(frame.left(), frame.right() + 1) for y in range(frame.top(), frame.bottom() + 1))
        assert contrast >= 60  # Fusion's own frame on the dark theme: 11
    finally:
        apply_theme(QApplication.instance(), "dark")

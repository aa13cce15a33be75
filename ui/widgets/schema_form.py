"""A form generated from a pydantic model: one editor per field, ranges and help from the schema.

Numbers get spin boxes bounded by the field's ``ge/le/gt/lt``, Literals a combo box, bools a
check box, ``X | None`` a switch in front of the editor; the field's description is the tooltip.
The form does not validate: it reports edits, and shows the reasons it is given under the fields
(red border plus text), so the rules live in one place, ``labbench.config``.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout,
    QWidget,
)

from ui.widgets.labels import wrapping_label

INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e12


def field_label(name: str) -> str:
    """``crop_scale`` -> ``Crop scale``."""
    return name.replace("_", " ").capitalize()


def bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """The (low, high) limits of a field from its ge/gt/le/lt constraints (exclusive ones included)."""
    low = high = None
    for m in info.metadata:
        if isinstance(m, at.Ge | at.Gt):
            low = m.ge if isinstance(m, at.Ge) else m.gt
        elif isinstance(m, at.Le | at.Lt):
            high = m.le if isinstance(m, at.Le) else m.lt
    return low, high


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """Give ``widget`` the theme's red border (``invalid`` property) or take it away."""
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FloatSpinBox(QDoubleSpinBox):
    """A spin box that shows floats in short general form (``1e-06``, ``0.3``) and accepts any float."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos


def _float_step(low: float | None, high: float | None, default: Any) -> float:
    if low is not None and high is not None and high - low <= 1.0:
        return 0.05
    if isinstance(default, int | float) and default:
        return 10.0 ** math.floor(math.log10(abs(default)))
    return 0.1


class _Editor:
    """An editor for one field: ``widget``, ``value()``, ``set_value()``; calls ``on_change`` on edits."""

    widget: QWidget

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def focus_widgets(self) -> list[QWidget]:
        return [self.widget]


class _IntEditor(_Editor):
    def __init__(self, info: FieldInfo, on_change) -> None:
        super().__init__(on_change)
        low, high = bounds(info)
        gt = any(isinstance(m, at.Gt) for m in info.metadata)
        lt = any(isinstance(m, at.Lt) for m in info.metadata)
        self.widget = QSpinBox()
        self.widget.setRange(
            int(low) + (1 if gt else 0) if low is not None else -INT_LIMIT,
            int(high) - (1 if lt else 0) if high is not None else INT_LIMIT,
        )
        self.widget.setKeyboardTracking(False)
        self.widget.setAccelerated(True)
        self.widget.valueChanged.connect(lambda _v: self.on_change())

    def value(self) -> int:
        return self.widget.value()

    def set_value(self, value: Any) -> None:
        self.widget.setValue(int(value))


class _FloatEditor(_Editor):
    def __init__(self, info: FieldInfo, on_change, default: Any = None) -> None:
        super().__init__(on_change)
        low, high = bounds(info)
        self.widget = FloatSpinBox()
        # Exclusive bounds stay reachable so the reason can be shown instead of silently clamping.
        self.widget.setRange(low if low is not None else -FLOAT_LIMIT, high if high is not None else FLOAT_LIMIT)
        self.widget.setSingleStep(_float_step(low, high, default))
        self.widget.setKeyboardTracking(False)
        self.widget.valueChanged.connect(lambda _v: self.on_change())

    def value(self) -> float:
        return self.widget.value()

    def set_value(self, value: Any) -> None:
        self.widget.setValue(float(value))


class _BoolEditor(_Editor):
    def __init__(self, on_change) -> None:
        super().__init__(on_change)
        self.widget = QCheckBox()
        self.widget.toggled.connect(lambda _v: self.on_change())

    def value(self) -> bool:
        return self.widget.isChecked()

    def set_value(self, value: Any) -> None:
        self.widget.setChecked(bool(value))


class _ChoiceEditor(_Editor):
    def __init__(self, choices: tuple[Any, ...], on_change) -> None:
        super().__init__(on_change)
        self.choices = choices
        self.widget = QComboBox()
        for c in choices:
            self.widget.addItem(str(c), c)
        self.widget.currentIndexChanged.connect(lambda _i: self.on_change())

    def value(self) -> Any:
        return self.widget.currentData()

    def set_value(self, value: Any) -> None:
        i = self.widget.findData(value)
        if i >= 0:
            self.widget.setCurrentIndex(i)


class _TextEditor(_Editor):
    """A line of text; with ``optional`` an empty line means None."""

    def __init__(self, on_change, optional: bool = False) -> None:
        super().__init__(on_change)
        self.optional = optional
        self.widget = QLineEdit()
        if optional:
            self.widget.setPlaceholderText("none")
        self.widget.editingFinished.connect(self.on_change)

    def value(self) -> str | None:
        text = self.widget.text()
        return None if self.optional and not text else text

    def set_value(self, value: Any) -> None:
        self.widget.setText("" if value is None else str(value))


class _PairEditor(_Editor):
    """A (low, high) range as two float spin boxes."""

    def __init__(self, info: FieldInfo, on_change, default: Any) -> None:
        super().__init__(on_change)
        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        self.parts = [_FloatEditor(info, on_change, default[0] if default else None) for _ in range(2)]
        for p, tip in zip(self.parts, ("low", "high"), strict=True):
            p.widget.setToolTip(tip)
            row.addWidget(p.widget)

    def value(self) -> tuple[float, float]:
        return (self.parts[0].value(), self.parts[1].value())

    def set_value(self, value: Any) -> None:
        for p, v in zip(self.parts, value, strict=True):
            p.set_value(v)

    def focus_widgets(self) -> list[QWidget]:
        return [p.widget for p in self.parts]


class _OptionalEditor(_Editor):
    """``X | None``: a check box switches the inner editor on; off means None."""

    def __init__(self, inner: _Editor, on_change) -> None:
        super().__init__(on_change)
        self.inner = inner
        self.switch = QCheckBox()
        self.switch.setToolTip("Unchecked: none")
        self.none_label = QLabel("none")
        self.none_label.setProperty("role", "muted")
        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.switch)
        row.addWidget(inner.widget, 1)
        row.addWidget(self.none_label, 1)
        self.switch.toggled.connect(self._toggled)
        self._show(False)

    def _show(self, on: bool) -> None:
        # "none" in words rather than a greyed-out number that looks like a value
        self.inner.widget.setVisible(on)
        self.none_label.setVisible(not on)

    def _toggled(self, on: bool) -> None:
        self._show(on)
        self.on_change()

    def value(self) -> Any:
        return self.inner.value() if self.switch.isChecked() else None

    def set_value(self, value: Any) -> None:
        self.switch.setChecked(value is not None)
        self._show(value is not None)
        if value is not None:
            self.inner.set_value(value)

    def focus_widgets(self) -> list[QWidget]:
        return self.inner.focus_widgets()


def _is_optional(annotation: Any) -> tuple[bool, Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return True, args[0]
    return False, annotation


def make_editor(info: FieldInfo, on_change: Callable[[], None]) -> _Editor | None:
    """The editor for one field, or None for a type the form does not edit."""
    optional, annotation = _is_optional(info.annotation)
    default = info.default if info.default is not None else None
    if get_origin(annotation) is Literal:
        editor: _Editor | None = _ChoiceEditor(get_args(annotation), on_change)
    elif annotation is bool:
        editor = _BoolEditor(on_change)
    elif annotation is int:
        editor = _IntEditor(info, on_change)
    elif annotation is float:
        editor = _FloatEditor(info, on_change, default)
    elif annotation is str:
        return _TextEditor(on_change, optional=optional)
    elif get_origin(annotation) is tuple and get_args(annotation) == (float, float):
        editor = _PairEditor(info, on_change, default)
    else:
        return None
    return _OptionalEditor(editor, on_change) if optional else editor


class SchemaForm(QWidget):
    """Editors for the fields of one pydantic section; ``edited(field, value)`` on every change."""

    edited = Signal(str, object)

    def __init__(self, model_cls: type[BaseModel], exclude: tuple[str, ...] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.model_cls = model_cls
        self._editors: dict[str, _Editor] = {}
        self._errors: dict[str, QLabel] = {}
        self._loading = False
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for name, info in model_cls.model_fields.items():
            if name in exclude:
                continue
            editor = make_editor(info, lambda n=name: self._changed(n))
            if editor is None:
                continue
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(editor.widget)
            error = wrapping_label(role="error")
            error.hide()
            box.addWidget(error)
            label = QLabel(field_label(name))
            tip = info.description or ""
            for w in (label, editor.widget):
                w.setToolTip(tip if not w.toolTip() else f"{tip}\n{w.toolTip()}")
            layout.addRow(label, cell)
            self._editors[name] = editor
            self._errors[name] = error

    def fields(self) -> list[str]:
        return list(self._editors)

    def editor_widget(self, name: str) -> QWidget:
        return self._editors[name].widget

    def set_values(self, section: BaseModel) -> None:
        """Show the values of ``section`` without reporting them as edits."""
        self._loading = True
        try:
            for name, editor in self._editors.items():
                editor.set_value(getattr(section, name))
        finally:
            self._loading = False

    def value(self, name: str) -> Any:
        return self._editors[name].value()

    def set_value(self, name: str, value: Any) -> None:
        """Set one field as if the person had typed it (reported through ``edited``)."""
        self._editors[name].set_value(value)

    def set_errors(self, errors: dict[str, str]) -> None:
        """Mark the named fields invalid with their reasons; clear every other field."""
        for name, label in self._errors.items():
            reason = errors.get(name, "")
            label.setText(reason)
            label.setVisible(bool(reason))
            for w in self._editors[name].focus_widgets():
                mark_invalid(w, bool(reason))

    def error(self, name: str) -> str:
        return self._errors[name].text()

    def _changed(self, name: str) -> None:
        if not self._loading:
            self.edited.emit(name, self._editors[name].value())

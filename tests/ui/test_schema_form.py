"""The generated form: editors follow the pydantic schema (ranges, choices, help, optional values)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from ui.widgets.schema_form import SchemaForm


class Example(BaseModel):
    steps: int = Field(10, ge=1, le=500, description="How many steps.")
    rate: float = Field(0.3, gt=0.0, le=100.0, description="A rate.")
    kind: Literal["sgd", "adamw"] = Field("sgd", description="Which one.")
    fused: bool = Field(True, description="Fuse it.")
    clip: float | None = Field(None, gt=0.0, description="Clip, or none.")
    scale: tuple[float, float] = Field((0.08, 1.0), description="A range.")
    note: str = Field("", description="Free text.")
    root: str | None = Field(None, description="A folder.")


def test_numbers_get_spin_boxes_bounded_by_the_schema(qtbot):
    form = SchemaForm(Example)
    qtbot.addWidget(form)
    steps = form.editor_widget("steps")
    assert isinstance(steps, QSpinBox)
    assert (steps.minimum(), steps.maximum()) == (1, 500)
    rate = form.editor_widget("rate")
    assert isinstance(rate, QDoubleSpinBox)
    assert (rate.minimum(), rate.maximum()) == (0.0, 100.0)


def test_literals_become_combo_boxes_and_bools_check_boxes(qtbot):
    form = SchemaForm(Example)
    qtbot.addWidget(form)
    kind = form.editor_widget("kind")
    assert isinstance(kind, QComboBox)
    assert [kind.itemText(i) for i in range(kind.count())] == ["sgd", "adamw"]
    assert isinstance(form.editor_widget("fused"), QCheckBox)
    assert isinstance(form.editor_widget("note"), QLineEdit)


def test_descriptions_are_tooltips(qtbot):
    form = SchemaForm(Example)
    qtbot.addWidget(form)
    assert "How many steps." in form.editor_widget("steps").toolTip()


def test_values_round_trip_and_only_edits_are_reported(qtbot):
    form = SchemaForm(Example)
    qtbot.addWidget(form)
    edits = []
    form.edited.connect(lambda name, value: edits.append((name, value)))
    form.set_values(Example(steps=7, rate=1e-6, kind="adamw", fused=False, clip=2.5, scale=(0.2, 0.9)))
    assert edits == []
    assert form.value("steps") == 7
    assert form.value("rate") == 1e-6
    assert form.value("kind") == "adamw"
    assert form.value("clip") == 2.5
    assert form.value("scale") == (0.2, 0.9)
    assert form.value("root") is None
    form.set_value("kind", "sgd")
    form.set_value("clip", None)
    assert edits == [("kind", "sgd"), ("clip", None)]


def test_small_floats_are_shown_readably(qtbot):
    form = SchemaForm(Example)
    qtbot.addWidget(form)
    form.set_values(Example(rate=1e-6))
    assert form.editor_widget("rate").text() == "1e-06"


def test_errors_show_under_the_field_and_clear(qtbot):
    form = SchemaForm(Example)
    qtbot.addWidget(form)
    form.show()
    form.set_errors({"rate": "must be > 0"})
    assert form.error("rate") == "must be > 0"
    assert form.editor_widget("rate").property("invalid") is True
    form.set_errors({})
    assert form.error("rate") == ""
    assert form.editor_widget("rate").property("invalid") is False

"""Method configuration: method and backbone pickers, the run's length, a form per config section, presets.

Forms are generated from the pydantic schema of each section (the method's own ``Config``
included). Edits collect in a draft that is validated as a whole by ``labbench.config``; a valid
draft becomes the window's config (and redraws the preview), an invalid one stays in the editors
with the reason under each offending field — and while it stays, ``problems`` names the fields that
block Start and Save, so nothing runs with a value other than the one shown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, get_args

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFileDialog, QFormLayout, QHBoxLayout, QPushButton, QScrollArea, QSpinBox,
    QTabWidget, QVBoxLayout, QWidget,
)

from labbench.atomic import atomic_write_text
from labbench.config import (
    AugmentConfig, BackboneConfig, BackboneName, DataConfig, EvalConfig, OptimConfig, TrainConfig, to_dict,
)
from labbench.errors import ConfigError
from labbench.methods import METHODS
from labbench.run_config import RunConfig, dump_toml, load_preset, preset_names, validate_config
from ui.state import ConfigState
from ui.widgets.labels import wrapping_label
from ui.widgets.schema_form import SchemaForm, field_label, mark_invalid

# section -> (tab title, model, fields edited elsewhere: pickers and run length above, dataset browser)
SECTIONS: dict[str, tuple[str, type, tuple[str, ...]]] = {
    "optim": ("Optimiser", OptimConfig, ()),
    "train": ("Training", TrainConfig, ("time_budget_s",)),
    "augment": ("Augmentation", AugmentConfig, ()),
    "backbone": ("Backbone", BackboneConfig, ("name",)),
    "eval": ("Monitors", EvalConfig, ()),
    "data": ("Data", DataConfig, ("source", "root")),
}
#: where a field edited outside the forms is shown, for the line that names what blocks a run
OUTSIDE_FORMS = {"method.name": "Method", "backbone.name": "Backbone", "train.time_budget_s": "Train for",
                 "data.source": "Dataset source", "data.root": "Dataset folder"}
MAX_BUDGET_MINUTES = 7 * 24 * 60


@cache
def preset_data(name: str) -> dict[str, Any]:
    """A preset as plain data (read once)."""
    return to_dict(load_preset(name))


@cache
def presets_by_method() -> dict[str, list[str]]:
    """Method name -> the presets that train it (``moco``: ``moco_v1``, ``moco_v2``)."""
    found: dict[str, list[str]] = {}
    for name in preset_names():
        try:
            found.setdefault(preset_data(name)["method"]["name"], []).append(name)
        except ConfigError:
            continue  # a broken preset is reported when someone loads it
    return found


def with_dataset(preset: dict[str, Any], data: DataConfig) -> dict[str, Any]:
    """``preset`` on the dataset the person picked (its source and folder)."""
    out = {**preset, "data": {**preset.get("data", {}), "source": data.source}}
    out["data"].pop("root", None)
    if data.root is not None:
        out["data"]["root"] = data.root
    return out


def preset_for(method: str) -> str | None:
    """The preset a method starts from: the one named after it, else its newest version (sorted last)."""
    names = presets_by_method().get(method, [])
    return method if method in names else (names[-1] if names else None)


class RunLength(QWidget):
    """"Train for N minutes" (``train.time_budget_s``); unticked, the run lasts ``train.epochs``."""

    edited = Signal(object)  # seconds, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.switch = QCheckBox("Train for")
        self.switch.setToolTip("Fit the run to a time budget: every schedule (learning rate, momentum, "
                               "temperatures) is fitted to the steps that fit (train.time_budget_s). "
                               "Unticked, the run lasts the epochs set on the Training tab.")
        self.minutes = QSpinBox()
        self.minutes.setRange(1, MAX_BUDGET_MINUTES)
        self.minutes.setValue(5)
        self.minutes.setSuffix(" min")
        self.minutes.setKeyboardTracking(False)
        self.minutes.setToolTip(self.switch.toolTip())
        self.epochs_note = wrapping_label(role="muted")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.switch)
        row.addWidget(self.minutes)
        row.addWidget(self.epochs_note, 1)
        self.switch.toggled.connect(self._changed)
        self.minutes.valueChanged.connect(self._changed)
        self._loading = False

    def seconds(self) -> float | None:
        return 60.0 * self.minutes.value() if self.switch.isChecked() else None

    def show_config(self, train: TrainConfig) -> None:
        self._loading = True
        try:
            self.switch.setChecked(bool(train.time_budget_s))  # None or 0: no budget
            if train.time_budget_s:
                self.minutes.setValue(max(1, round(train.time_budget_s / 60)))
        finally:
            self._loading = False
        self.minutes.setEnabled(self.switch.isChecked())
        self.epochs_note.setText("" if self.switch.isChecked() else f"else {train.epochs} epochs")

    def _changed(self, *_args) -> None:
        self.minutes.setEnabled(self.switch.isChecked())
        if not self._loading:
            self.edited.emit(self.seconds())


class MethodConfigDock(QDockWidget):
    """Pick a method and backbone, edit every section of the run config, load and save presets."""

    #: the (location, message) pairs that keep the form from being the window's config; [] when it is
    problems_changed = Signal(list)

    def __init__(self, state: ConfigState, parent: QWidget | None = None) -> None:
        super().__init__("Method configuration", parent)
        self.setObjectName("method_config")
        self.state = state
        self._draft: dict[str, Any] = to_dict(state.config)
        self._problems: list[tuple[str, str]] = []
        self._preset: tuple[str, dict[str, Any]] | None = None  # the preset loaded last, as it was loaded
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)

        pickers = QFormLayout()
        pickers.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.method_combo = QComboBox()
        for name, cls in METHODS.items():
            self.method_combo.addItem(name, name)
            self.method_combo.setItemData(
                self.method_combo.count() - 1, f"{cls.summary}\n{cls.paper}".strip(), Qt.ItemDataRole.ToolTipRole
            )
        self.method_combo.setToolTip("Choosing a method loads its preset (paper settings scaled to small images)")
        self.method_combo.activated.connect(self._method_chosen)
        self.backbone_combo = QComboBox()
        for name in get_args(BackboneName):
            self.backbone_combo.addItem(name, name)
        self.backbone_combo.activated.connect(self._backbone_chosen)
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(preset_names())
        self.preset_combo.setToolTip("What the settings come from. Choose a preset to load it "
                                     "(paper defaults scaled to small images; the dataset is kept).")
        self.preset_combo.activated.connect(lambda index: self.load_preset(self.preset_combo.itemText(index)))
        self.run_length = RunLength()
        self.run_length.edited.connect(lambda seconds: self.edit("train", "time_budget_s", seconds))
        pickers.addRow("Method", self.method_combo)
        pickers.addRow("Preset", self.preset_combo)
        pickers.addRow("Backbone", self.backbone_combo)
        pickers.addRow("Length", self.run_length)
        layout.addLayout(pickers)
        self.summary = wrapping_label(role="muted")
        layout.addWidget(self.summary)

        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the whole configuration as a TOML file (labbench train --config)")
        self.save_button.clicked.connect(self._save_clicked)
        reset = QPushButton("Paper defaults")
        reset.setToolTip("Reset the method's settings to the values of its paper")
        reset.clicked.connect(self.reset_method_defaults)
        buttons.addWidget(reset)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        self.general_error = wrapping_label(role="error")
        self.general_error.hide()
        layout.addWidget(self.general_error)

        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideNone)
        layout.addWidget(self.tabs, 1)
        self.forms: dict[str, SchemaForm] = {}
        self._method_class: type | None = None
        self._build_method_form()
        for section, (title, model, exclude) in SECTIONS.items():
            self._add_form(section, title, SchemaForm(model, exclude=exclude))
        # A dock narrower than its widest editor is a window wider than a laptop screen: let it scroll instead.
        for combo in (self.method_combo, self.backbone_combo, self.preset_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.setWidget(body)
        state.changed.connect(self.refresh)
        self.refresh(state.config)

    # -- forms -----------------------------------------------------------------------------
    def _add_form(self, section: str, title: str, form: SchemaForm, index: int = -1) -> None:
        form.edited.connect(lambda field, value, s=section: self.edit(s, field, value))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)
        self.tabs.insertTab(index, scroll, title)
        self.forms[section] = form

    def _build_method_form(self) -> None:
        cls = METHODS[self.state.config.method.name]
        if cls is self._method_class:
            return
        if "method" in self.forms:
            self.tabs.removeTab(0)
            self.forms.pop("method").deleteLater()
        self._method_class = cls
        self._add_form("method", cls.__name__, SchemaForm(cls.Config, exclude=("name",)), index=0)
        self.tabs.setCurrentIndex(0)

    # -- editing ---------------------------------------------------------------------------
    def edit(self, section: str, field: str, value: Any) -> bool:
        """One field changed: validate the whole draft; True when it became the window's config."""
        self._draft.setdefault(section, {})[field] = value
        return self._commit()

    def _commit(self) -> bool:
        try:
            config = validate_config(self._draft)
        except ConfigError as err:
            self._show_problems(err.problems)
            return False
        self._show_problems([])
        self.state.set(config)
        self._show_origin(config)
        return True

    def problems(self) -> list[tuple[str, str]]:
        """The (location, message) pairs of the values on show that are not valid; [] when all are."""
        return list(self._problems)

    def blocking_reason(self) -> str:
        """Which field keeps the shown settings from running, in words ('' when none does)."""
        if not self._problems:
            return ""
        where, what = self._problems[0]
        more = f" (and {len(self._problems) - 1} more)" if len(self._problems) > 1 else ""
        return f"{self.field_title(where)}: {what}{more}"

    def field_title(self, location: str) -> str:
        """``method.teacher_temp`` -> ``DINO › Teacher temp``: the tab and the label a person sees."""
        if location in OUTSIDE_FORMS:
            return OUTSIDE_FORMS[location]
        section, _, rest = location.partition(".")
        field = rest.split(".")[0]
        if section == "method":
            tab = self._method_class.__name__ if self._method_class else "Method"
        else:
            tab = SECTIONS.get(section, (section,))[0]
        return f"{tab} › {field_label(field)}" if field else tab

    def _show_problems(self, problems: list[tuple[str, str]]) -> None:
        fields: dict[str, dict[str, str]] = {section: {} for section in self.forms}
        general: list[str] = []
        for where, what in problems:
            section, _, rest = where.partition(".")
            field = rest.split(".")[0]
            if section in self.forms and field in self.forms[section].fields():
                fields[section][field] = what
            else:
                general.append(f"{self.field_title(where)}: {what}" if where else what)
        for section, form in self.forms.items():
            form.set_errors(fields[section])
        mark_invalid(self.method_combo, any(w == "method.name" for w, _ in problems))
        mark_invalid(self.backbone_combo, any(w == "backbone.name" for w, _ in problems))
        mark_invalid(self.run_length.minutes, any(w == "train.time_budget_s" for w, _ in problems))
        self.general_error.setText("\n".join(general))
        self.general_error.setVisible(bool(general))
        changed = problems != self._problems
        self._problems = list(problems)
        blocked = self.blocking_reason()
        self.save_button.setEnabled(not blocked)
        self.save_button.setToolTip(f"Fix {blocked} to save" if blocked else
                                    "Save the whole configuration as a TOML file (labbench train --config)")
        if changed:
            self.problems_changed.emit(self.problems())

    def errors(self) -> dict[tuple[str, str], str]:
        """The reasons currently shown under the form fields, by (section, field)."""
        return {(s, f): form.error(f) for s, form in self.forms.items() for f in form.fields() if form.error(f)}

    @Slot(int)
    def _method_chosen(self, _index: int) -> None:
        self.choose_method(self.method_combo.currentData())

    @Slot(int)
    def _backbone_chosen(self, _index: int) -> None:
        self.edit("backbone", "name", self.backbone_combo.currentData())

    def choose_method(self, name: str) -> None:
        """Switch method: load its preset (the dataset is kept); a method without one gets its paper
        defaults in every other section left as it is, and the Preset box says so."""
        preset = preset_for(name)
        if preset is not None:
            self.load_preset(preset)
        else:
            self.reset_method_defaults(name)

    @Slot()
    def reset_method_defaults(self, name: str | None = None) -> None:
        """The method's settings at its paper's values; every other section stays."""
        self._draft = to_dict(self.state.config)
        self._draft["method"] = {"name": name or self.state.config.method.name}
        self._commit()

    def load_preset(self, name: str) -> None:
        """A preset's whole configuration, keeping the dataset the person picked."""
        try:
            preset = with_dataset(preset_data(name), self.state.config.data)
        except ConfigError as err:
            self._show_problems(err.problems)
            return
        self._draft = preset
        if self._commit():
            self._preset = (name, to_dict(self.state.config))
            self._show_origin(self.state.config)

    def save_preset(self, path: str | Path) -> Path:
        """The whole configuration as TOML (written atomically): ``labbench train --config`` and
        ``torchrun … -m labbench train --config`` run it as the window would."""
        return atomic_write_text(Path(path).with_suffix(".toml"), dump_toml(self.state.config))

    @Slot()
    def _save_clicked(self) -> None:
        if self._problems:  # the button is disabled then; a shortcut or a test may still get here
            self._show_problems(self._problems)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save configuration as TOML", "", "TOML files (*.toml)")
        if not path:
            return
        try:
            self.save_preset(path)
        except OSError as err:
            self.general_error.setText(f"could not save {path}: {err.strerror or err}; "
                                       "choose a folder you can write to")
            self.general_error.show()

    def _show_origin(self, config: RunConfig) -> None:
        """The Preset box names the preset only while the settings are that preset's."""
        data = to_dict(config)
        if self._preset is None or self._preset[1]["method"]["name"] != config.method.name:
            # a remembered config or a reopened run: name its preset when it is one
            for name in presets_by_method().get(config.method.name, []):
                if to_dict(validate_config(with_dataset(preset_data(name), config.data))) == data:
                    self._preset = (name, data)
        if self._preset is not None and self._preset[1] == data:
            self.preset_combo.setCurrentIndex(self.preset_combo.findText(self._preset[0]))
            return
        self.preset_combo.setCurrentIndex(-1)
        if self._preset is not None and self._preset[1]["method"]["name"] == config.method.name:
            self.preset_combo.setPlaceholderText(f"{self._preset[0]}, edited")
        elif config.method == METHODS[config.method.name].Config():
            self.preset_combo.setPlaceholderText("paper defaults")
        else:
            self.preset_combo.setPlaceholderText("custom settings")

    @Slot(object)
    def refresh(self, config: RunConfig) -> None:
        """Show ``config`` (from any dock, a preset or a run) and drop any pending invalid edits."""
        self._draft = to_dict(config)
        self._build_method_form()
        self.method_combo.setCurrentIndex(self.method_combo.findData(config.method.name))
        self.backbone_combo.setCurrentIndex(self.backbone_combo.findData(config.backbone.name))
        cls = METHODS[config.method.name]
        self.summary.setText(cls.summary)
        self.summary.setToolTip(cls.paper)
        for section, form in self.forms.items():
            form.set_values(getattr(config, section))
        self.run_length.show_config(config.train)
        self._show_origin(config)
        self._show_problems([])

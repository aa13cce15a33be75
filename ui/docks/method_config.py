"""Method configuration: method and backbone pickers, a form per config section, presets.

Forms are generated from the pydantic schema of each section (the method's own ``Config``
included). Edits collect in a draft that is validated as a whole by ``labbench.config``; a valid
draft becomes the window's config (and redraws the preview), an invalid one stays in the editors
with the reason under each offending field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox, QDockWidget, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QTabWidget,
    QVBoxLayout, QWidget,
)

from labbench.atomic import atomic_write_text
from labbench.config import (
    AugmentConfig, BackboneConfig, BackboneName, DataConfig, EvalConfig, OptimConfig, TrainConfig, to_dict,
)
from labbench.errors import ConfigError
from labbench.methods import METHODS
from labbench.run_config import dump_toml, load_preset, preset_names, validate_config
from ui.state import ConfigState
from ui.widgets.schema_form import SchemaForm

# section -> (tab title, model, fields edited elsewhere: pickers above, dataset browser)
SECTIONS: dict[str, tuple[str, type, tuple[str, ...]]] = {
    "optim": ("Optimiser", OptimConfig, ()),
    "train": ("Training", TrainConfig, ()),
    "augment": ("Augmentation", AugmentConfig, ()),
    "backbone": ("Backbone", BackboneConfig, ("name",)),
    "eval": ("Monitors", EvalConfig, ()),
    "data": ("Data", DataConfig, ("source", "root")),
}


def field_errors(message: str, known: dict[str, list[str]]) -> tuple[dict[tuple[str, str], str], list[str]]:
    """Split a ConfigError message into per-field reasons ``{(section, field): reason}`` and the rest.

    Lines look like ``optim.lr: Input should be greater than 0 (got 0.0)``, or for checks across
    fields ``augment: crop_scale: needs 0 < low <= high``; ``known`` lists each section's fields.
    """
    fields: dict[tuple[str, str], str] = {}
    general: list[str] = []
    for line in message.splitlines():
        path, sep, reason = line.partition(": ")
        parts = path.split(".")
        section = parts[0]
        if sep and section in known and len(parts) >= 2 and parts[1] in known[section]:
            fields[(section, parts[1])] = reason
            continue
        if sep and section in known and len(parts) == 1:
            name, sep2, rest = reason.partition(": ")
            if sep2 and name in known[section]:
                fields[(section, name)] = rest
                continue
        general.append(line)
    return fields, general


class MethodConfigDock(QDockWidget):
    """Pick a method and backbone, edit every section of the run config, load and save presets."""

    def __init__(self, state: ConfigState, parent: QWidget | None = None) -> None:
        super().__init__("Method configuration", parent)
        self.setObjectName("method_config")
        self.state = state
        self._draft: dict[str, Any] = to_dict(state.config)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)

        pickers = QFormLayout()
        self.method_combo = QComboBox()
        for name, cls in METHODS.items():
            self.method_combo.addItem(name, name)
            self.method_combo.setItemData(
                self.method_combo.count() - 1, f"{cls.summary}\n{cls.paper}".strip(), Qt.ItemDataRole.ToolTipRole
            )
        self.method_combo.activated.connect(self._method_chosen)
        self.backbone_combo = QComboBox()
        for name in get_args(BackboneName):
            self.backbone_combo.addItem(name, name)
        self.backbone_combo.activated.connect(self._backbone_chosen)
        pickers.addRow("Method", self.method_combo)
        pickers.addRow("Backbone", self.backbone_combo)
        layout.addLayout(pickers)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setProperty("role", "muted")
        layout.addWidget(self.summary)

        presets = QHBoxLayout()
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(preset_names())
        self.preset_combo.setToolTip("Presets shipped with labbench: paper defaults scaled to small images")
        load = QPushButton("Load")
        load.setToolTip("Replace the configuration with the chosen preset (the dataset is kept)")
        load.clicked.connect(lambda: self.load_preset(self.preset_combo.currentText()))
        save = QPushButton("Save…")
        save.setToolTip("Save the whole configuration as a TOML preset")
        save.clicked.connect(self._save_clicked)
        reset = QPushButton("Paper defaults")
        reset.setToolTip("Reset the method's settings to the values of its paper")
        reset.clicked.connect(self.reset_method_defaults)
        presets.addWidget(QLabel("Preset"))
        presets.addWidget(self.preset_combo, 1)
        presets.addWidget(load)
        presets.addWidget(save)
        presets.addWidget(reset)
        layout.addLayout(presets)

        self.general_error = QLabel()
        self.general_error.setProperty("role", "error")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)

        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(True)
        layout.addWidget(self.tabs, 1)
        self.forms: dict[str, SchemaForm] = {}
        self._method_class: type | None = None
        self._build_method_form()
        for section, (title, model, exclude) in SECTIONS.items():
            self._add_form(section, title, SchemaForm(model, exclude=exclude))
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
            self._show_errors(str(err))
            return False
        self._show_errors("")
        self.state.set(config)
        return True

    def _show_errors(self, message: str) -> None:
        known = {s: f.fields() for s, f in self.forms.items()}
        fields, general = field_errors(message, known)
        for section, form in self.forms.items():
            form.set_errors({f: r for (s, f), r in fields.items() if s == section})
        self.general_error.setText("\n".join(general))
        self.general_error.setVisible(bool(general))

    def errors(self) -> dict[tuple[str, str], str]:
        """The reasons currently shown, by (section, field)."""
        return {(s, f): form.error(f) for s, form in self.forms.items() for f in form.fields() if form.error(f)}

    @Slot(int)
    def _method_chosen(self, _index: int) -> None:
        self.choose_method(self.method_combo.currentData())

    @Slot(int)
    def _backbone_chosen(self, _index: int) -> None:
        self.edit("backbone", "name", self.backbone_combo.currentData())

    def choose_method(self, name: str) -> None:
        """Switch method: its settings start from its paper defaults, every other section stays."""
        self._draft = to_dict(self.state.config)
        self._draft["method"] = {"name": name}
        self._commit()

    @Slot()
    def reset_method_defaults(self) -> None:
        self.choose_method(self.state.config.method.name)

    def load_preset(self, name: str) -> None:
        """A preset's whole configuration, keeping the dataset the person picked."""
        try:
            preset = to_dict(load_preset(name))
        except ConfigError as err:
            self._show_errors(str(err))
            return
        current = self.state.config.data
        preset["data"] = {**preset.get("data", {}), "source": current.source, "root": current.root}
        self._draft = preset
        self._commit()

    def save_preset(self, path: str | Path) -> Path:
        """The whole configuration as TOML (written atomically): ``labbench train --config`` and
        ``torchrun … -m labbench train --config`` run it as the window would."""
        return atomic_write_text(Path(path).with_suffix(".toml"), dump_toml(self.state.config))

    @Slot()
    def _save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save configuration as TOML", "", "TOML files (*.toml)")
        if not path:
            return
        try:
            self.save_preset(path)
        except OSError as err:
            self._show_errors(f"could not save {path}: {err.strerror or err}; choose a folder you can write to")

    @Slot(object)
    def refresh(self, config) -> None:
        """Show ``config`` (from any dock, a preset or a run) and drop any pending invalid edits."""
        self._draft = to_dict(config)
        self._build_method_form()
        self.method_combo.setCurrentIndex(self.method_combo.findData(config.method.name))
        self.backbone_combo.setCurrentIndex(self.backbone_combo.findData(config.backbone.name))
        if self.preset_combo.findText(config.method.name) >= 0:
            self.preset_combo.setCurrentText(config.method.name)
        cls = METHODS[config.method.name]
        self.summary.setText(cls.summary)
        self.summary.setToolTip(cls.paper)
        for section, form in self.forms.items():
            form.set_values(getattr(config, section))
        self._show_errors("")

"""The method configuration dock: schema forms, inline validation, presets, method switching."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from labbench.methods import METHODS
from labbench.run_config import apply_overrides, load_config, load_preset
from ui.docks import method_config
from ui.docks.method_config import MethodConfigDock
from ui.state import ConfigState


@pytest.fixture
def dock(qtbot, tiny_config):
    state = ConfigState(tiny_config)
    widget = MethodConfigDock(state)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_every_section_has_a_form_and_the_method_tab_comes_first(dock):
    assert set(dock.forms) == {"method", "optim", "train", "augment", "backbone", "eval", "data"}
    assert dock.tabs.tabText(0) == METHODS["simclr"].__name__
    assert "temperature" in dock.forms["method"].fields()
    assert "name" not in dock.forms["method"].fields()


def test_a_valid_edit_becomes_the_config(dock):
    dock.forms["method"].set_value("temperature", 0.5)
    assert dock.state.config.method.temperature == 0.5
    assert dock.errors() == {}


def test_an_invalid_value_is_marked_inline_with_the_reason(dock):
    before = dock.state.config
    dock.forms["method"].set_value("temperature", 0.0)  # the schema says > 0
    errors = dock.errors()
    assert ("method", "temperature") in errors
    assert "greater than 0" in errors[("method", "temperature")]
    assert dock.forms["method"].editor_widget("temperature").property("invalid") is True
    assert dock.state.config is before  # nothing invalid reaches the window's config
    dock.forms["method"].set_value("temperature", 0.3)
    assert dock.errors() == {}
    assert dock.state.config.method.temperature == 0.3


def test_a_rule_across_fields_points_at_the_field(dock):
    dock.forms["augment"].set_value("crop_scale", (0.9, 0.5))
    assert ("augment", "crop_scale") in dock.errors()


def test_an_invalid_field_blocks_saving_and_names_itself(qtbot, tiny_config):
    dock = MethodConfigDock(ConfigState(apply_overrides(tiny_config, ["method.name=dino"])))
    qtbot.addWidget(dock)
    before = dock.state.config
    with qtbot.waitSignal(dock.problems_changed) as changed:
        dock.forms["method"].set_value("teacher_temp", -0.5)  # the spin box stops at 0, which is still invalid
    assert [where for where, _ in changed.args[0]] == ["method.teacher_temp"]
    assert dock.blocking_reason().startswith("DINO › Teacher temp: ")
    assert not dock.save_button.isEnabled() and "Teacher temp" in dock.save_button.toolTip()
    assert dock.state.config is before
    dock.forms["method"].set_value("teacher_temp", 0.05)
    assert dock.problems() == [] and dock.save_button.isEnabled()


def test_problems_are_placed_by_their_location_not_by_reading_the_text(dock):
    dock._show_problems([("method.temperature", "too warm: method.other"), ("optim", "no lr: optim.lr"),
                         ("", "something else")])
    assert dock.errors() == {("method", "temperature"): "too warm: method.other"}
    assert dock.general_error.text().splitlines() == ["Optimiser: no lr: optim.lr", "something else"]


def test_choosing_a_method_loads_its_preset_and_the_box_says_which(dock):
    dock.choose_method("dino")
    preset = load_preset("dino")
    assert dock.state.config.method == preset.method and dock.state.config.backbone == preset.backbone
    assert dock.preset_combo.currentText() == "dino"
    dock.forms["method"].set_value("teacher_temp", 0.05)
    assert dock.preset_combo.currentIndex() == -1 and dock.preset_combo.placeholderText() == "dino, edited"
    dock.choose_method("moco")  # two presets: the newer version
    assert dock.preset_combo.currentText() == "moco_v2"


def test_a_method_without_a_preset_says_paper_defaults(dock, monkeypatch):
    monkeypatch.setattr(method_config, "preset_for", lambda name: None)
    dock.choose_method("byol")
    assert dock.state.config.method == METHODS["byol"].Config()
    assert dock.preset_combo.currentIndex() == -1 and dock.preset_combo.placeholderText() == "paper defaults"


def test_train_for_n_minutes_sets_the_time_budget(dock):
    dock.run_length.minutes.setValue(3)
    dock.run_length.switch.setChecked(True)
    assert dock.state.config.train.time_budget_s == 180
    dock.run_length.minutes.setValue(7)
    assert dock.state.config.train.time_budget_s == 420
    dock.run_length.switch.setChecked(False)
    assert dock.state.config.train.time_budget_s is None
    assert "time_budget_s" not in dock.forms["train"].fields()  # one control for it, not two


def test_a_loaded_budget_shows_in_minutes_and_zero_means_none(dock):
    dock.state.set(load_preset("simclr"))  # the preset trains for 5 minutes
    assert dock.run_length.switch.isChecked() and dock.run_length.minutes.value() == 5
    dock.state.set(apply_overrides(load_preset("simclr"), ["train.time_budget_s=0"]))
    assert not dock.run_length.switch.isChecked() and "epochs" in dock.run_length.epochs_note.text()


def test_paper_defaults_reset_the_method_section(dock):
    dock.forms["method"].set_value("temperature", 0.7)
    dock.reset_method_defaults()
    assert dock.state.config.method == METHODS["simclr"].Config()
    assert dock.forms["method"].value("temperature") == METHODS["simclr"].Config().temperature


def test_loading_a_preset_keeps_the_chosen_dataset(dock):
    dock.state.update("data", {"source": "digits"})
    dock.load_preset("simclr")
    preset = load_preset("simclr")
    assert dock.state.config.method == preset.method
    assert dock.state.config.train == preset.train
    assert dock.state.config.data.source == "digits"


def test_saved_preset_loads_back_as_the_same_config(dock, tmp_path):
    dock.forms["optim"].set_value("lr", 0.123)
    path = dock.save_preset(tmp_path / "mine")
    assert path.suffix == ".toml"
    assert load_config(path) == dock.state.config


def test_saving_where_no_file_can_be_written_says_so_in_the_panel(dock, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    target = tmp_path / "a-file" / "mine.toml"  # its "folder" is a file
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    dock._save_clicked()
    assert "could not save" in dock.general_error.text() and str(target) in dock.general_error.text()
    assert not dock.general_error.isHidden()


def test_switching_backbone_updates_the_config(dock):
    index = dock.backbone_combo.findData("resnet18")
    dock.backbone_combo.setCurrentIndex(index)
    dock.backbone_combo.activated.emit(index)
    assert dock.state.config.backbone.name == "resnet18"


def test_config_changed_elsewhere_shows_in_the_form(dock):
    dock.state.update("train", {"epochs": 7})
    assert dock.forms["train"].value("epochs") == 7

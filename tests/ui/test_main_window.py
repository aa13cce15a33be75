"""The window: docks, menus, shortcuts, status bar, and the layout kept between sessions."""

from __future__ import annotations

import importlib.util

from PySide6.QtWidgets import QDialog, QTableWidget

from ui.main_window import INSPECT_VIEWS, MainWindow, default_config, register_inspect_view
from ui.settings import open_settings


def test_window_opens_with_every_dock_and_a_view_menu_entry_for_each(make_window):
    window = make_window()
    window.show()
    names = {d.objectName() for d in window.docks}
    assert names == {"dataset_browser", "augmentation_preview", "method_config", "training_plots", "log_panel",
                     "run_list", "studies"}
    for dock in window.docks:
        assert window.dock_actions[dock.objectName()].isChecked()
    assert not window.browser.isHidden() and not window.plots.isHidden() and not window.preview.isHidden()


def test_opens_on_shapes_with_simclr_ready_to_start(make_window):
    config = default_config()
    assert (config.method.name, config.data.source) == ("simclr", "shapes")
    window = make_window()
    assert window.start_action.isEnabled()
    assert not window.pause_action.isEnabled() and not window.stop_action.isEnabled()
    assert window.method_config.method_combo.currentData() == "simclr"
    assert "CPU" in window.device_label.text()


def test_layout_and_choices_round_trip_through_qsettings(make_window, qtbot):
    first = make_window()
    first.show()
    first.log_panel.toggleViewAction().trigger()  # hide the log
    themes = []
    first.theme_changed.connect(lambda theme: themes.append(theme.name))
    first.set_theme("light")
    assert themes == ["light"]
    first.method_config.forms["method"].set_value("temperature", 0.42)
    first.close()
    assert open_settings().value("view/theme") == "light"

    second = MainWindow(runs_root=first.runs_root, load_dataset=False)  # no config given: the remembered one
    qtbot.addWidget(second)
    second.show()
    assert second.log_panel.isHidden()
    assert not second.plots.isHidden()
    assert second.theme_actions["light"].isChecked()
    assert second.state.config.method.temperature == 0.42
    second.set_theme("dark")


def test_reset_layout_brings_back_closed_panels(make_window):
    window = make_window(load=False)
    window.show()
    window.plots.close()
    window.browser.setFloating(True)
    window.reset_layout()
    assert not window.plots.isHidden()
    assert not window.browser.isFloating()


def test_shortcuts_dialog_lists_the_training_commands(make_window, qtbot):
    window = make_window(load=False)
    window.show_shortcuts()
    dialog = window.findChild(QDialog)
    table = dialog.findChild(QTableWidget)
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Start"] == "Ctrl+R"
    assert rows["Stop"] == "Ctrl+."
    assert "Open image folder" in rows
    assert "Ctrl+R" in window.start_action.toolTip()
    dialog.close()


def test_export_entry_exists_only_when_export_is_available(make_window):
    window = make_window(load=False)
    available = importlib.util.find_spec("labbench.export") is not None
    assert (window.export_action is not None) == available


def test_inspect_views_register_as_docks_with_a_menu(make_window, qtbot):
    from PySide6.QtWidgets import QDockWidget, QLabel

    def factory(window):
        dock = QDockWidget("Probe view", window)
        dock.setWidget(QLabel("probe"))
        return dock

    register_inspect_view("Probe view", factory)
    try:
        window = make_window(load=False)
        assert [d.windowTitle() for d in window.inspect_docks][-1] == "Probe view"
        menus = {a.text(): a for a in window.menuBar().actions()}
        assert "&Inspect" in menus
    finally:
        INSPECT_VIEWS.pop("Probe view")


def test_a_broken_inspect_view_is_reported_and_the_window_still_opens(make_window):
    def broken(window):
        raise RuntimeError("no attention in this backbone")

    register_inspect_view("Broken view", broken)
    try:
        window = make_window(load=False)
        assert "Broken view" not in [d.windowTitle() for d in window.inspect_docks]
        assert any("Broken view" in m and "no attention" in m for m in window.log_panel.messages())
    finally:
        INSPECT_VIEWS.pop("Broken view")


def test_export_writes_the_encoder_off_the_gui_thread(make_window, qtbot, tmp_path, tiny_config):
    import pytest

    if importlib.util.find_spec("labbench.export") is None:
        pytest.skip("labbench.export is not in this checkout")
    from labbench.engine import Trainer
    from labbench.run_config import apply_overrides

    trainer = Trainer(apply_overrides(tiny_config, ["train.max_steps=2"]), runs_root=tmp_path / "runs")
    assert trainer.fit().status == "completed"
    window = make_window(load=False)
    window.run_list.refresh()
    window.run_list.tree.setCurrentItem(window.run_list.item(trainer.run_dir))
    assert window.export_target() == str(trainer.run_dir)
    with qtbot.waitSignal(window.export_run(trainer.run_dir, tmp_path / "out").succeeded, timeout=60000) as done:
        pass
    result = done.args[0]
    assert all(p.is_file() for p in result.files.values())
    assert any("encoder exported" in m for m in window.log_panel.messages())

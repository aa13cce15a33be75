"""The window: docks, menus, shortcuts, status bar, and the layout kept between sessions."""

from __future__ import annotations

import importlib.util

import pytest
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QDialog, QTableWidget, QTabBar

from labbench.run_config import apply_overrides
from ui.main_window import INSPECT_VIEWS, MainWindow, default_config, register_inspect_view
from ui.settings import open_settings


def front_tab(window, member: str) -> str | None:
    """The dock in front of the tab group that ``member`` (a dock's title) belongs to."""
    for bar in window.findChildren(QTabBar):
        titles = [bar.tabText(i) for i in range(bar.count())]
        if bar.isVisible() and member in titles:
            return titles[bar.currentIndex()]
    return None


def test_window_opens_with_every_dock_and_a_view_menu_entry_for_each(make_window, qtbot):
    window = make_window()
    window.show()
    names = {d.objectName() for d in window.docks}
    assert names == {"dataset_browser", "augmentation_preview", "method_config", "training_plots", "log_panel",
                     "run_list", "studies"}
    for dock in window.docks:
        assert window.dock_actions[dock.objectName()].isChecked()
    assert not window.browser.isHidden() and not window.plots.isHidden() and not window.preview.isHidden()
    qtbot.wait(500)  # Qt settles which tab of a group is in front after the first layout
    assert front_tab(window, "Training plots") == "Training plots"
    window.studies.raise_()
    qtbot.waitUntil(lambda: front_tab(window, "Training plots") == "Studies", timeout=5000)
    with qtbot.waitSignal(window.session.finished, timeout=60000):
        window.start_training()  # Start brings its curves to the front
        qtbot.waitUntil(lambda: front_tab(window, "Training plots") == "Training plots", timeout=5000)


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


def test_inspect_views_register_with_the_panel_and_the_menu(make_window, qtbot):
    from PySide6.QtWidgets import QLabel

    register_inspect_view("Probe view", lambda window: QLabel("probe"), "collapse")
    try:
        window = make_window(load=False)
        assert window.inspect.titles()[-1] == "Probe view"
        menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Inspect")
        assert "Probe view" in [a.text() for a in menu.actions()]
    finally:
        INSPECT_VIEWS.pop("Probe view")


def test_a_broken_inspect_view_is_reported_and_the_window_still_opens(make_window):
    def broken(window):
        raise RuntimeError("no attention in this backbone")

    register_inspect_view("Broken view", broken)
    try:
        window = make_window(load=False)
        assert "Broken view" not in window.inspect.titles()
        assert any("Broken view" in m and "no attention" in m for m in window.log_panel.messages())
    finally:
        INSPECT_VIEWS.pop("Broken view")


def test_export_writes_the_encoder_off_the_gui_thread(make_window, qtbot, tmp_path, tiny_config):
    if importlib.util.find_spec("labbench.export") is None:
        pytest.skip("labbench.export is not in this checkout")
    from labbench.engine import Trainer

    trainer = Trainer(apply_overrides(tiny_config, ["train.max_steps=2"]), runs_root=tmp_path / "runs")
    assert trainer.fit().status == "completed"
    window = make_window(load=False)
    window.run_list.tree.setCurrentItem(window.run_list.item(trainer.run_dir))
    assert window.export_target() == str(trainer.run_dir)
    window.export_run(trainer.run_dir, tmp_path / "out")
    qtbot.waitUntil(lambda: any("encoder exported" in m for m in window.log_panel.messages()), timeout=60000)
    assert {p.suffix for p in (tmp_path / "out").iterdir()} >= {".pt", ".onnx"}


def on_screen(monkeypatch, width: int, height: int) -> QRect:
    """Windows from now on open on a screen whose available area is ``width``×``height``."""
    area = QRect(0, 0, width, height)
    monkeypatch.setattr(MainWindow, "available_geometry", lambda self: area)
    return area


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (2560, 1440)])
def test_the_first_window_takes_a_share_of_the_screen_and_fits_it(make_window, monkeypatch, size):
    area = on_screen(monkeypatch, *size)
    window = make_window(load=size == (1366, 768))  # the smallest screen with its dataset shown
    window.show()
    assert area.contains(window.geometry()) and area.contains(window.inspect.geometry())
    assert window.width() >= 0.7 * size[0] and window.height() >= 0.75 * size[1]
    needed = window.minimumSizeHint()
    assert needed.width() <= size[0] and needed.height() <= size[1]  # every dock's minimum fits together


def test_a_layout_saved_on_a_larger_screen_is_clamped_to_this_one(make_window, monkeypatch):
    on_screen(monkeypatch, 2560, 1440)
    big = make_window(load=False)
    big.show()
    big.setGeometry(100, 80, 2400, 1300)
    big.close()
    area = on_screen(monkeypatch, 1366, 768)
    small = make_window(load=False)
    small.show()
    assert area.contains(small.geometry())


def test_the_window_does_not_widen_itself_after_errors_and_long_paths(make_window, monkeypatch, qtbot, tmp_path):
    area = on_screen(monkeypatch, 1366, 768)
    window = make_window()
    window.show()
    width = window.width()
    window.method_config.forms["optim"].set_value("lr", 0.0)  # an error under a field, another in the status bar
    window.method_config._show_problems([("", "x" * 400)])  # a long unbroken line
    folder = tmp_path.joinpath(*["a-long-folder-name-without-any-spaces"] * 6)
    folder.mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (12, 12), (40 * i, 90, 200)).save(folder / f"image-{i}.png")
    (folder / "not-an-image.jpg").write_text("text")  # skipped, and said so with its whole path
    window.browser.load_source("folder", str(folder))
    qtbot.waitUntil(lambda: not window.browser.is_loading(), timeout=30000)
    assert window.browser.root_label.text() == str(folder)
    qtbot.wait(50)
    assert window.width() == width and window.minimumSizeHint().width() <= area.width()


def test_the_title_names_the_run_setup_and_labbench_once(make_window):
    before = QApplication.applicationDisplayName()
    QApplication.setApplicationDisplayName("labbench")  # as ui.app sets it; Qt adds it to every title
    try:
        window = make_window(load=False)
        shown = f"{window.windowTitle()} — {QApplication.applicationDisplayName()}"
        assert shown.count("labbench") == 1 and "simclr on shapes" in shown
    finally:
        QApplication.setApplicationDisplayName(before)


def test_an_invalid_field_blocks_start_and_says_which(make_window, qtbot):
    window = make_window()
    assert window.start_action.isEnabled()
    window.method_config.forms["method"].set_value("temperature", 0.0)
    assert not window.start_action.isEnabled()
    assert "SimCLR › Temperature" in window.start_action.toolTip()
    assert "SimCLR › Temperature" in window.blocked_label.text() and not window.blocked_label.isHidden()
    window.start_training()  # the shortcut of a disabled action does nothing; a call says why
    assert not window.session.is_active()
    assert any("cannot start: fix SimCLR › Temperature" in m for m in window.log_panel.messages())
    window.method_config.forms["method"].set_value("temperature", 0.2)
    assert window.start_action.isEnabled() and window.blocked_label.isHidden()


def test_closing_mid_run_says_where_the_run_was_saved(make_window, training_window, capsys):
    window, _steps = training_window(steps=2)
    run_dir = window.session.run_dir
    window.close()
    assert f"checkpoint is saved in {run_dir}" in capsys.readouterr().err
    again = make_window(load=False)
    assert any(run_dir in m and "Resume it from the Runs panel" in m for m in again.log_panel.messages())


def test_the_inspect_window_opens_again_where_it_was(make_window, monkeypatch):
    area = on_screen(monkeypatch, 1920, 1080)
    first = make_window(load=False)
    first.show()
    first.inspect.show_view("Collapse")
    first.inspect.setGeometry(60, 40, 640, 480)  # within the test screen, which restoreGeometry keeps to
    first.close()
    second = make_window(load=False)
    second.show()
    assert second.inspect.isVisible() and area.contains(second.inspect.geometry())
    assert second.inspect.size().width() == 640

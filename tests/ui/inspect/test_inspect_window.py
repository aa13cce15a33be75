"""The Inspect views in the window: one panel, every view found by its full name, the followed run shown once."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt

from labbench.engine.events import ProbeEvent
from labbench.evaluate.probes import probe_path
from ui.main_window import INSPECT_VIEWS

VIEWS = ["Attention maps", "MAE reconstructions", "Embeddings", "Collapse", "Affinity matrix", "Evaluation",
         "Pretext-task gallery", "InfoNCE explorer", "Contrastive simulator"]


def test_every_view_is_reachable_by_its_full_name_from_the_navigator_and_the_menu(make_window, qtbot):
    window = make_window(load=False)
    window.show()
    assert window.inspect.titles() == list(INSPECT_VIEWS) and set(VIEWS) <= set(window.inspect.titles())
    menu = window.inspect_menu
    for title in VIEWS:
        action = next(a for a in menu.actions() if a.text() == title)
        action.trigger()
        assert window.inspect.current_title() == title
        assert window.inspect.stack.currentWidget().widget() is window.inspect.view(title)
        assert window.inspect.isVisible()
    nav = window.inspect.navigator
    for row in range(nav.count()):
        item = nav.item(row)
        assert not item.icon().isNull()
        assert nav.fontMetrics().horizontalAdvance(item.text()) + nav.iconSize().width() < nav.width()  # never elided
    assert not any("could not" in m for m in window.log_panel.messages())


def test_the_keyboard_reaches_every_view(make_window, qtbot):
    window = make_window(load=False)
    window.show()
    window.inspect_action.trigger()
    nav = window.inspect.navigator
    nav.setCurrentRow(0)
    for title in window.inspect.titles()[1:]:
        qtbot.keyClick(nav, Qt.Key.Key_Down)
        assert window.inspect.current_title() == title
    shortcuts = {a.text(): a.shortcut().toString() for a in window.inspect_view_actions}
    assert shortcuts["Attention maps"] == "Ctrl+1" and shortcuts["Collapse"] == "Ctrl+4"


def test_the_followed_run_is_shown_once_and_only_for_views_of_a_run(make_window, qtbot, simclr_run):
    window = make_window(load=False)
    window.show()
    window.open_run(simclr_run)
    assert window.inspect.picker.current() == str(simclr_run)
    window.inspect.show_view("Collapse")
    assert window.inspect.picker.isVisible()
    assert not hasattr(window.inspect.view("Collapse"), "picker")  # no second run picker inside the view
    window.inspect.show_view("InfoNCE explorer")
    assert not window.inspect.picker.isVisible()


def test_run_views_follow_the_run_selected_in_the_runs_panel(make_window, qtbot, dino_run):
    window = make_window(load=False)
    window.show()
    viewer = window.inspect.show_view("Attention maps")
    window.open_run(dino_run)
    window.run_list.tree.setCurrentItem(window.run_list.item(dino_run))
    qtbot.waitUntil(lambda: viewer.arrays is not None, timeout=20000)
    assert viewer.run_dir == str(dino_run)


def test_a_run_opened_from_elsewhere_is_in_the_evaluation_table(make_window, qtbot, simclr_run, tmp_path):
    window = make_window(load=False, runs_root=tmp_path / "elsewhere")
    window.show()
    window.open_run(simclr_run)
    view = window.inspect.show_view("Evaluation")
    assert str(simclr_run) in view.paths
    assert view.selected_run() == str(simclr_run)


def test_a_new_probe_file_of_a_running_run_shows_at_once(make_window, qtbot, dino_run, tmp_path):
    run = tmp_path / "runs" / dino_run.name
    shutil.copytree(dino_run, run)
    probe_path(run, 2).unlink()  # as if epoch 2 were still training
    window = make_window(load=False)
    window.show()
    viewer = window.inspect.show_view("Attention maps")
    window.inspect.follow(run)
    qtbot.waitUntil(lambda: viewer.arrays is not None, timeout=20000)
    assert viewer.scrubber.epochs == [1]
    shutil.copy(probe_path(dino_run, 2), probe_path(run, 2))
    window.session.probe.emit(ProbeEvent(2, 8, str(probe_path(run, 2))))
    qtbot.waitUntil(lambda: viewer.scrubber.epoch() == 2 and not viewer.tasks.is_busy(), timeout=20000)
    assert viewer.scrubber.epochs == [1, 2]


def test_the_gallery_follows_the_image_selected_in_the_browser(make_window, qtbot):
    window = make_window()
    window.show()
    gallery = window.inspect.show_view("Pretext-task gallery")
    window.browser.select_row(2)
    qtbot.waitUntil(lambda: bool(gallery.previews), timeout=30000)
    assert gallery.caption.text().startswith("#2")

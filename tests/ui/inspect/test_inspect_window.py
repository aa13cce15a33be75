"""The inspect views in the window: listed in the Inspect menu, following the run and image the person picks."""

from __future__ import annotations

import shutil

from labbench.engine.events import ProbeEvent
from labbench.evaluate.probes import probe_path
from ui.main_window import INSPECT_VIEWS


def show_dock(window, title: str):
    dock = next(d for d in window.inspect_docks if d.windowTitle() == title)
    dock.show()
    dock.raise_()
    return dock.widget()


def test_every_view_is_a_dock_listed_in_the_inspect_menu(make_window):
    window = make_window(load=False)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Inspect")
    titles = [a.text() for a in menu.actions()]
    assert titles == list(INSPECT_VIEWS)
    assert {"Attention maps", "MAE reconstructions", "Embeddings", "Collapse", "Affinity matrix", "Evaluation",
            "Pretext-task gallery", "InfoNCE explorer", "Contrastive simulator"} <= set(titles)
    assert not any("could not" in m for m in window.log_panel.messages())


def test_run_views_follow_the_run_selected_in_the_runs_panel(make_window, qtbot, dino_run):
    window = make_window(load=False)
    window.show()
    viewer = show_dock(window, "Attention maps")
    window.open_run(dino_run)
    window.run_list.tree.setCurrentItem(window.run_list.item(dino_run))
    qtbot.waitUntil(lambda: viewer.arrays is not None, timeout=20000)
    assert viewer.run_dir == str(dino_run)


def test_a_new_probe_file_of_a_running_run_shows_at_once(make_window, qtbot, dino_run, tmp_path):
    run = tmp_path / "runs" / dino_run.name
    shutil.copytree(dino_run, run)
    probe_path(run, 2).unlink()  # as if epoch 2 were still training
    window = make_window(load=False)
    window.show()
    viewer = show_dock(window, "Attention maps")
    viewer.picker.select(run)
    qtbot.waitUntil(lambda: viewer.arrays is not None, timeout=20000)
    assert viewer.scrubber.epochs == [1]
    shutil.copy(probe_path(dino_run, 2), probe_path(run, 2))
    window.session.probe.emit(ProbeEvent(2, 8, str(probe_path(run, 2))))
    qtbot.waitUntil(lambda: viewer.scrubber.epoch() == 2 and not viewer.tasks.is_busy(), timeout=20000)
    assert viewer.scrubber.epochs == [1, 2]


def test_the_gallery_follows_the_image_selected_in_the_browser(make_window, qtbot):
    window = make_window()
    window.show()
    gallery = show_dock(window, "Pretext-task gallery")
    window.browser.select_row(2)
    qtbot.waitUntil(lambda: bool(gallery.previews), timeout=30000)
    assert gallery.caption.text().startswith("#2")

"""The dataset browser: sources load off the GUI thread into the grid; bad folders are reported."""

from __future__ import annotations

import pytest

from labbench.sources import SOURCES
from ui.docks.dataset_browser import DatasetBrowser
from ui.state import ConfigState


@pytest.fixture
def browser(qtbot, tiny_config):
    dock = DatasetBrowser(ConfigState(tiny_config))
    qtbot.addWidget(dock)
    dock.resize(400, 600)
    dock.show()
    with qtbot.waitSignal(dock.dataset_loaded, timeout=60000):
        dock.load()
    return dock


def test_loading_shapes_fills_the_grid_and_selects_an_image(browser, qtbot):
    assert browser.model.rowCount() > 0
    assert browser.current_image() is not None
    assert browser.mask_check.isEnabled()  # shapes know their masks
    assert browser.busy.isHidden()


def test_the_source_menu_lists_the_source_table_and_marks_those_that_ask_for_a_folder(qtbot, tiny_config):
    dock = DatasetBrowser(ConfigState(tiny_config))  # nothing loaded: the menu is there from the start
    qtbot.addWidget(dock)
    combo = dock.source_combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(SOURCES)
    texts = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert texts["shapes"] == "Shapes (built-in, with masks)" and texts["cifar10"] == "CIFAR-10 (local folder)…"
    assert all(texts[name].endswith("…") == source.reads_a_folder for name, source in SOURCES.items())


def test_choosing_a_dataset_fills_the_grid_and_the_class_filter(browser, qtbot):
    with qtbot.waitSignal(browser.dataset_loaded, timeout=60000):
        browser.load_source("digits")
    assert browser.state.config.data.source == "digits"
    assert browser.source_combo.currentData() == "digits"
    assert browser.model.rowCount() > 0
    counts = [browser.class_combo.itemText(i) for i in range(browser.class_combo.count())]
    assert counts[0].startswith("All classes") and len(counts) == 11  # "all" + ten digits with counts
    total = sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in counts[1:])
    assert total == browser.model.rowCount()


def test_class_filter_shows_only_that_class(browser):
    browser.set_class_filter(1)
    assert browser.model.rowCount() > 0
    labels = browser.model.image_set().labels
    assert all(int(labels[browser.model.dataset_index(r)]) == 1 for r in range(browser.model.rowCount()))


def test_selecting_an_image_sends_it_to_the_preview(browser, qtbot):
    with qtbot.waitSignal(browser.image_selected) as blocker:
        browser.select_row(3)
    image, caption = blocker.args
    assert image.shape[0] == 3 and caption.startswith("#")
    assert browser.image_view.image().width() == image.shape[2]


def test_a_bad_folder_is_reported_by_file_and_the_previous_set_stays(browser, qtbot, tmp_path):
    for name in ("broken.png", "empty.jpg", "truncated.png"):
        (tmp_path / name).write_bytes(b"not an image at all"[: len(name)])
    rows = browser.model.rowCount()
    messages = []
    browser.message.connect(lambda text, level: messages.append((level, text)))
    with qtbot.waitSignal(browser.loading_changed, check_params_cb=lambda busy: not busy, timeout=60000):
        browser.load_source("folder", str(tmp_path))
    errors = [text for level, text in messages if level == "error"]
    assert len(errors) == 1 and str(tmp_path) in errors[0]
    assert any(name in errors[0] for name in ("broken.png", "empty.jpg", "truncated.png"))
    assert browser.model.rowCount() == rows
    assert browser.state.config.data.source == "shapes"
    assert browser.source_combo.currentData() == "shapes"


def test_a_set_cut_to_num_images_says_so_and_how_to_use_all(browser, qtbot, tmp_path):
    from PIL import Image

    for i in range(12):
        Image.new("RGB", (10, 10), (20 * i, 80, 160)).save(tmp_path / f"{i}.png")
    browser.state.update("data", {"num_images": 6})
    with qtbot.waitSignal(browser.dataset_loaded, timeout=60000):
        browser.load_source("folder", str(tmp_path))
    assert "capped at data.num_images = 6" in browser.status.text() and "0 on the Data tab" in browser.status.text()
    browser.state.update("data", {"num_images": 0})
    qtbot.waitUntil(lambda: browser.model.rowCount() + 3 >= 12 and not browser.is_loading(), timeout=60000)
    assert "capped" not in browser.status.text()


def test_a_packed_set_opens_as_shards_and_its_streamed_images_show_in_the_grid(browser, qtbot, tmp_path, monkeypatch):
    from labbench.data import packed
    from labbench.data.pack import pack_folder
    from tests.conftest import write_photos

    write_photos(tmp_path / "photos", per_class=6)
    pack_folder(str(tmp_path / "photos"), tmp_path / "pack", shard_mb=0.02, threads=1)
    monkeypatch.setattr(packed, "STREAM_ABOVE_BYTES", 0)  # as if the set were too large for the store
    with qtbot.waitSignal(browser.dataset_loaded, timeout=60000) as loaded:
        browser.load_source("folder", str(tmp_path / "pack"))
    images = loaded.args[0]
    assert images.streamed and browser.state.config.data.source == "shards"
    assert "streamed" in browser.status.text() and browser.model.rowCount() == len(images)
    with qtbot.waitSignal(browser.image_selected) as selected:
        browser.select_row(2)
    image, _ = selected.args
    assert tuple(image.shape) == (3, 16, 16) and image.float().std() > 0

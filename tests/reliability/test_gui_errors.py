"""In the window, every failure becomes a readable line in the log panel (and, for errors, a box that
does not block): never a traceback dialog, never a frozen window — the event loop keeps running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from labbench.engine import Trainer
from labbench.run_config import apply_overrides
from tests.reliability.conftest import break_training_step, image_bytes, write

pytestmark = pytest.mark.usefixtures("garbage_in_the_gui_thread")  # as the window collects garbage

WAIT = 60_000


@pytest.fixture(autouse=True)
def temp_settings(tmp_path_factory):
    """The window's QSettings live in a fresh temporary folder, never the user's."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path, tiny_config):
    from ui.main_window import MainWindow

    w = MainWindow(config=tiny_config, runs_root=tmp_path / "runs")
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.browser.model.rowCount() > 0, timeout=WAIT)
    return w


def _log(window) -> str:
    return "\n".join(window.log_panel.messages())


def _boxes() -> list[str]:
    return [w.text() for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def _assert_responsive(qtbot, window) -> None:
    """A timer still fires, no modal dialog holds the window, and no box shows a traceback."""
    ticks = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    qtbot.waitUntil(lambda: len(ticks) >= 3, timeout=5000)
    timer.stop()
    assert QApplication.activeModalWidget() is None
    assert not any("Traceback" in text for text in _boxes())


def _train_until_done(qtbot, window) -> None:
    window.start_training()
    qtbot.waitUntil(lambda: not window.session.is_active(), timeout=WAIT)


def test_divergence_names_the_step_and_suggests_a_lower_learning_rate(qtbot, window, monkeypatch):
    break_training_step(monkeypatch, 2, make_loss=lambda loss: loss * float("nan"))
    _train_until_done(qtbot, window)
    assert "training diverged at step 2" in _log(window) and "lower learning rate" in _log(window)
    assert any("diverged at step 2" in text for text in _boxes())
    _assert_responsive(qtbot, window)


def test_out_of_memory_names_the_batch_size_and_the_window_stays_up(qtbot, window, monkeypatch):
    break_training_step(monkeypatch, 1, error=torch.OutOfMemoryError("CUDA out of memory"))
    _train_until_done(qtbot, window)
    assert "out of memory at batch size 16" in _log(window) and "lower train.batch_size" in _log(window)
    _assert_responsive(qtbot, window)


def test_an_unexpected_crash_is_a_message_not_a_traceback_dialog(qtbot, window, monkeypatch):
    break_training_step(monkeypatch, 1, error=RuntimeError("boom in the model"))
    _train_until_done(qtbot, window)
    assert "boom in the model" in _log(window)
    assert any(text == "RuntimeError: boom in the model" for text in _boxes())
    _assert_responsive(qtbot, window)


def test_a_method_backbone_mismatch_is_reported_by_field(qtbot, window, tiny_config):
    window.state.set(apply_overrides(tiny_config, ["method.name=mae"]))
    _train_until_done(qtbot, window)
    assert "backbone.name: MAE" in _log(window)
    _assert_responsive(qtbot, window)


def test_a_folder_without_images_is_reported_and_the_previous_data_stays(qtbot, window, tmp_path):
    (tmp_path / "empty").mkdir()
    rows = window.browser.model.rowCount()
    window.browser.load_source("folder", str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: "no images found" in _log(window), timeout=WAIT)
    assert window.browser.model.rowCount() == rows
    _assert_responsive(qtbot, window)


def test_skipped_files_with_non_utf8_names_are_listed_readably(qtbot, window, tmp_path):
    for i in range(6):
        write(tmp_path / "pics" / f"{i}.png", image_bytes(seed=i))
    with open(os.fsencode(tmp_path / "pics") + b"/broken\xff.png", "wb") as f:
        f.write(b"not an image")
    window.browser.load_source("folder", str(tmp_path / "pics"))
    qtbot.waitUntil(lambda: "skipped" in _log(window), timeout=WAIT)
    assert "broken" in _log(window) and "not an image" in _log(window)
    _assert_responsive(qtbot, window)


def test_resuming_a_truncated_checkpoint_says_so(qtbot, window, tiny_config, tmp_path):
    run = Path(Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir)
    checkpoint = run / "checkpoints" / "last.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    window.resume_run(str(run))
    qtbot.waitUntil(lambda: not window.session.is_active(), timeout=WAIT)
    assert "truncated or corrupt" in _log(window)
    _assert_responsive(qtbot, window)


def test_run_folders_with_missing_or_damaged_files_are_listed_and_open_with_what_is_there(qtbot, window, tmp_path):
    runs = tmp_path / "runs"
    write(runs / "20200101-000000-simclr-old" / "metrics.jsonl",
          b'{"kind": "step", "step": 5, "epoch": 0, "loss": 2.0}\n\xff\xfe torn')
    write(runs / "20200101-000001-simclr-bad" / "config.toml", b"not = [toml")
    window.run_list.refresh()
    assert len(window.run_list.paths()) == 2
    window.open_run(runs / "20200101-000001-simclr-bad")  # no curves, no settings: nothing to show
    assert "not a valid TOML file" in _log(window)
    config = window.state.config
    window.open_run(runs / "20200101-000000-simclr-old")  # curves without a config: shown as they are
    assert str(runs / "20200101-000000-simclr-old") in window.plots.runs
    assert "no config.toml" in _log(window) and window.state.config == config
    _assert_responsive(qtbot, window)


def test_an_export_that_fails_is_reported(qtbot, window, tmp_path):
    (tmp_path / "runs" / "nothing").mkdir(parents=True)
    task = window.export_run(tmp_path / "runs" / "nothing", tmp_path / "out")
    qtbot.waitUntil(lambda: "export failed" in _log(window), timeout=WAIT)
    assert task is not None
    _assert_responsive(qtbot, window)


def test_closing_during_a_run_saves_a_whole_checkpoint(qtbot, window, tiny_config):
    window.state.set(apply_overrides(tiny_config, ["train.epochs=1000"]))
    steps = []
    window.session.step.connect(lambda event: steps.append(event.step))
    window.start_training()
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=WAIT)
    run = Path(window.session.run_dir)
    window.close()  # stops at a step boundary and joins the training thread before it returns
    qtbot.waitUntil(lambda: not window.session.is_active(), timeout=5000)  # the queued "finished" arrives
    assert "stopped at step" in _log(window)
    assert (run / "checkpoints" / "last.pt").is_file()
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    assert Trainer.resume(run).config.train.epochs == 1000


def test_closing_during_an_export_leaves_only_whole_files(qtbot, window, tiny_config, tmp_path):
    from PySide6.QtCore import QThreadPool

    from labbench.export import load_encoder

    run = Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir
    out = tmp_path / "out"
    window.export_run(run, out)
    window.close()
    assert QThreadPool.globalInstance().waitForDone(WAIT)
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    for path in out.iterdir():
        if path.suffix in (".pt", ".safetensors", ".ts", ".onnx"):
            load_encoder(path)

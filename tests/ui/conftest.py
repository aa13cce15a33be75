"""Fixtures for the window tests: settings in a temporary folder, tiny configs, a window on tiny shapes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from labbench.run_config import RunConfig, apply_overrides

TINY = [
    "data.source=shapes", "data.image_size=16", "data.num_images=96",
    "backbone.name=cnn", "backbone.width=8",
    "method.name=simclr", "method.projection_dim=16",
    "optim.name=sgd", "optim.lr=0.05", "optim.warmup_epochs=0",
    "train.epochs=2", "train.batch_size=16", "train.log_every_steps=1", "train.device=cpu",
    "eval.max_bank=40", "eval.max_eval=20", "eval.knn_k=5",
]


@pytest.fixture(autouse=True, scope="module")
def every_window_test_collects_in_the_gui_thread(garbage_in_the_gui_thread):
    """Every module of window tests runs as the window does (tests/conftest.py)."""
    return garbage_in_the_gui_thread


@pytest.fixture(autouse=True)
def temp_settings(tmp_path_factory):
    """Every QSettings the window opens lives in a fresh temporary folder, never the user's."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    return folder


@pytest.fixture(scope="session")
def tiny_config() -> RunConfig:
    """SimCLR on 96 shapes of 16 px with a width-8 CNN: a run of a few steps takes well under a second."""
    return apply_overrides(RunConfig(), TINY)


@pytest.fixture
def make_window(qtbot, tmp_path, tiny_config):
    """Build windows on the tiny config with runs under ``tmp_path/runs`` (or ``runs_root``); waits for the dataset."""
    from ui.main_window import MainWindow

    def make(config: RunConfig | None = None, load: bool = True, runs_root=None) -> MainWindow:
        window = MainWindow(config=config or tiny_config, runs_root=runs_root or tmp_path / "runs", load_dataset=load)
        qtbot.addWidget(window)
        if load:
            qtbot.waitUntil(lambda: window.browser.model.rowCount() > 0, timeout=60000)
        return window

    return make


@pytest.fixture
def training_window(make_window, qtbot, tiny_config):
    """``start(steps)``: a window that trains a long tiny run, once ``steps`` step events have arrived;
    the window, and the list of step numbers it keeps receiving."""
    def start(steps: int = 1):
        window = make_window(apply_overrides(tiny_config, ["train.epochs=500"]))  # long enough to act mid-run
        seen: list[int] = []
        window.session.step.connect(lambda event: seen.append(event.step))
        window.start_training()
        qtbot.waitUntil(lambda: len(seen) >= steps, timeout=60000)
        return window, seen

    return start

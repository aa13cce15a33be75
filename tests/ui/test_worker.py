"""Training from the window: real tiny runs in the worker thread, controlled from the GUI thread."""

from __future__ import annotations

from pathlib import Path

from labbench.engine.checkpoint import CHECKPOINT_NAME
from labbench.run_config import apply_overrides
from labbench.runs import read_metrics
from ui.state import SessionState
from ui.worker import TrainingSession

LONG = ["train.epochs=500"]  # long enough to pause, stop or close mid-run


def test_start_runs_real_steps_and_plot_points_appear(make_window, qtbot):
    window = make_window()
    with qtbot.waitSignal(window.session.finished, timeout=60000) as blocker:
        window.start_training()
    finished = blocker.args[0]
    assert finished.status == "completed"
    qtbot.waitUntil(lambda: window.plots.point_count("loss_raw") > 0, timeout=2000)
    assert window.plots.point_count("loss_raw") == finished.step  # log_every_steps = 1
    assert window.plots.point_count("knn_accuracy") >= 1
    assert window.step_label.text() == f"step {finished.step}/{finished.step}"
    assert window.progress.value() == window.progress.maximum()
    assert window.run_list.item(finished.run_dir) is not None
    assert any(r["kind"] == "step" for r in read_metrics(finished.run_dir))
    assert window.start_action.isEnabled()


def test_pause_resume_and_stop_act_within_a_step(training_window, qtbot):
    window, steps = training_window(steps=2)
    session = window.session

    assert not window.method_config.isEnabled()  # the running config cannot be edited
    assert not window.preview.sliders[("flip_p", None)].isEnabled()
    window.pause_action.trigger()
    assert window.resume_action.isEnabled() and not window.pause_action.isEnabled()
    qtbot.wait(300)  # at most the step in flight completes
    paused_at = len(steps)
    qtbot.wait(400)
    assert len(steps) == paused_at

    window.resume_action.trigger()
    qtbot.waitUntil(lambda: len(steps) > paused_at, timeout=10000)

    window.pause_action.trigger()
    assert window.eta_label.text() == "ETA – (paused)"  # no time passes on a paused run
    qtbot.wait(300)
    assert window.eta_label.text() == "ETA – (paused)"  # not even when the step in flight reports
    window.resume_action.trigger()
    with qtbot.waitSignal(session.finished, timeout=60000) as blocker:
        window.stop_action.trigger()
    finished = blocker.args[0]
    assert finished.status == "stopped"
    assert (Path(finished.run_dir) / "checkpoints" / CHECKPOINT_NAME).is_file()
    assert window.start_action.isEnabled() and not window.stop_action.isEnabled()
    assert (window.speed_label.text(), window.eta_label.text()) == ("– img/s", "ETA –")  # nothing runs now


def test_stop_while_paused_still_saves(qtbot, tmp_path, tiny_config):
    session = TrainingSession(tmp_path)
    steps = []
    session.step.connect(lambda e: steps.append(e.step))
    session.start(apply_overrides(tiny_config, LONG))
    qtbot.waitUntil(lambda: len(steps) >= 1, timeout=60000)
    session.pause()
    with qtbot.waitSignal(session.finished, timeout=60000) as blocker:
        session.stop()
    assert blocker.args[0].status == "stopped"
    assert session.state is SessionState.IDLE


def test_closing_mid_run_leaves_a_resumable_checkpoint(training_window, qtbot):
    window, _steps = training_window(steps=3)
    run_dir = Path(window.session.run_dir)
    window.close()
    checkpoint = run_dir / "checkpoints" / CHECKPOINT_NAME
    assert checkpoint.is_file()
    stopped_at = max(r["step"] for r in read_metrics(run_dir) if r["kind"] == "finished")
    assert stopped_at >= 3

    session = TrainingSession(run_dir.parent)
    resumed = []
    session.step.connect(lambda e: resumed.append(e.step))
    session.resume(run_dir)
    qtbot.waitUntil(lambda: len(resumed) >= 1, timeout=60000)
    with qtbot.waitSignal(session.finished, timeout=60000):
        session.stop()
    assert resumed[0] == stopped_at + 1  # continues where the window left off


def test_a_crash_in_training_reaches_the_window_as_a_failed_run(qtbot, tmp_path, tiny_config):
    bad = apply_overrides(tiny_config, ["train.batch_size=4096"])  # larger than the training split
    session = TrainingSession(tmp_path)
    with qtbot.waitSignal(session.finished, timeout=60000) as blocker:
        session.start(bad)
    assert blocker.args[0].status == "failed"
    assert "batch_size" in blocker.args[0].message

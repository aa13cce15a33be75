"""Run folders in the window: listed from disk, overlaid when ticked, resumed when stopped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labbench.engine import Control, StepEvent, Trainer
from labbench.run_config import apply_overrides
from ui.docks.run_list import run_label


@pytest.fixture(scope="module")
def shared_runs(tmp_path_factory, tiny_config):
    """A completed run and one stopped at step 2, trained once for the module (tests must not change them)."""
    root = tmp_path_factory.mktemp("runs")
    done = Trainer(apply_overrides(tiny_config, ["train.max_steps=3"]), runs_root=root)
    assert done.fit().status == "completed"
    control = Control()
    stopped = Trainer(tiny_config, [lambda e: isinstance(e, StepEvent) and e.step == 2 and control.stop()],
                      control, runs_root=root)
    assert stopped.fit().status == "stopped"
    return root, str(done.run_dir), str(stopped.run_dir)


@pytest.fixture
def runs(shared_runs):
    return shared_runs[1:]


@pytest.fixture
def runs_window(make_window, shared_runs):
    return make_window(load=False, runs_root=shared_runs[0])


def test_run_folders_are_listed_with_what_they_say(runs_window, runs):
    window = runs_window
    done, stopped = runs
    assert set(window.run_list.paths()) == {done, stopped}
    assert window.run_list.item(done).text(4) == "completed"
    assert window.run_list.item(stopped).text(4) == "stopped"


def test_ticking_a_run_overlays_its_curves_and_unticking_hides_them(runs_window, runs):
    window = runs_window
    done, _ = runs
    window.run_list.set_checked(done, True)
    assert window.plots.point_count("loss_raw", done) == 3
    window.run_list.set_checked(done, False)
    assert not window.plots.runs[done].items["loss_raw"].isVisible()


def test_only_a_stopped_run_with_a_checkpoint_can_be_resumed(make_window, shared_runs, qtbot, tmp_path):
    root = tmp_path / "runs"
    done, stopped = (str(shutil.copytree(p, root / Path(p).name)) for p in shared_runs[1:])  # resuming changes it
    window = make_window(load=False, runs_root=root)
    window.run_list.tree.setCurrentItem(window.run_list.item(done))
    assert not window.run_list.resume_button.isEnabled()
    window.run_list.tree.setCurrentItem(window.run_list.item(stopped))
    assert window.run_list.resume_button.isEnabled()
    steps = []
    window.session.step.connect(lambda e: steps.append(e.step))
    with qtbot.waitSignal(window.session.finished, timeout=60000) as blocker:
        window.run_list.resume_button.click()
    assert steps[0] == 3  # continues after the saved step 2
    assert blocker.args[0].status == "completed"
    assert window.plots.point_count("loss_raw", stopped) == blocker.args[0].step  # old and new points, one curve


def test_opening_a_run_shows_its_config_and_curves(runs_window, runs):
    window = runs_window
    done, _ = runs
    window.open_run(done)
    assert window.state.config.train.max_steps == 3
    assert window.plots.point_count("loss_raw", done) == 3
    assert window.run_list.is_checked(done)


def test_run_labels_are_short():
    assert run_label("/x/runs/20261126-130147-simclr-big") == "simclr-big 13:01:47"
    assert run_label("/x/my-run") == "my-run"


def test_a_run_made_by_the_command_line_appears_and_updates_by_itself(make_window, qtbot, tmp_path, tiny_config):
    root = tmp_path / "runs"
    window = make_window(load=False, runs_root=root)
    assert window.run_list.paths() == []
    trainer = Trainer(apply_overrides(tiny_config, ["train.max_steps=2"]), runs_root=root)
    assert trainer.fit().status == "completed"  # as `labbench train` would, in another process
    qtbot.waitUntil(lambda: window.run_list.item(trainer.run_dir) is not None, timeout=10000)
    assert window.run_list.item(trainer.run_dir).text(4) == "completed"
    assert str(trainer.run_dir) in window.inspect.picker.paths()  # the Inspect window lists it too


def test_the_live_run_says_training_while_it_trains(training_window, qtbot):
    window, _steps = training_window()
    run_dir = window.session.run_dir
    assert window.run_list.item(run_dir).text(4) == "training"
    with qtbot.waitSignal(window.session.finished, timeout=60000):
        window.stop_action.trigger()
    qtbot.waitUntil(lambda: window.run_list.item(run_dir).text(4) == "stopped", timeout=10000)

"""Issue #15, defects 1 and 9: a resume with another batch size or other data cannot loop, and
``--resume`` with ``--set``/``--data``/``--preset`` applies what may change or refuses it by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labbench.cli import main
from labbench.run_config import apply_overrides, dump_toml, load_config
from labbench.engine import Control, Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.runs import read_metrics

from tests.reliability.conftest import image_folder


def _stopped_at(cfg, root: Path, step: int) -> Path:
    """A run of ``cfg`` stopped (and saved) after ``step`` steps."""
    control = Control()
    stop = lambda e: control.stop() if e.kind == "step" and e.step == step else None  # noqa: E731
    finished = Trainer(cfg, [stop], control, runs_root=root).fit()
    assert finished.status == "stopped" and finished.step == step
    return Path(finished.run_dir)


def _edit_config(run: Path, *overrides: str) -> None:
    """Change the run's config.toml as a person would, in an editor."""
    (run / "config.toml").write_text(dump_toml(apply_overrides(load_config(run / "config.toml"), list(overrides))))


def _resume(run: Path) -> tuple[object, list[str]]:
    messages = []
    finished = Trainer.resume(run, [lambda e: messages.append(getattr(e, "message", ""))]).fit()
    return finished, messages


def test_a_larger_batch_resumes_at_the_next_epoch_instead_of_looping_forever(tmp_path, tiny_config, deadline):
    cfg = apply_overrides(tiny_config, ["train.epochs=3"])  # 51 training images, 16 a batch: 3 steps an epoch
    run = _stopped_at(cfg, tmp_path, 2)  # two steps into epoch 1
    _edit_config(run, "train.batch_size=48")  # one step an epoch: batch 2 of epoch 1 is never reached
    deadline(120)
    finished, messages = _resume(run)
    assert finished.status == "completed"
    assert any("the batch size changed (16 → 48)" in m and "continuing at the start of epoch 2" in m
               for m in messages)
    assert finished.epoch == 3 and finished.step == 2 + 2  # epochs 2 and 3, one step each
    steps = [r["step"] for r in read_metrics(run) if r["kind"] == "step"]
    assert steps == sorted(set(steps))  # the step count runs on: no record is duplicated


def test_a_smaller_batch_mid_epoch_trains_the_remaining_epochs(tmp_path, tiny_config, deadline):
    cfg = apply_overrides(tiny_config, ["train.epochs=2"])
    run = _stopped_at(cfg, tmp_path, 1)
    _edit_config(run, "train.batch_size=8")  # six steps an epoch
    deadline(120)
    finished, messages = _resume(run)
    assert finished.status == "completed" and finished.epoch == 2 and finished.step == 1 + 6
    assert any("continuing at the start of epoch 2" in m for m in messages)


def test_images_removed_from_a_folder_are_noticed_and_the_run_still_trains(tmp_path, tiny_config, deadline):
    data = image_folder(tmp_path / "images", per_class=30)  # 48 training images: 3 steps an epoch
    cfg = apply_overrides(tiny_config, ["data.source=folder", f"data.root='{data}'", "data.num_images=0",
                                        "train.epochs=4"])
    run = _stopped_at(cfg, tmp_path / "runs", 5)  # epoch 2, two steps in
    for i in range(12, 30):  # 24 images left: 19 for training, one step an epoch
        (data / "red" / f"{i}.png").unlink()
        (data / "blue" / f"{i}.png").unlink()
    deadline(120)
    finished, messages = _resume(run)
    assert any("the training images changed (48 → 19 images)" in m for m in messages)
    assert finished.status == "completed" and finished.epoch == 4
    assert finished.step == 5 + 2  # epochs 3 and 4 trained, not "completed" without a step


def test_an_unchanged_resume_keeps_its_exact_position(tmp_path, tiny_config):
    run = _stopped_at(apply_overrides(tiny_config, ["train.epochs=2"]), tmp_path, 2)
    finished, messages = _resume(run)
    assert not any("continuing at the start" in m for m in messages)
    assert finished.step == 6 and load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 6


# -- --resume with --set, --data, --preset ---------------------------------------------------------


@pytest.fixture
def stopped_run(tmp_path, tiny_config) -> Path:
    return _stopped_at(apply_overrides(tiny_config, ["train.epochs=2"]), tmp_path, 2)


def test_resume_applies_a_longer_schedule_given_with_set(stopped_run, capsys):
    assert main(["train", "--resume", str(stopped_run), "--set", "train.epochs=3"]) == 0
    assert "resuming with train.epochs 2 → 3" in capsys.readouterr().err
    assert load_checkpoint(stopped_run / "checkpoints" / "last.pt")["epoch"] == 3
    assert load_config(stopped_run / "config.toml").train.epochs == 3  # a later resume keeps it


def test_resume_refuses_a_change_of_what_is_trained_by_name_and_writes_nothing(stopped_run, capsys):
    before = (stopped_run / "metrics.jsonl").read_bytes()
    assert main(["train", "--resume", str(stopped_run), "--set", "method.temperature=0.2"]) == 2
    err = capsys.readouterr().err
    assert "a resume cannot change method.temperature 0.1 → 0.2" in err
    assert "labbench train --config" in err and "--set=method.temperature=0.2" in err
    assert (stopped_run / "metrics.jsonl").read_bytes() == before


def test_resume_refuses_a_preset_and_other_data(stopped_run, capsys):
    assert main(["train", "--resume", str(stopped_run), "--preset", "byol"]) == 2
    assert "--preset cannot be used with --resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(stopped_run), "--data", "digits"]) == 2
    assert 'a resume cannot change data.source "shapes" → "digits"' in capsys.readouterr().err


def test_resume_follows_a_moved_data_folder_given_with_data(tmp_path, tiny_config, capsys):
    data = image_folder(tmp_path / "images", per_class=20)
    cfg = apply_overrides(tiny_config, ["data.source=folder", f"data.root='{data}'", "data.num_images=0",
                                        "train.epochs=2"])
    run = _stopped_at(cfg, tmp_path / "runs", 2)
    moved = shutil.move(data, tmp_path / "moved")
    assert main(["train", "--resume", str(run), "--data", str(moved)]) == 0
    err = capsys.readouterr().err
    assert "resuming with data.root" in err and "continuing at the start" not in err  # the same images
    assert load_config(run / "config.toml").data.root == str(moved)


def _stopped_after(run: Path, steps: int, *overrides: str):
    """Resume ``run`` (after editing its config), stopping ``steps`` steps later."""
    if overrides:
        _edit_config(run, *overrides)
    control, seen = Control(), []

    def stop(event):
        if event.kind == "step":
            seen.append(event.step)
            if len(seen) == steps:
                control.stop()

    return Trainer.resume(run, [stop], control).fit()


def test_a_run_realigned_once_keeps_its_schedule_over_later_resumes(tmp_path, tiny_config):
    run = _stopped_at(apply_overrides(tiny_config, ["train.epochs=4"]), tmp_path, 2)
    assert _stopped_after(run, 3, "train.batch_size=8").step == 5  # realigned to epoch 2: six steps an epoch
    finished, _ = _resume(run)  # the same batch again: exact, and the plan is not shifted twice
    assert finished.status == "completed" and (finished.step, finished.epoch) == (2 + 3 * 6, 4)


def test_a_realignment_past_the_last_epoch_is_saved_as_the_end(tmp_path, tiny_config):
    run = _stopped_at(apply_overrides(tiny_config, ["train.epochs=2"]), tmp_path, 4)  # one step into epoch 2
    _edit_config(run, "train.batch_size=8")
    finished, _ = _resume(run)
    assert finished.status == "completed" and finished.epoch == 2
    assert load_checkpoint(run / "checkpoints" / "last.pt")["epoch"] == 2  # a later resume has nothing left
    assert [r["epoch"] for r in read_metrics(run) if r["kind"] == "epoch"][-1] == 2  # measured at its end
    again, _ = _resume(run)
    assert (again.status, again.step) == ("completed", 4)

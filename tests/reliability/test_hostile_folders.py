"""Issue #15, defect 3: a shared run folder whose files are links or pipes neither redirects a run's
writes outside the folder nor hangs a reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labbench.cli import main
from labbench.run_config import apply_overrides
from labbench.engine import Control, Trainer
from labbench.runs import list_runs, read_metrics


@pytest.fixture
def stopped_run(tmp_path, tiny_config) -> Path:
    """A run two epochs long, stopped after its first epoch: resuming it writes every kind of file."""
    cfg = apply_overrides(tiny_config, ["train.epochs=2", "eval.probe_images=2"])
    control = Control()
    stop_after_epoch_1 = lambda e: control.stop() if e.kind == "epoch" else None  # noqa: E731
    finished = Trainer(cfg, [stop_after_epoch_1], control, runs_root=tmp_path / "runs").fit()
    assert finished.status == "stopped" and finished.epoch == 1
    return Path(finished.run_dir)


def _outside(tmp_path: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in (tmp_path / "elsewhere").rglob("*") if p.is_file()}


@pytest.mark.parametrize("entry", ["metrics.jsonl", "checkpoints", "probes"])
def test_a_linked_file_or_folder_is_refused_and_nothing_is_written_outside(stopped_run, tmp_path, entry):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = stopped_run / entry
    (elsewhere / entry).write_bytes(b"") if entry.endswith(".jsonl") else (elsewhere / entry).mkdir()
    if target.is_dir():
        for child in target.iterdir():
            os.replace(child, elsewhere / entry / child.name)
        target.rmdir()
    else:
        target.unlink(missing_ok=True)
    target.symlink_to(elsewhere / entry)
    before = _outside(tmp_path)
    finished = Trainer.resume(stopped_run).fit()
    assert finished.status == "failed"
    assert f"{target}: a symbolic link — a run folder's files must live in it" in finished.message
    assert _outside(tmp_path) == before


def test_a_pipe_for_metrics_neither_hangs_training_nor_the_run_list(stopped_run, deadline, capsys):
    metrics = stopped_run / "metrics.jsonl"
    metrics.unlink()
    os.mkfifo(metrics)
    deadline(60)
    finished = Trainer.resume(stopped_run).fit()
    assert finished.status == "failed" and f"{metrics}: not a regular file" in finished.message
    assert read_metrics(stopped_run) == []
    (run,) = list_runs(stopped_run.parent)
    assert any("not a regular file" in p for p in run.problems)
    assert main(["runs", "--runs-dir", str(stopped_run.parent)]) == 0


def test_a_pipe_for_the_config_does_not_hang_the_run_list(stopped_run, deadline):
    config = stopped_run / "config.toml"
    config.unlink()
    os.mkfifo(config)
    deadline(60)
    (run,) = list_runs(stopped_run.parent)
    assert any("config.toml: not a regular file" in p for p in run.problems)



def test_a_runs_folder_that_is_a_link_is_the_persons_choice(tmp_path, tiny_config):
    (tmp_path / "big-disk").mkdir()
    (tmp_path / "runs").symlink_to(tmp_path / "big-disk")
    run = Path(Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir)
    assert Trainer.resume(run).fit().status == "completed"
    assert any((tmp_path / "big-disk").iterdir())

"""Rebuilding a run's method from its folder: finished runs, running runs, and broken checkpoints."""

import shutil

import pytest
import torch

from labbench.engine import CheckpointEvent, Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.errors import CheckpointError
from labbench.engine.checkpointed import load_run, load_run_method


def test_loaded_method_holds_the_checkpoint_weights_in_eval_mode(simclr_run):
    method, config = load_run_method(simclr_run)
    saved = load_checkpoint(simclr_run / "checkpoints" / "last.pt")["model"]
    assert config.method.name == "simclr" and not method.training
    for key, value in method.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_load_run_reports_where_in_training_the_checkpoint_was_taken(simclr_run):
    loaded = load_run(simclr_run)
    assert (loaded.epoch, loaded.step) == (2, 10)  # 160 training images / 32 = 5 steps × 2 epochs


def test_missing_checkpoint_names_the_file(simclr_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(simclr_run, run)
    (run / "checkpoints" / "last.pt").unlink()
    with pytest.raises(CheckpointError, match=r"last\.pt: no checkpoint yet"):
        load_run_method(run)


def test_truncated_checkpoint_is_refused_by_name(simclr_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(simclr_run, run)
    path = run / "checkpoints" / "last.pt"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"last\.pt: not a readable checkpoint"):
        load_run_method(run)


def test_checkpoint_of_another_method_is_refused(simclr_run, mae_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(mae_run, run)
    shutil.copy(simclr_run / "checkpoints" / "last.pt", run / "checkpoints" / "last.pt")
    with pytest.raises(CheckpointError, match="method 'simclr'.*config.toml says 'mae'"):
        load_run_method(run)


def test_a_running_run_opens_at_its_latest_checkpoint(simclr_run):
    config = load_run(simclr_run).config.model_copy(update={"name": "running"})
    seen = []

    def open_while_training(event):
        if isinstance(event, CheckpointEvent):
            seen.append(load_run(trainer.run_dir).step)

    trainer = Trainer(config, [open_while_training], runs_root=simclr_run.parent)
    assert trainer.fit().status == "completed"
    assert seen == [5, 10]

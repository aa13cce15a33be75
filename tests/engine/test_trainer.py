"""The trainer: real steps, events, checkpoints, exact resume, divergence."""

import json

import torch

from labbench.engine import Control, EpochEvent, FinishedEvent, StepEvent, Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.engine.events import ReferenceEvent
from labbench.methods.simclr import SimCLR
from labbench.run_config import apply_overrides
from labbench.runs import read_metrics, read_run


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.method.state_dict().items()}


def test_fit_runs_all_steps_and_reports_events(tiny_config, tmp_path):
    events = []
    trainer = Trainer(tiny_config, [events.append], runs_root=tmp_path)
    result = trainer.fit()
    assert result.status == "completed"
    steps = [e for e in events if isinstance(e, StepEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert [e.step for e in steps] == list(range(1, 9))  # 128 train images / 32 = 4 steps × 2 epochs
    assert len(epochs) == 2 and all(0.0 <= e.knn_accuracy <= 1.0 for e in epochs)
    assert all(e.feature_std > 0 and e.effective_rank >= 1 for e in epochs)
    run_dir = trainer.run_dir
    assert (run_dir / "config.toml").is_file() and (run_dir / "checkpoints" / "last.pt").is_file()
    records = read_metrics(run_dir)
    assert [r["kind"] for r in records].count("step") == 8
    assert records[-1]["kind"] == "finished" and records[-1]["status"] == "completed"
    info = read_run(run_dir)
    assert info.status == "completed" and info.method == "simclr" and info.knn_accuracy is not None


def test_stop_then_resume_gives_the_same_weights_as_an_uninterrupted_run(tiny_config, tmp_path):
    straight = Trainer(tiny_config, runs_root=tmp_path / "a")
    straight.fit()

    control = Control()

    def stop_at_step_3(event):
        if isinstance(event, StepEvent) and event.step == 3:
            control.stop()

    first = Trainer(tiny_config, [stop_at_step_3], control, runs_root=tmp_path / "b")
    assert first.fit().status == "stopped"
    assert load_checkpoint(first.run_dir / "checkpoints" / "last.pt")["step"] == 3
    resumed = Trainer.resume(first.run_dir)
    assert resumed.fit().status == "completed"
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_pause_blocks_until_resume(tiny_config, tmp_path):
    import threading

    control = Control()
    steps = []

    def pause_at_2(event):
        if isinstance(event, StepEvent):
            steps.append(event.step)
            if event.step == 2:
                control.pause()
                threading.Timer(0.3, control.resume).start()

    assert Trainer(tiny_config, [pause_at_2], control, runs_root=tmp_path).fit().status == "completed"
    assert steps == list(range(1, 9))


def test_non_finite_loss_stops_with_the_step_and_keeps_last_good_checkpoint(tiny_config, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = SimCLR.training_step

    def poisoned(self, images, g):  # a fault injected at step 6, in the second epoch
        loss, metrics = original(self, images, g)
        calls["n"] += 1
        return (loss * float("nan") if calls["n"] >= 6 else loss), metrics

    monkeypatch.setattr(SimCLR, "training_step", poisoned)
    events = []
    trainer = Trainer(tiny_config, [events.append], runs_root=tmp_path)
    result = trainer.fit()
    assert result.status == "diverged"
    assert "step 5" in result.message and "lower learning rate" in result.message
    kept = load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")
    assert kept["step"] == 4  # the end of epoch 1: the last good one
    assert all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())
    assert isinstance(events[-1], FinishedEvent)


def test_batch_larger_than_dataset_is_a_clear_failure(tiny_config, tmp_path):
    cfg = apply_overrides(tiny_config, ["train.batch_size=1024"])
    result = Trainer(cfg, runs_root=tmp_path).fit()
    assert result.status == "failed" and "train.batch_size" in result.message


def test_metrics_file_is_valid_json_lines(tiny_config, tmp_path):
    trainer = Trainer(tiny_config, runs_root=tmp_path)
    trainer.fit()
    for line in (trainer.run_dir / "metrics.jsonl").read_text().splitlines():
        json.loads(line)


def test_the_reference_lines_come_once_before_the_first_k_nn_point_and_survive_a_resume(tiny_config, tmp_path):
    control = Control()
    events = []

    def stop_in_epoch_2(event):
        events.append(event)
        if isinstance(event, StepEvent) and event.step == 6:
            control.stop()

    first = Trainer(tiny_config, [stop_in_epoch_2], control, runs_root=tmp_path)
    first.fit()
    kinds = [e.kind for e in events]
    assert kinds.count("reference") == 1 and kinds.index("reference") < kinds.index("epoch")
    reference = next(e for e in events if isinstance(e, ReferenceEvent))
    assert 0.0 <= reference.raw_pixels_knn <= 1.0 and 0.0 <= reference.untrained_knn <= 1.0
    resumed_events = []
    Trainer.resume(first.run_dir, [resumed_events.append]).fit()
    assert not any(isinstance(e, ReferenceEvent) for e in resumed_events)  # it is in the checkpoint already
    assert [r["kind"] for r in read_metrics(first.run_dir)].count("reference") == 1

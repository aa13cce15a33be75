"""However a run ends — diverged, out of memory, stopped during training, evaluation or export — it
ends with a message, keeps the last good checkpoint and leaves no half-written file behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from labbench.engine import Control, Trainer, trainer as trainer_module
from labbench.engine.checkpoint import load_checkpoint
from labbench.run_config import apply_overrides
from labbench.runs import list_runs, read_metrics, read_run

from tests.reliability.conftest import break_training_step


def _leftovers(run_dir: Path) -> list[Path]:
    """Temporary files an interrupted atomic write would leave."""
    return [p for p in Path(run_dir).rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_loss_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(
        tmp_path, tiny_config, monkeypatch, bad):
    cfg = apply_overrides(tiny_config, ["train.epochs=3", "train.log_every_steps=2"])  # 3 steps per epoch
    break_training_step(monkeypatch, 5, make_loss=lambda loss: loss * bad)
    finished = Trainer(cfg, runs_root=tmp_path).fit()
    assert finished.status == "diverged"
    assert "diverged at step 5" in finished.message and "lower learning rate (optim.lr)" in finished.message
    saved = load_checkpoint(Path(finished.run_dir) / "checkpoints" / "last.pt")
    assert saved["step"] == 3  # the end of the first epoch, before the bad step
    assert all(torch.isfinite(t).all() for t in saved["model"].values() if t.is_floating_point())
    assert read_run(finished.run_dir).status == "diverged"


def test_out_of_memory_is_reported_with_the_batch_size_and_what_to_do(tmp_path, tiny_config, monkeypatch):
    break_training_step(monkeypatch, 2, error=torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"))
    finished = Trainer(tiny_config, runs_root=tmp_path).fit()
    assert finished.status == "failed"
    assert "out of memory at batch size 16" in finished.message and "lower train.batch_size" in finished.message


def test_stop_during_training_saves_a_resumable_checkpoint_and_no_temporary_files(tmp_path, tiny_config):
    control = Control()
    stop_at_step_2 = lambda e: control.stop() if e.kind == "step" and e.step == 2 else None  # noqa: E731
    finished = Trainer(tiny_config, [stop_at_step_2], control, runs_root=tmp_path).fit()
    assert finished.status == "stopped" and finished.step == 2
    assert not _leftovers(finished.run_dir)
    resumed = Trainer.resume(finished.run_dir).fit()
    assert resumed.status == "completed" and resumed.step == 3


def test_stop_during_evaluation_finishes_the_epoch_cleanly(tmp_path, tiny_config, monkeypatch):
    cfg = apply_overrides(tiny_config, ["train.epochs=3", "eval.probe_images=2"])
    control, original = Control(), trainer_module.run_monitors

    def monitors_then_stop(*args, **kwargs):
        control.stop()  # the person presses Stop while the monitors run
        return original(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "run_monitors", monitors_then_stop)
    finished = Trainer(cfg, control=control, runs_root=tmp_path).fit()
    assert finished.status == "stopped" and finished.step == 3
    run = Path(finished.run_dir)
    assert not _leftovers(run)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 3
    assert [r["kind"] for r in read_metrics(run)].count("epoch") == 1


def test_an_export_cancelled_midway_writes_nothing(tmp_path, tiny_config):
    from labbench.export import export_run

    run = Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir
    out = tmp_path / "out"
    with pytest.raises(InterruptedError):
        export_run(run, out, ["pt", "safetensors"], progress=lambda done, total: False)
    assert not _leftovers(out)
    assert [p.name for p in out.iterdir()] == [".lock"]  # the set is swapped in whole or not at all


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", "..", ""])
def test_export_never_writes_outside_the_chosen_folder(tmp_path, tiny_config, name):
    from labbench.errors import ConfigError
    from labbench.export import export_run

    run = Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir
    before = {p for p in tmp_path.rglob("*")}
    with pytest.raises(ConfigError, match="export name"):
        export_run(run, tmp_path / "out" / "inner", ["pt"], name=name)
    assert {p for p in tmp_path.rglob("*")} == before


def test_metrics_lines_are_never_torn_and_a_torn_tail_is_skipped(tmp_path, tiny_config):
    run = Path(Trainer(tiny_config, runs_root=tmp_path).fit().run_dir)
    lines = (run / "metrics.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(isinstance(json.loads(line), dict) for line in lines[:-1])
    with open(run / "metrics.jsonl", "ab") as f:  # a crash from a writer that was not atomic
        f.write(b'{"kind": "step", "step": 99, "lo')
    assert read_metrics(run)[-1]["kind"] == "finished"


def test_run_folders_with_missing_or_foreign_files_open_with_what_is_there(tmp_path, tiny_config):
    full = Path(Trainer(tiny_config, runs_root=tmp_path).fit().run_dir)
    only_metrics = tmp_path / "20200101-000000-simclr-old"
    only_metrics.mkdir()
    (only_metrics / "metrics.jsonl").write_bytes((full / "metrics.jsonl").read_bytes() + b"\xff\xfe junk\n[1, 2]\n")
    only_config = tmp_path / "20200101-000001-simclr-config"
    only_config.mkdir()
    (only_config / "config.toml").write_text((full / "config.toml").read_text())
    old_config = tmp_path / "20200101-000002-simclr-older"
    old_config.mkdir()
    (old_config / "config.toml").write_text('removed_key = 1\n[method]\nname = "simclr"\n')
    (old_config / "metrics.jsonl").write_text('{"kind": "step", "step": 3, "epoch": 0, "loss": 1.5}\n'
                                              '{"kind": "some_future_kind", "x": 1}\n')
    runs = {r.name: r for r in list_runs(tmp_path)}
    assert len(runs) == 4
    old = runs[only_metrics.name]
    assert old.step == 3 and old.status == "completed" and old.method is None and old.problems
    assert runs[only_config.name].method == "simclr" and runs[only_config.name].step is None
    older = runs[old_config.name]
    assert older.loss == 1.5 and any("removed_key" in p for p in older.problems)


def test_an_evaluation_cancelled_midway_keeps_the_earlier_result_whole(tmp_path, tiny_config):
    from labbench.scoring import evaluate_run, read_eval

    run = Trainer(tiny_config, runs_root=tmp_path).fit().run_dir
    first = evaluate_run(run, ["knn"], device="cpu", baselines=False)
    calls = []

    def cancel_halfway(done, total):
        calls.append(done)
        return len(calls) < 3

    with pytest.raises(InterruptedError):
        evaluate_run(run, ["knn", "linear"], device="cpu", baselines=False, progress=cancel_halfway)
    assert not _leftovers(run)
    assert read_eval(run).scores == first.scores

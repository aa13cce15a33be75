"""Checkpoints survive a kill at any moment, and a checkpoint that does not fit, is damaged or would
run code is refused with a CheckpointError naming the file — never loaded, never a crash."""

from __future__ import annotations

import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from labbench.engine import Control, Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.errors import CheckpointError
from labbench.export import load_encoder
from labbench.run_config import apply_overrides, dump_toml

MARKER = "pwned.marker"


class _RunsCode:
    """Unpickling this calls ``open(MARKER, "w")``: the marker file appears if the loader ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def finished_run(tmp_path, tiny_config) -> Path:
    finished = Trainer(tiny_config, runs_root=tmp_path / "runs").fit()
    assert finished.status == "completed"
    return Path(finished.run_dir)


def _resume_with(run_dir: Path, *overrides: str):
    """Resume ``run_dir`` after editing its config as a person might."""
    cfg = apply_overrides(Trainer.resume(run_dir).config, list(overrides))
    (run_dir / "config.toml").write_text(dump_toml(cfg))
    return Trainer.resume(run_dir).fit()


def test_a_checkpoint_of_another_method_is_refused_by_name(finished_run):
    finished = _resume_with(finished_run, "method.name=byol")
    assert finished.status == "failed"
    assert "checkpoint of method 'simclr', but this run uses 'byol'" in finished.message
    assert "last.pt" in finished.message


def test_a_checkpoint_of_another_backbone_is_refused_by_name(finished_run):
    finished = _resume_with(finished_run, "backbone.name=resnet18")
    assert finished.status == "failed" and "backbone 'cnn', but this run uses 'resnet18'" in finished.message


def test_a_checkpoint_of_another_width_is_refused_naming_the_change(finished_run):
    finished = _resume_with(finished_run, "backbone.width=16")
    assert finished.status == "failed" and "a resume cannot change backbone.width 8 → 16" in finished.message


def test_weights_of_another_shape_say_they_do_not_fit(finished_run):
    path = finished_run / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    del state["config"]  # as a checkpoint from before configs were saved in it
    torch.save(state, path)
    finished = _resume_with(finished_run, "backbone.width=16")
    assert finished.status == "failed" and "does not fit this run's model" in finished.message


def test_a_truncated_checkpoint_is_named_and_the_run_fails_cleanly(finished_run):
    path = finished_run / "checkpoints" / "last.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"last\.pt: not a readable checkpoint — truncated or corrupt"):
        load_checkpoint(path)
    finished = Trainer.resume(finished_run).fit()
    assert finished.status == "failed" and "truncated or corrupt" in finished.message


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_a_checkpoint_that_would_run_code_is_refused_and_never_runs_it(tmp_path, monkeypatch, how):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    payload = {"model": {"w": torch.zeros(2)}, "x": _RunsCode(MARKER)}
    if how == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(CheckpointError, match=r"evil\.pt: refused — the file holds Python objects"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="refused"):
        load_encoder(path)
    assert not (tmp_path / MARKER).exists()


def test_the_evil_file_would_really_run_code_when_unpickled(tmp_path, monkeypatch):
    """Guards the test above: without weights_only the payload does create the marker."""
    monkeypatch.chdir(tmp_path)
    pickle.loads(pickle.dumps(_RunsCode(MARKER)))
    assert (tmp_path / MARKER).exists()


_SAVER = textwrap.dedent("""
    import sys, torch
    from labbench.engine.checkpoint import save_checkpoint
    weights = torch.empty(4 << 20)  # 16 MB: a write takes long enough to be interrupted
    n = first = int(sys.argv[2]) + 1
    while True:
        weights.fill_(n)
        save_checkpoint(sys.argv[1], {"step": n, "weights": weights})
        if n == first:
            print("saved", flush=True)
        n += 1
""")


def _killed_at_random(args: list[str], rng: random.Random, ready) -> None:
    """Start ``python args``, wait until ``ready(proc)`` (it has saved once), SIGKILL it 0–0.3 s later."""
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ready(proc):
            assert proc.poll() is None and time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_a_process_killed_while_saving_leaves_the_previous_checkpoint_whole(tmp_path):
    script, path, rng = tmp_path / "saver.py", tmp_path / "last.pt", random.Random(0)
    script.write_text(_SAVER)
    step = 0
    for _ in range(4):
        _killed_at_random([str(script), str(path), str(step)], rng, lambda proc: proc.stdout.readline() == "saved\n")
        state = load_checkpoint(path)  # must never raise
        assert state["step"] >= step and bool((state["weights"] == state["step"]).all())
        step = state["step"]
    assert step > 0


_TRAINER = textwrap.dedent("""
    import sys
    from labbench.engine import Trainer
    Trainer.resume(sys.argv[1]).fit()
""")


def test_a_training_process_killed_at_random_moments_stays_resumable(tmp_path, tiny_config):
    """Saves every epoch (two steps each): a kill lands before, during or after a checkpoint write."""
    cfg = apply_overrides(tiny_config, ["train.epochs=100000", "eval.every_epochs=100000", "data.num_images=40"])
    control = Control()
    control.stop()  # make the folder and its first checkpoint, then let the subprocess train
    run_dir = Path(Trainer(cfg, control=control, runs_root=tmp_path).fit().run_dir)
    checkpoint = run_dir / "checkpoints" / "last.pt"
    script, rng = tmp_path / "train.py", random.Random(1)
    script.write_text(_TRAINER)
    for _ in range(2):
        before = checkpoint.stat().st_mtime_ns
        _killed_at_random([str(script), str(run_dir)], rng, lambda proc: checkpoint.stat().st_mtime_ns != before)
        load_checkpoint(checkpoint)
    control = Control()
    control.stop()
    finished = Trainer.resume(run_dir, control=control).fit()
    assert finished.status == "stopped" and finished.step > 0
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name != "last.pt" and not p.name.endswith(".tmp")]


def test_resuming_removes_the_partial_checkpoint_a_killed_run_left(finished_run):
    leftover = finished_run / "checkpoints" / ".last.pt.k1ll3d.tmp"
    leftover.write_bytes(b"half a checkpoint")
    messages = []
    finished = Trainer.resume(finished_run, [lambda e: messages.append(getattr(e, "message", ""))]).fit()
    assert finished.status == "completed" and not leftover.exists()
    assert any("removed what a killed run left half-written (.last.pt.k1ll3d.tmp)" in m for m in messages)
    assert (finished_run / "checkpoints" / "last.pt").is_file()

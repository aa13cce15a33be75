"""Issue #15's soak: 20 cycles of train → SIGKILL, SIGTERM or SIGINT at a random moment → resume, half
of them with another batch size. Whatever the order, a run ends with the weights of an uninterrupted
run (while its batch stays the same), with every metrics record exactly once, and no temporary file."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest
import torch

from labbench.engine.checkpoint import load_checkpoint
from labbench.runs import read_metrics

from tests.reliability.conftest import TINY_SETS, labbench, step_records, temporary_files, wait_for

EPOCHS = 30  # 3 steps an epoch at batch 16, 6 at 8, 2 at 24
SOAK = [*TINY_SETS, "--set", f"train.epochs={EPOCHS}", "--set", "eval.every_epochs=5"]
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
CLEAN_EXITS = (0, -signal.SIGKILL, 128 + signal.SIGTERM, 128 + signal.SIGINT)


def _interrupted(args: list[str], root: Path, rng: random.Random) -> Path:
    """Run ``labbench ARGS`` on the one run folder under ``root``; once it has written 1–4 more step
    records (and 0–0.2 s more), send it a random stop signal. Returns the run folder."""
    def run() -> Path | None:
        return next(root.iterdir(), None) if root.is_dir() else None

    goal = (len(step_records(run())) if run() else 0) + rng.randint(1, 4)
    proc = labbench(*args)
    try:
        wait_for(lambda: (run() is not None and len(step_records(run())) >= goal) or proc.poll() is not None)
        time.sleep(rng.uniform(0.0, 0.2))
    finally:
        proc.send_signal(rng.choice(SIGNALS))
        _, err = proc.communicate(timeout=120)
    assert proc.returncode in CLEAN_EXITS and "Traceback" not in err, err
    return run()


def _soak(root: Path, rng: random.Random, cycles: int, batches: tuple[int, ...] = ()) -> Path:
    """A new run interrupted, then resumed and interrupted again ``cycles - 1`` times (each resume with
    a batch size drawn from ``batches`` when given), then resumed to its end."""
    run = _interrupted(["train", "--runs-dir", str(root), *SOAK], root, rng)
    for _ in range(cycles - 1):
        batch = ["--set", f"train.batch_size={rng.choice(batches)}"] if batches else []
        _interrupted(["train", "--resume", str(run), *batch], root, rng)
    _run_to_end("train", "--resume", str(run))
    return run


def _run_to_end(*args: str) -> None:
    """Every training in a fresh process alike (none in this one, whose global torch state earlier
    tests may have changed): bit-identical weights are compared between them."""
    proc = labbench(*args)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err


def _check_history(run: Path) -> None:
    final = load_checkpoint(run / "checkpoints" / "last.pt")
    assert final["epoch"] == EPOCHS
    records = read_metrics(run)
    assert [r["step"] for r in records if r["kind"] == "step"] == list(range(1, final["step"] + 1))  # none lost or twice
    epochs = [r["epoch"] for r in records if r["kind"] == "epoch"]
    assert epochs == sorted(set(epochs)) and epochs[-1] == EPOCHS
    assert not temporary_files(run)


@pytest.mark.slow
def test_twenty_random_interruptions_lose_nothing_and_change_nothing(tmp_path):
    rng = random.Random(15)
    _run_to_end("train", "--runs-dir", str(tmp_path / "reference"), *SOAK)
    (reference,) = (tmp_path / "reference").iterdir()

    same = _soak(tmp_path / "same", rng, cycles=10)
    _check_history(same)
    ours, uninterrupted = (load_checkpoint(r / "checkpoints" / "last.pt")["model"] for r in (same, reference))
    assert ours.keys() == uninterrupted.keys()
    assert all(torch.equal(ours[k], uninterrupted[k]) for k in ours)  # bit for bit

    changing = _soak(tmp_path / "changing", rng, cycles=10, batches=(8, 16, 24))
    _check_history(changing)

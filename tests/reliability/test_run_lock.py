"""Issue #15, defect 2: a run folder has one writer. A second trainer, evaluation or export is refused
with the holder's pid and host and writes nothing; a lock left by a killed process is taken over."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from labbench.cli import main
from labbench.run_config import apply_overrides
from labbench.engine import Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.runs import read_run

from tests.reliability.conftest import REPO, TINY_SETS, labbench, step_records, wait_for

_HOLD = textwrap.dedent("""
    import sys, time
    from labbench.runlock import RunLock
    with RunLock(sys.argv[1], sys.argv[2]):
        print("held", flush=True)
        time.sleep(600)
""")


@pytest.fixture
def finished_run(tmp_path, tiny_config) -> Path:
    finished = Trainer(apply_overrides(tiny_config, ["train.epochs=2"]), runs_root=tmp_path / "runs").fit()
    return Path(finished.run_dir)


@pytest.fixture
def holder():
    """``hold(folder, purpose)``: another process holding the folder's lock; killed afterwards."""
    procs = []

    def hold(folder: Path, purpose: str = "training"):
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder), purpose], text=True,
                                stdout=subprocess.PIPE, cwd=REPO)
        procs.append(proc)
        assert proc.stdout.readline() == "held\n"
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_second_trainer_is_refused_naming_the_holder_and_touches_nothing(finished_run, holder):
    proc = holder(finished_run)
    partial = finished_run / "checkpoints" / ".last.pt.saving.tmp"  # the holder's checkpoint being written
    partial.write_bytes(b"half of a checkpoint")
    metrics = (finished_run / "metrics.jsonl").read_bytes()
    finished = Trainer.resume(finished_run).fit()
    assert finished.status == "failed"
    assert f"in use — training by process {proc.pid} on {socket.gethostname()}" in finished.message
    assert partial.exists()  # not deleted as "left behind by a killed run"
    assert (finished_run / "metrics.jsonl").read_bytes() == metrics  # no record, no "failed"
    assert read_run(finished_run).status == "running"


def test_evaluation_and_export_wait_for_the_writer(finished_run, holder, tmp_path, capsys):
    holder(finished_run)
    assert main(["eval", str(finished_run), "--protocols", "knn", "--no-baselines", "--device", "cpu"]) == 1
    assert "in use — training by process" in capsys.readouterr().err
    assert not (finished_run / "eval.json").exists()
    assert main(["export", str(finished_run), "--formats", "pt"]) == 1
    assert "in use — training by process" in capsys.readouterr().err
    assert not list((finished_run / "exports").iterdir())


def test_two_training_processes_never_write_the_same_folder(tmp_path):
    first = labbench("train", "--runs-dir", str(tmp_path), *TINY_SETS, "--set", "train.epochs=100000",
                     "--set", "eval.every_epochs=100000")
    try:
        wait_for(lambda: any(tmp_path.iterdir()) and step_records(next(tmp_path.iterdir())), proc=first)
        run = next(tmp_path.iterdir())
        second = labbench("train", "--resume", str(run))
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1 and f"in use — training by process {first.pid}" in err
        assert "Traceback" not in err
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    steps = step_records(run)
    assert steps == sorted(set(steps))  # one writer: no record twice
    assert first.returncode == 130 and load_checkpoint(run / "checkpoints" / "last.pt")["step"] == steps[-1]


def test_a_lock_left_by_a_killed_process_is_taken_over(finished_run, holder):
    proc = holder(finished_run)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    messages = []
    finished = Trainer.resume(finished_run, [lambda e: messages.append(getattr(e, "message", ""))]).fit()
    assert finished.status == "completed"
    assert any(f"the last training by process {proc.pid}" in m and "ended without releasing" in m for m in messages)


def test_a_killed_training_run_is_not_listed_as_running(tmp_path):
    # 250 steps an epoch: killed after its first steps, before its first checkpoint
    proc = labbench("train", "--runs-dir", str(tmp_path), *TINY_SETS, "--set", "data.num_images=5000",
                    "--set", "train.epochs=1000")
    wait_for(lambda: any(tmp_path.iterdir()) and step_records(next(tmp_path.iterdir())), proc=proc)
    run = next(tmp_path.iterdir())
    assert read_run(run).status == "running"
    proc.kill()
    proc.communicate()
    assert not (run / "checkpoints" / "last.pt").exists()
    assert read_run(run).status == "crashed"  # not "running" forever

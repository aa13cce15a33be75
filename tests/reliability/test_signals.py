"""Issue #15, defects 10 and 11: SIGTERM stops training like Ctrl+C — at a step boundary, after a
checkpoint — with exit 143 (130 for Ctrl+C); a second signal never ends in a traceback; Ctrl+C ends
an evaluation cleanly."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from labbench.engine import Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.runs import read_run

from tests.reliability.conftest import TINY_SETS, labbench, step_records, wait_for

LONG = [*TINY_SETS, "--set", "train.epochs=100000", "--set", "eval.every_epochs=100000"]


def _training(tmp_path: Path):
    """A long tiny training process, once it has taken a few steps: (process, run folder)."""
    proc = labbench("train", "--runs-dir", str(tmp_path), *LONG)
    wait_for(lambda: any(tmp_path.iterdir()) and len(step_records(next(tmp_path.iterdir()))) >= 5, proc=proc)
    return proc, next(tmp_path.iterdir())


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_saves_at_the_step_boundary_and_exits_128_plus_its_number(tmp_path, sig, code):
    proc, run = _training(tmp_path)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert f"{signal.Signals(sig).name}: stopping after this step and saving a checkpoint" in err
    assert "Traceback" not in err
    saved = load_checkpoint(run / "checkpoints" / "last.pt")
    assert saved["step"] == step_records(run)[-1]  # nothing trained after the last record is lost
    assert read_run(run).status == "stopped"
    resumed = Trainer.resume(run, control=_stop_at_once()).fit()
    assert resumed.status == "stopped" and resumed.step == saved["step"]


def _stop_at_once():
    from labbench.engine import Control

    control = Control()
    control.stop()
    return control


def test_two_ctrl_c_in_quick_succession_end_cleanly_and_keep_a_checkpoint(tmp_path):
    proc, run = _training(tmp_path)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    load_checkpoint(run / "checkpoints" / "last.pt")  # whole: saved, or the earlier one kept


def test_ctrl_c_during_evaluation_ends_cleanly_and_keeps_eval_json(tmp_path, tiny_config):
    from labbench.scoring import evaluate_run

    run = Path(Trainer(tiny_config, runs_root=tmp_path).fit().run_dir)
    evaluate_run(run, ["knn"], device="cpu", baselines=False)
    before = (run / "eval.json").read_bytes()
    proc = labbench("eval", str(run), "--protocols", "finetune", "--finetune-epochs", "100000", "--device", "cpu")

    def evaluating() -> bool:
        try:
            holder = json.loads((run / ".lock").read_text())
            return (holder["purpose"], holder["state"]) == ("evaluation", "held")
        except (OSError, ValueError, KeyError):
            return False

    wait_for(evaluating, proc=proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "evaluation of" in err and "interrupted" in err
    assert "Traceback" not in err
    assert (run / "eval.json").read_bytes() == before

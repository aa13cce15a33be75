"""A time budget fits every schedule to the steps that fit: the warm-up shrinks, the cosine ends, DINO's
frozen last layer thaws inside the run. The clock is replaced by one that ticks 0.1 s per step, so the
steps that fit do not depend on how fast this machine is."""

import contextlib

import pytest
import torch

from labbench.engine import StepEvent, Trainer
from labbench.engine import trainer as trainer_module
from labbench.run_config import apply_overrides


@pytest.fixture
def steps_tick_the_clock(monkeypatch):
    """Every trainer's clock reads 0.1 s per step taken."""
    made = []

    class StepClock:
        def __init__(self, already: float = 0.0) -> None:
            self.already = already

        def seconds(self) -> float:
            return self.already + 0.1 * made[-1].step

        def excluded(self):
            return contextlib.nullcontext()

    original_init = Trainer.__init__

    def remember(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(trainer_module, "TrainingClock", StepClock)
    monkeypatch.setattr(Trainer, "__init__", remember)


def test_a_budget_fits_the_lr_schedule_to_the_steps_that_fit(tiny_config, tmp_path, steps_tick_the_clock):
    cfg = apply_overrides(tiny_config, ["train.epochs=100", "train.time_budget_s=5", "optim.warmup_epochs=10",
                                        "eval.every_epochs=1000"])
    events = []
    trainer = Trainer(cfg, [events.append], runs_root=tmp_path)
    assert trainer.fit().status == "completed"
    steps = [e for e in events if isinstance(e, StepEvent)]
    # 11 timed steps of 0.1 s, then (5 s − 1.1 s) / 0.1 s more: 50 of the 400 planned steps fit
    assert trainer.step == 50 and steps[-1].total_steps == 50
    assert any("50 steps fit" in getattr(e, "message", "") for e in events)
    lrs = [e.lr for e in steps]
    peak = max(lrs)
    assert lrs.index(peak) < 15  # the 40-step warm-up of the full plan shrank to 5 steps
    assert lrs[-1] < 0.01 * peak  # and the cosine reached its floor by the last step


def test_a_budget_ends_dinos_frozen_last_layer_inside_the_run(tmp_path, steps_tick_the_clock, tiny_config):
    cfg = apply_overrides(tiny_config, [
        "method.name=dino", "method.out_dim=64", "method.hidden_dim=32", "method.bottleneck_dim=16",
        "method.local_crops_number=0", "method.freeze_last_layer=1", "train.batch_size=8", "train.epochs=10",
        "train.time_budget_s=1.2", "optim.name=adamw", "optim.lr=1e-3", "eval.every_epochs=1000",
    ])
    trainer = Trainer(cfg, runs_root=tmp_path)
    torch.manual_seed(cfg.train.seed)
    before = {k: v.clone() for k, v in trainer_module.build_method(cfg, 128).state_dict().items() if "last_layer" in k}
    assert trainer.fit().status == "completed"
    # 16 steps an epoch: unfitted, the 1-epoch freeze would outlast the 12 steps that fit
    assert trainer.step == 12 and trainer.step < trainer.plan.steps_per_epoch
    after = trainer.method.state_dict()
    assert before and any(not torch.equal(before[k], after[k]) for k in before)

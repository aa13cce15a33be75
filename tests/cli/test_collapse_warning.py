"""The command line warns of collapse with the same verdict the window shows."""

from __future__ import annotations

import io

from labbench.cli.progress import ProgressPrinter
from labbench.engine.events import EpochEvent, ProbeEvent
from labbench.evaluate.collapse import verdict


def epoch(e: int, std: float, rank: float) -> EpochEvent:
    return EpochEvent(epoch=e, step=10 * e, knn_accuracy=0.3, feature_std=std, effective_rank=rank,
                      images_per_sec=100.0, metrics={"feature_dim": 64.0})


def test_a_collapsed_epoch_prints_the_verdict_once_and_a_healthy_one_none():
    stream = io.StringIO()
    printer = ProgressPrinter(stream)
    printer(epoch(1, std=0.12, rank=30.0))
    assert "warning" not in stream.getvalue()
    printer(epoch(2, std=0.001, rank=1.2))
    printer(ProbeEvent(2, 20, "probes/epoch-0002.npz", {"alignment": 0.1}))  # nothing new: no second line
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("warning")]
    assert lines == [f"warning: epoch 2: {verdict(0.001, 64, 1.2).words}; {verdict(0.001, 64, 1.2).advice}"]


def test_dinos_teacher_from_the_probe_file_can_call_collapse():
    stream = io.StringIO()
    printer = ProgressPrinter(stream)
    printer(epoch(1, std=0.12, rank=30.0))
    printer(ProbeEvent(1, 10, "probes/epoch-0001.npz", {"teacher_entropy": 4.15, "max_entropy": 4.16,
                                                         "top_prototype_share": 0.05, "center_norm": 1.0}))
    assert "warning: epoch 1: collapsed (uniform)" in stream.getvalue()

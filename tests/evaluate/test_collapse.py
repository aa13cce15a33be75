"""The collapse dashboard: numbers, histograms and a verdict in words; and the per-epoch history."""

import json
import math

import numpy as np
import pytest
import torch

from labbench.data import load_split
from labbench.engine.checkpointed import load_run_method
from labbench.evaluate.collapse import (
    collapse_history, collapse_report, epoch_metrics, verdict, verdict_from_metrics,
)
from labbench.runs import read_metrics


@pytest.fixture(scope="module")
def simclr(simclr_run):
    method, config = load_run_method(simclr_run)
    return method, load_split(config.data).eval.images[:24]


def test_a_trained_run_reports_healthy_spread_embeddings(simclr):
    method, images = simclr
    report = collapse_report(method, images)
    assert not report.collapsed and report.verdict.startswith("healthy")
    assert report.dim == 64 and report.reference_std == pytest.approx(1 / 8)
    assert 1.0 <= report.effective_rank <= 24 and 0.0 <= report.alignment <= 4.0 and report.uniformity <= 0.0
    assert report.positive_similarities.shape == (24,) and report.negative_similarities.shape == (24 * 23,)


def test_an_encoder_that_outputs_a_constant_is_called_collapsed(simclr):
    method, images = simclr
    last_bn = [m for m in method.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)][-1]
    saved = {k: v.clone() for k, v in last_bn.state_dict().items()}
    with torch.no_grad():
        last_bn.weight.zero_()
        last_bn.bias.fill_(1.0)  # every feature is ReLU(1): all images map to one point
    try:
        report = collapse_report(method, images)
    finally:
        last_bn.load_state_dict(saved)
    assert report.collapsed
    assert report.verdict.startswith("collapsed: all embeddings are nearly identical (std 0.000 ≪ 1/√d = 0.125)")


def test_verdict_names_the_numbers_in_plain_words():
    point = verdict(0.002, 128, 40.0)
    assert point.collapsed and point.words == "collapsed: all embeddings are nearly identical (std 0.002 ≪ 1/√d = 0.088)"
    assert point.headline == "collapsed" and "learning rate" in point.advice
    line = verdict(0.05, 128, 1.1)
    assert line.collapsed and line.words.startswith("collapsed to a line")
    healthy = verdict(0.08, 128, 40.0)
    assert not healthy.collapsed and healthy.advice == ""


def test_histograms_cover_minus_one_to_one_as_densities(simclr):
    method, images = simclr
    edges, pos, neg = collapse_report(method, images, space="projection").histograms(bins=20)
    assert edges[0] == -1 and edges[-1] == 1 and len(pos) == len(neg) == 20
    width = edges[1] - edges[0]
    assert (pos * width).sum() == pytest.approx(1.0) and (neg * width).sum() == pytest.approx(1.0)


def test_dino_reports_teacher_entropy_and_centre_norm(dino_run):
    method, config = load_run_method(dino_run)
    report = collapse_report(method, load_split(config.data).eval.images[:16], epoch=2)
    assert report.max_entropy == pytest.approx(math.log(64))
    assert 0.0 <= report.teacher_entropy <= report.max_entropy + 1e-6
    assert report.center_norm == pytest.approx(float(method.center.norm()))
    assert 1 / 16 <= report.top_prototype_share <= 1.0
    # an epoch's probe file keeps these numbers: the same verdict comes back from them
    found = verdict_from_metrics(report.as_metrics())
    assert (found.collapsed, found.words) == (report.collapsed, report.verdict)


def test_history_has_one_value_per_epoch_for_every_signal(dino_run):
    history = collapse_history(dino_run)
    assert history.epochs.tolist() == [1, 2]
    for key in ("feature_std", "effective_rank", "alignment", "uniformity", "teacher_entropy", "center_norm"):
        assert history.series[key].shape == (2,) and np.isfinite(history.series[key]).all(), key


def test_an_epoch_has_one_effective_rank_the_monitors_one(simclr_run):
    # The probe batch measures std and rank too; the epoch monitors' numbers (plots, log) are the ones kept.
    history = collapse_history(simclr_run)
    epochs = {r["epoch"]: r for r in read_metrics(simclr_run) if r["kind"] == "epoch"}
    for epoch, record in epochs.items():
        row = history.at(epoch)
        assert row["effective_rank"] == pytest.approx(record["effective_rank"])
        assert row["feature_std"] == pytest.approx(record["feature_std"])
        assert history.verdict(epoch) == verdict(record["feature_std"], 64, record["effective_rank"])


def test_epoch_metrics_take_each_signal_from_one_record():
    record = {"kind": "epoch", "epoch": 3, "feature_std": 0.1, "effective_rank": 98.7, "knn_accuracy": 0.4,
              "metrics": {"feature_dim": 128}}
    probe = {"feature_std": 0.2, "effective_rank": 72.2, "alignment": 0.5, "teacher_entropy": 4.0}
    steps = {"teacher_entropy": 3.0, "center_norm": 1.5}
    merged = epoch_metrics(record, probe, steps)
    assert merged["effective_rank"] == 98.7 and merged["feature_std"] == 0.1  # the monitors win
    assert merged["teacher_entropy"] == 4.0 and merged["center_norm"] == 1.5  # then the probe, then the steps
    assert merged["reference_std"] == pytest.approx(1 / math.sqrt(128))
    assert verdict_from_metrics(merged) == verdict(0.1, 128, 98.7)
    assert verdict_from_metrics({"alignment": 0.5}) is None


def test_a_run_that_ended_part_way_through_an_epoch_keeps_its_steps_with_that_epoch(tmp_path):
    def step(epoch: int, entropy: float) -> dict:
        return {"kind": "step", "epoch": epoch, "step": 1, "metrics": {"teacher_entropy": entropy}}

    def monitors(epoch: int) -> dict:
        return {"kind": "epoch", "epoch": epoch, "feature_std": 0.1, "effective_rank": 5.0, "metrics": {}}

    whole = [step(0, 4.0), step(0, 6.0), monitors(1), step(1, 3.0), monitors(2)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in whole))
    history = collapse_history(tmp_path)
    assert history.epochs.tolist() == [1, 2] and history.series["teacher_entropy"].tolist() == [5.0, 3.0]
    only_partial = [step(0, 4.0), monitors(0)]  # stopped before the first epoch ended
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in only_partial))
    history = collapse_history(tmp_path)
    assert history.epochs.tolist() == [0] and history.series["teacher_entropy"].tolist() == [4.0]

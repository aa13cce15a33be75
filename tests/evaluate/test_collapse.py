"""The collapse dashboard: numbers, histograms and a verdict in words; and the per-epoch history."""

import math

import numpy as np
import pytest
import torch

from labbench.data import load_split
from labbench.engine.checkpointed import load_run_method
from labbench.evaluate.collapse import collapse_history, collapse_report, verdict, verdict_from_metrics


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
    assert verdict(0.002, 128, 40.0) == (
        True, "collapsed: all embeddings are nearly identical (std 0.002 ≪ 1/√d = 0.088)")
    collapsed, words = verdict(0.05, 128, 1.1)
    assert collapsed and words.startswith("collapsed to a line")


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
    assert verdict_from_metrics(report.as_metrics()) == (report.collapsed, report.verdict)


def test_history_has_one_value_per_epoch_for_every_signal(dino_run):
    history = collapse_history(dino_run)
    assert history.epochs.tolist() == [1, 2]
    for key in ("feature_std", "effective_rank", "alignment", "uniformity", "teacher_entropy", "center_norm"):
        assert history.series[key].shape == (2,) and np.isfinite(history.series[key]).all(), key

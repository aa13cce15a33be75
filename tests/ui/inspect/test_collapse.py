"""The collapse dashboard on real tiny runs: curves per epoch, pair histograms, DINO's teacher, the verdict."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from labbench.evaluate.collapse import collapse_history
from labbench.evaluate.probes import probe_path, read_probes
from ui.inspect.collapse import CollapseDashboard
from ui.theme import current_theme


def open_dashboard(qtbot, run_dir) -> CollapseDashboard:
    widget = CollapseDashboard(run_dir.parent)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitUntil(lambda: widget.probe is not None, timeout=20000)
    return widget


def test_the_curves_follow_the_runs_metrics(qtbot, simclr_run):
    dashboard = open_dashboard(qtbot, simclr_run)
    history = collapse_history(simclr_run)
    x, y = dashboard.curves["effective_rank"].getData()
    assert np.array_equal(x, history.epochs) and np.allclose(y, history.series["effective_rank"])
    assert np.allclose(dashboard.curves["reference_std"].getData()[1], 1 / np.sqrt(64), rtol=1e-3)
    assert dashboard.curves["alignment"].getData()[0] is not None
    assert all(note.isVisible() for note in dashboard.teacher_notes)  # SimCLR has no teacher


def test_the_last_epoch_is_healthy_and_its_pairs_are_histogrammed(qtbot, simclr_run):
    dashboard = open_dashboard(qtbot, simclr_run)
    assert dashboard.scrubber.epoch() == 2 and dashboard.collapsed is False
    assert "Epoch 2:" in dashboard.verdict.text() and "healthy" in dashboard.verdict.text()
    edges, density = dashboard.pos_hist.getData()
    assert len(edges) == len(density) + 1 and np.sum(density * np.diff(edges)) == pytest.approx(1.0, abs=1e-3)
    arrays = read_probes(probe_path(simclr_run, 2))
    assert f"mean cosine {float(arrays['positive_similarity']):.2f}" in dashboard.verdict.text()


def test_scrubbing_shows_another_epochs_pairs(qtbot, simclr_run):
    dashboard = open_dashboard(qtbot, simclr_run)
    last = dashboard.neg_hist.getData()[1].copy()
    dashboard.scrubber.set_epoch(1)
    qtbot.waitUntil(lambda: "Epoch 1:" in dashboard.verdict.text(), timeout=10000)
    assert not np.array_equal(last, dashboard.neg_hist.getData()[1])
    assert all(marker.value() == 1 for marker in dashboard.markers)


def test_dino_shows_its_teacher_entropy_against_log_k(qtbot, dino_run):
    dashboard = open_dashboard(qtbot, dino_run)
    assert not any(note.isVisible() for note in dashboard.teacher_notes)
    entropy = dashboard.curves["teacher_entropy"].getData()[1]
    log_k = dashboard.curves["max_entropy"].getData()[1]
    assert len(entropy) == 2 and np.allclose(log_k, np.log(64), rtol=1e-4)
    assert np.all(entropy <= log_k + 1e-6)


def test_a_collapsed_epoch_is_called_collapsed(qtbot, simclr_run, tmp_path):
    run = tmp_path / "runs" / simclr_run.name
    shutil.copytree(simclr_run, run)
    arrays = read_probes(probe_path(run, 2))
    arrays["feature_std"] = np.asarray(1e-4, dtype=np.float32)  # every embedding at one point
    np.savez_compressed(probe_path(run, 2), **arrays)
    dashboard = open_dashboard(qtbot, run)
    assert dashboard.collapsed is True
    assert "collapsed" in dashboard.verdict.text() and current_theme().error in dashboard.verdict.text()

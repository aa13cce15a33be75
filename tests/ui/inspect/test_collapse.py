"""The collapse dashboard on real tiny runs: curves per epoch, pair histograms, DINO's teacher, the verdict."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from labbench.evaluate.collapse import collapse_history, verdict
from labbench.evaluate.probes import probe_path, read_probes
from labbench.runs import read_metrics
from ui.inspect.collapse import CollapseDashboard
from ui.theme import current_theme


def open_dashboard(qtbot, run_dir) -> CollapseDashboard:
    widget = CollapseDashboard()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    widget.set_run(run_dir)
    qtbot.waitUntil(lambda: widget.probe is not None, timeout=20000)
    return widget


def test_the_curves_follow_the_runs_metrics(qtbot, simclr_run):
    dashboard = open_dashboard(qtbot, simclr_run)
    history = collapse_history(simclr_run)
    x, y = dashboard.curves["effective_rank"].getData()
    assert np.array_equal(x, history.epochs) and np.allclose(y, history.series["effective_rank"])
    reference_x, reference_y = dashboard.curves["reference_std"].getData()
    assert np.allclose(reference_y, 1 / np.sqrt(64), rtol=1e-3)
    assert reference_x[0] < history.epochs[0] and reference_x[-1] > history.epochs[-1]  # drawn even for one epoch
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
    qtbot.waitUntil(lambda: "Epoch 1:" in dashboard.verdict.text() and not dashboard.tasks.is_busy(), timeout=10000)
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
    records = read_metrics(run)
    for record in records:
        if record["kind"] == "epoch" and record["epoch"] == 2:
            record["feature_std"] = 1e-4  # every embedding at one point
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    dashboard = open_dashboard(qtbot, run)
    assert dashboard.collapsed is True
    assert verdict(1e-4, 64, dashboard.history.at(2)["effective_rank"]).words.split(": ")[1] in dashboard.verdict.text()
    assert current_theme().error in dashboard.verdict.text()


def test_the_headline_rank_is_the_plotted_one_and_the_training_plots_one(qtbot, simclr_run):
    dashboard = open_dashboard(qtbot, simclr_run)
    monitors = {r["epoch"]: r["effective_rank"] for r in read_metrics(simclr_run) if r["kind"] == "epoch"}
    epochs, plotted = dashboard.curves["effective_rank"].getData()
    assert dict(zip(epochs.tolist(), plotted.tolist(), strict=True)) == pytest.approx(monitors)
    assert f"effective rank {monitors[2]:.1f}" in dashboard.verdict.text()


def test_dinos_teacher_curves_are_in_view_after_a_run_without_one(qtbot, simclr_run, dino_run):
    dashboard = open_dashboard(qtbot, simclr_run)
    dashboard.set_run(dino_run)
    qtbot.waitUntil(lambda: "teacher_entropy" in dashboard.history.series and not dashboard.tasks.is_busy(),
                    timeout=20000)
    for key, series in (("entropy", "teacher_entropy"), ("center", "center_norm")):
        (x0, x1), (y0, y1) = dashboard.plots[key].viewRange()
        xs, ys = dashboard.curves[series].getData()
        assert x0 <= xs.min() and xs.max() <= x1 and y0 <= np.nanmin(ys) and np.nanmax(ys) <= y1, key


def test_every_column_fits_a_narrow_dashboard(qtbot, dino_run):
    dashboard = open_dashboard(qtbot, dino_run)
    dashboard.resize(640, 600)
    qtbot.wait(50)
    needed = dashboard.canvas.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
    assert needed <= dashboard.canvas.width()

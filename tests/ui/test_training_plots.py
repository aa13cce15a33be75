"""Live plots: events fill buffers, the timer draws them, runs overlay, collapse is called out."""

from __future__ import annotations

import math

import pyqtgraph as pg
import pytest

from labbench.engine.events import EpochEvent, ProbeEvent, ReferenceEvent, StepEvent
from labbench.evaluate.collapse import epoch_metrics, verdict, verdict_from_metrics
from ui.docks.training_plots import EMA_ALPHA, EpochAxis, TrainingPlots


def step(s: int, loss: float, momentum: float | None = None) -> StepEvent:
    return StepEvent(step=s, epoch=0, total_steps=100, loss=loss, lr=0.1, momentum=momentum, images_per_sec=500.0)


def epoch(e: int, std: float, rank: float, dim: int = 64) -> EpochEvent:
    return EpochEvent(epoch=e, step=10 * e, knn_accuracy=0.5, feature_std=std, effective_rank=rank,
                      images_per_sec=400.0, metrics={"feature_dim": dim})


@pytest.fixture
def plots(qtbot):
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.begin_live_run("live", "live run")
    return widget


def test_points_are_drawn_by_the_timer_not_per_event(plots, qtbot):
    for s in range(1, 6):
        plots.on_step(step(s, 2.0))
    assert plots.point_count("loss_raw") == 1  # the first at once, the rest buffered
    qtbot.waitUntil(lambda: plots.point_count("loss_raw") == 5 and plots.point_count("lr") == 5, timeout=1000)


def test_each_timer_tick_draws_one_plot_so_an_epoch_end_is_never_one_long_repaint(plots):
    plots.on_step(step(1, 2.0))  # the first point: the loss plot at once
    plots.on_step(step(2, 1.0, momentum=0.99))
    plots.on_epoch(epoch(1, std=0.1, rank=30.0))
    curves = ("loss_raw", "lr", "images_per_sec", "knn_accuracy", "feature_std", "effective_rank")
    drawn = [tuple(plots.point_count(c) for c in curves)]
    for _ in range(6):  # six plots have changes
        plots._redraw_next_plot()  # what the timer calls
        drawn.append(tuple(plots.point_count(c) for c in curves))
    changed = [sum(a != b for a, b in zip(before, after)) for before, after in zip(drawn, drawn[1:])]
    assert changed == [1] * 6  # one plot a tick
    assert drawn[-1] == (2, 2, 2, 1, 1, 1)  # and after a round every change is on screen


def test_smoothed_loss_is_a_debiased_moving_average(plots):
    for s, loss in enumerate([4.0, 2.0], start=1):
        plots.on_step(step(s, loss))
    plots.redraw()
    _, smoothed = plots.runs["live"].items["loss"].getData()
    assert smoothed[0] == pytest.approx(4.0)  # debiased: the first point is the loss itself
    expected = (EMA_ALPHA * (1 - EMA_ALPHA) * 4.0 + (1 - EMA_ALPHA) * 2.0) / (1 - EMA_ALPHA**2)
    assert smoothed[1] == pytest.approx(expected)


def test_non_finite_losses_are_left_out(plots):
    plots.on_step(step(1, 1.0))
    plots.on_step(step(2, math.nan))
    plots.redraw()
    assert plots.point_count("loss_raw") == 1


def test_momentum_axis_appears_only_for_methods_with_a_teacher(plots):
    plots.on_step(step(1, 1.0))
    plots.redraw()
    assert not plots.plots["lr"].getAxis("right").isVisible()
    plots.on_step(step(2, 1.0, momentum=0.996))
    plots.redraw()
    assert plots.plots["lr"].getAxis("right").isVisible()


def test_the_live_collapse_message_is_evaluate_collapses_verdict(plots):
    plots.on_epoch(epoch(1, std=1 / math.sqrt(64), rank=30.0))
    assert plots.warning.isHidden()
    plots.on_epoch(epoch(2, std=0.001, rank=1.1))
    expected = verdict(0.001, 64, 1.1)
    assert not plots.warning.isHidden() and expected.words in plots.warning.text()
    assert plots.verdict() == expected
    # the dashboard's epoch (the monitors' numbers, then the probe file's) gives the same verdict
    probe = {"feature_std": 0.2, "effective_rank": 40.0, "alignment": 0.3}
    plots.on_probe(ProbeEvent(2, 20, "probes/epoch-0002.npz", probe))
    record = {"kind": "epoch", **epoch(2, std=0.001, rank=1.1).__dict__}
    assert plots.verdict() == verdict_from_metrics(epoch_metrics(record, probe)) == expected


def test_dinos_teacher_in_the_probe_file_reaches_the_live_message(plots):
    plots.on_epoch(epoch(1, std=0.12, rank=30.0))
    assert plots.warning.isHidden()
    plots.on_probe(ProbeEvent(1, 10, "probes/epoch-0001.npz", {"teacher_entropy": 4.15, "max_entropy": 4.16,
                                                               "top_prototype_share": 0.1}))
    assert "collapsed (uniform)" in plots.warning.text() and not plots.warning.isHidden()


def test_the_first_point_is_drawn_at_once_later_ones_by_the_timer(plots):
    plots.on_step(step(1, 3.0))
    assert plots.point_count("loss_raw") == 1  # no wait for the timer
    plots.on_step(step(2, 2.0))
    assert plots.point_count("loss_raw") == 1


def test_reference_lines_are_drawn_live_and_from_a_reopened_run(plots):
    plots.on_reference(ReferenceEvent(raw_pixels_knn=0.21, untrained_knn=0.24))
    labels = sorted(line.label.toPlainText() for line in plots._knn_lines)
    assert labels == ["raw pixels 21%", "untrained 24%"]
    assert sorted(line.value() for line in plots._knn_lines) == [0.21, 0.24]
    # close lines: the upper one's label sits above it, the lower one's below, so they never overlap
    above = {line.label.toPlainText(): line.label.anchor.y() == 1 for line in plots._knn_lines}
    assert above == {"raw pixels 21%": False, "untrained 24%": True}
    plots.load_records("old", "old run", [{"kind": "reference", "raw_pixels_knn": 0.3, "untrained_knn": None}])
    assert sorted(line.label.toPlainText() for line in plots._knn_lines) == [
        "raw pixels 21%", "raw pixels 30%", "untrained 24%"]
    plots.set_run_visible("old", False)
    assert len(plots._knn_lines) == 2


def test_past_runs_overlay_and_hide(plots):
    records = [{"kind": "step", "step": s, "loss": 1.0 / s, "lr": 0.1, "momentum": None, "images_per_sec": 9.0}
               for s in range(1, 11)]
    records.append({"kind": "epoch", "epoch": 1, "step": 10, "knn_accuracy": 0.7, "feature_std": 0.1,
                    "effective_rank": 5.0, "images_per_sec": 9.0, "metrics": {}})
    plots.load_records("old", "old run", records)
    plots.on_step(step(1, 2.0))
    assert plots.point_count("loss_raw", "old") == 10
    assert plots.point_count("knn_accuracy", "old") == 1
    assert "old run" in plots.key.text() and "live run" in plots.key.text()
    assert all(plot.legend is None for plot in plots.plots.values())  # no legend box over the curves
    plots.set_run_visible("old", False)
    assert not plots.runs["old"].items["loss"].isVisible()
    assert plots.key.isHidden()  # one run shown: nothing to tell apart


def test_each_run_gets_its_own_colour(plots):
    plots.add_run("other", "other run")
    colours = {run.colour_index for run in plots.runs.values()}
    assert len(colours) == 2


def test_epoch_axes_tick_whole_epochs_only(plots):
    axis = plots.plots["knn"].getAxis("bottom")
    ticks = [t for _, level in axis.tickValues(0.6, 2.4, 400) for t in level]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert {1.0, 2.0} <= set(ticks)


def test_a_hint_says_what_to_do_until_there_are_curves(plots, qtbot):
    plots.resize(900, 500)
    plots.show()
    qtbot.waitExposed(plots)
    assert not plots.hint.isHidden()
    assert plots.canvas.rect().contains(plots.hint.geometry())  # over the empty plots
    canvas = plots.canvas.geometry()
    plots.on_step(step(1, 1.0))
    assert plots.hint.isHidden()
    qtbot.wait(50)
    assert plots.canvas.geometry() == canvas  # the first point re-lays out no plot
    plots.on_epoch(epoch(1, std=0.001, rank=1.0))  # collapsed: the warning appears over the plots
    assert not plots.warning.isHidden() and plots.canvas.rect().contains(plots.warning.geometry())
    qtbot.wait(50)
    assert plots.canvas.geometry() == canvas


def test_an_epoch_axis_never_scales_its_label(qtbot):
    widget = pg.PlotWidget(axisItems={"bottom": EpochAxis("bottom")})
    qtbot.addWidget(widget)
    widget.setLabel("bottom", "epoch")
    widget.plot([0.0], [1.0])  # a run stopped before its first epoch ended: one point at 0
    widget.setXRange(-0.002, 0.002, padding=0)
    axis = widget.getPlotItem().getAxis("bottom")
    axis.updateAutoSIPrefix()
    assert ">epoch <" in axis.labelString() and "x0." not in axis.labelString()

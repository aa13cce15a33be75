"""Live plots: events fill buffers, the timer draws them, runs overlay, collapse is called out."""

from __future__ import annotations

import math

import pytest

from labbench.engine.events import EpochEvent, StepEvent
from ui.docks.training_plots import EMA_ALPHA, TrainingPlots


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
    assert plots.point_count("loss_raw") == 0  # buffered, not drawn yet
    qtbot.waitUntil(lambda: plots.point_count("loss_raw") == 5, timeout=1000)
    assert plots.point_count("lr") == 5


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


def test_collapse_is_called_out_against_one_over_sqrt_d(plots):
    plots.on_epoch(epoch(1, std=1 / math.sqrt(64), rank=30.0))
    assert plots.warning.isHidden()
    plots.on_epoch(epoch(2, std=0.001, rank=1.1))
    assert not plots.warning.isHidden()
    assert "1/√d" in plots.warning.text() and "effective rank" in plots.warning.text()


def test_past_runs_overlay_and_hide(plots):
    records = [{"kind": "step", "step": s, "loss": 1.0 / s, "lr": 0.1, "momentum": None, "images_per_sec": 9.0}
               for s in range(1, 11)]
    records.append({"kind": "epoch", "epoch": 1, "step": 10, "knn_accuracy": 0.7, "feature_std": 0.1,
                    "effective_rank": 5.0, "images_per_sec": 9.0, "metrics": {}})
    plots.load_records("old", "old run", records)
    assert plots.point_count("loss_raw", "old") == 10
    assert plots.point_count("knn_accuracy", "old") == 1
    legend_names = [label.text for _, label in plots.legends["loss"].items]
    assert "old run raw" in legend_names
    plots.set_run_visible("old", False)
    assert not plots.runs["old"].items["loss"].isVisible()
    assert "old run raw" not in [label.text for _, label in plots.legends["loss"].items]


def test_each_run_gets_its_own_colour(plots):
    plots.add_run("other", "other run")
    colours = {run.colour_index for run in plots.runs.values()}
    assert len(colours) == 2


def test_epoch_axes_tick_whole_epochs_only(plots):
    axis = plots.plots["knn"].getAxis("bottom")
    ticks = [t for _, level in axis.tickValues(0.6, 2.4, 400) for t in level]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert {1.0, 2.0} <= set(ticks)


def test_a_hint_says_what_to_do_until_there_are_curves(plots):
    assert not plots.hint.isHidden()
    plots.on_step(step(1, 1.0))
    plots.redraw()
    assert plots.hint.isHidden()

"""The contrastive simulator: real NT-Xent steps on a tiny MLP, driven by a timer, make clusters."""

from __future__ import annotations

import numpy as np
import pytest

from ui.inspect.contrastive_sim import ContrastiveSimulator, ContrastiveToy


def class_spread(toy: ContrastiveToy) -> float:
    """Mean circular spread of each class's points (0 = every point of a class at one angle)."""
    z = toy.embeddings()
    labels = toy.labels.numpy()
    return float(np.mean([1 - np.linalg.norm(z[labels == c].mean(axis=0)) for c in np.unique(labels)]))


@pytest.fixture
def simulator(qtbot):
    widget = ContrastiveSimulator()
    qtbot.addWidget(widget)
    return widget


def test_the_loss_falls_over_ticks(simulator):
    for _ in range(20):
        simulator.tick()
    losses = simulator.toy.losses
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3


def test_each_tick_moves_the_points(simulator):
    before = simulator.scatter.getData()[0].copy()
    simulator.step_button.click()
    after = simulator.scatter.getData()[0]
    assert len(after) == 128
    assert not np.allclose(before, after)
    assert "step 1 " in simulator.readout.text()


def test_start_runs_the_timer_and_pause_stops_it(simulator, qtbot):
    simulator.start_button.click()
    assert simulator.is_running() and simulator.start_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(simulator.toy.losses) >= 10, timeout=10000)
    simulator.start_button.click()
    assert not simulator.is_running()
    steps = len(simulator.toy.losses)
    qtbot.wait(150)
    assert len(simulator.toy.losses) == steps


def test_strong_augmentation_gathers_each_class_in_one_place():
    spreads = {}
    for strength in (0.1, 2.0):
        toy = ContrastiveToy(augmentation=strength, seed=3)
        toy.step(60)
        spreads[strength] = class_spread(toy)
    assert spreads[2.0] < 0.02 < spreads[0.1]


def test_reset_starts_over_with_the_chosen_classes(simulator):
    simulator.tick()
    simulator.set_temperature(0.5)
    simulator.classes_spin.setValue(6)  # changing the classes starts over
    assert simulator.toy.losses == []
    assert int(simulator.toy.labels.max()) + 1 == 6
    assert simulator.toy.temperature == pytest.approx(0.5)
    assert len(simulator.scatter.getData()[0]) == 6 * 32


def test_every_point_is_drawn_on_the_unit_circle_its_title_promises(simulator):
    simulator.tick(3)
    x, y = simulator.scatter.getData()
    assert np.allclose(np.hypot(x, y), 1.0, atol=1e-5)

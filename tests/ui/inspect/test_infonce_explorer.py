"""The InfoNCE explorer: the loss it shows is the engine's loss on the similarities it shows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QApplication

from labbench.losses import info_nce_from_similarities
from ui.inspect.infonce_explorer import InfoNCEExplorer
from ui.theme import DARK, LIGHT, apply_theme


@pytest.fixture
def explorer(qtbot):
    widget = InfoNCEExplorer()
    qtbot.addWidget(widget)
    return widget


def by_hand(pos: float, negs: np.ndarray, tau: float) -> float:
    logits = np.concatenate([[pos], negs]) / tau
    return float(-math.log(math.exp(logits[0]) / np.exp(logits).sum()))


def test_it_opens_on_the_lecture_example(explorer):
    pos, negs = explorer.similarities()
    assert pos == pytest.approx(0.9)
    assert negs == pytest.approx([0.3, 0.1, -0.2])
    assert explorer.temperature == pytest.approx(0.1)
    assert explorer.loss() == pytest.approx(0.0028, abs=5e-5)
    assert "0.0028" in explorer.readout.text()


@pytest.mark.parametrize("seed", range(5))
def test_shown_loss_equals_info_nce_on_the_same_similarities(explorer, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 12))
    explorer.set_angles(rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-3, 3, k))
    explorer.set_temperature(float(rng.uniform(0.05, 1.5)))
    pos, negs = explorer.similarities()
    engine = info_nce_from_similarities(torch.tensor(pos, dtype=torch.float64), torch.from_numpy(negs),
                                        explorer.temperature).item()
    assert explorer.loss() == engine
    assert explorer.loss() == pytest.approx(by_hand(pos, negs, explorer.temperature), rel=1e-9)
    assert f"{explorer.loss():.4f}" in explorer.readout.text()
    # one query: the softmax weight of the positive is exp(-loss)
    assert explorer.probabilities().sum() == pytest.approx(1.0)
    assert explorer.probabilities()[0] == pytest.approx(math.exp(-explorer.loss()))


def test_dragging_a_negative_onto_the_anchor_raises_the_loss(explorer):
    before = explorer.loss()
    with_changes = []
    explorer.changed.connect(with_changes.append)
    explorer.targets[3].setPos(2.0, 0.02)  # what a mouse drag does; the point snaps back onto the circle
    assert np.hypot(*explorer.points()[3]) == pytest.approx(1.0)
    assert explorer.similarities()[1][1] > 0.99
    assert explorer.loss() > 1.0 > before
    assert with_changes and with_changes[-1] == explorer.loss()
    assert np.argmax(explorer.probabilities()) == 2  # the hard negative now takes most of the softmax


def test_lower_temperature_hands_the_softmax_to_the_hardest_negative(explorer):
    explorer.set_angles(0.0, 1.2, [0.6, 2.0, -2.5])  # the first negative is closer to the anchor than the positive
    explorer.set_temperature(1.0)
    warm = explorer.probabilities()
    explorer.set_temperature(0.02)
    cold = explorer.probabilities()
    assert cold[1] > 0.99 > warm[1]
    assert explorer.bars.opts["height"][1] == pytest.approx(cold[1])


def test_the_negative_count_sets_the_targets_shown(explorer):
    explorer.count_spin.setValue(7)
    assert explorer.negative_count == 7
    assert len(explorer.similarities()[1]) == 7
    assert sum(t.isVisible() for t in explorer.targets) == 9
    assert f"log(K+1) = {math.log(8):.3f}" in explorer.readout.text()


def test_switching_the_theme_restyles_the_plots(explorer, qtbot):
    app = QApplication.instance()
    try:
        apply_theme(app, "light")
        qtbot.waitUntil(lambda: explorer.circle.opts["pen"].color().name() == LIGHT.muted, timeout=3000)
    finally:
        apply_theme(app, "dark")
    qtbot.waitUntil(lambda: explorer.circle.opts["pen"].color().name() == DARK.muted, timeout=3000)


def test_the_mutual_information_bound_is_never_negative(explorer):
    explorer.set_angles(0.0, math.pi, [0.05, -0.05, 0.1])  # the positive opposite, negatives on the anchor
    explorer.set_temperature(0.1)
    assert explorer.loss() > math.log(4)
    assert explorer.mutual_information_bound() == 0.0
    bound = explorer.readout.text().split("mutual information:")[1]
    assert bound.startswith(" I ≥ 0 ") and "-" not in bound.split("—")[0]
    explorer.show_lecture_example()
    assert explorer.mutual_information_bound() == pytest.approx(math.log(4) - explorer.loss())
    assert f"= {math.log(4) - explorer.loss():.3f} nats" in explorer.readout.text()

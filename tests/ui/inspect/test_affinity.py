"""The affinity inspector on a real tiny SimCLR run: a 2N×2N matrix, positives marked, batch size and cancel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from labbench.data import load_split
from labbench.engine.checkpointed import load_run
from labbench.evaluate.affinity import affinity_matrix
from ui.inspect.affinity import AffinityViewer


@pytest.fixture
def viewer(qtbot, simclr_run):
    widget = AffinityViewer()
    qtbot.addWidget(widget)
    widget.resize(900, 800)
    widget.show()
    widget.set_run(simclr_run)
    qtbot.waitUntil(lambda: widget.matrix is not None, timeout=20000)
    return widget


def test_it_draws_the_2n_matrix_of_the_batch_with_positives_marked(viewer, simclr_run):
    n = viewer.batch_spin.value()
    assert viewer.image.image.shape == (2 * n, 2 * n)
    marked = {tuple(p) for p in np.asarray(viewer.positives.getData()).T - 0.5}
    assert marked == {(c, r) for r, c in ((i, (i + n) % (2 * n)) for i in range(2 * n))}
    assert viewer.strip.count() == n
    loaded = load_run(simclr_run)
    expected = affinity_matrix(loaded.method, load_split(loaded.config.data).eval.images, n, seed=0)
    assert np.allclose(viewer.image.image, expected.similarity, atol=1e-5)


def test_the_batch_size_control_redraws(viewer, qtbot):
    viewer.batch_spin.setValue(5)
    qtbot.waitUntil(lambda: viewer.matrix.batch_size == 5, timeout=20000)
    assert viewer.image.image.shape == (10, 10)
    assert viewer.summary.text().startswith("10×10 cosine similarities")


def test_a_new_batch_draws_other_images(viewer, qtbot):
    before = viewer.matrix.indices.copy()
    viewer.new_button.click()
    qtbot.waitUntil(lambda: not np.array_equal(viewer.matrix.indices, before), timeout=20000)


def test_the_encoder_space_compares_features(viewer, qtbot):
    viewer.space_combo.setCurrentIndex(viewer.space_combo.findData("encoder"))
    qtbot.waitUntil(lambda: viewer.matrix.space == "encoder", timeout=20000)
    assert "encoder space" in viewer.summary.text()


def test_hovering_a_cell_says_what_pair_it_is(viewer):
    n = viewer.matrix.batch_size
    scene = viewer.plot.vb.mapViewToScene(pg.Point(n + 2.5, 2.5))  # row 2, its positive
    viewer.canvas.scene().sigMouseMoved.emit(scene)
    assert "positive pair" in viewer.hover.text()
    assert f"{viewer.matrix.similarity[2, n + 2]:+.3f}" in viewer.hover.text()


def test_cancel_keeps_the_matrix_on_show(viewer, qtbot):
    before = viewer.matrix
    viewer.batch_spin.setValue(64)
    viewer.tasks.cancel()
    qtbot.wait(1000)
    assert viewer.matrix is before and viewer.tasks.status.text() == "cancelled"


def test_a_run_without_a_projection_head_says_encoder_in_the_box_and_the_caption(viewer, qtbot, mae_run, simclr_run):
    viewer.set_run(mae_run)
    qtbot.waitUntil(lambda: viewer.matrix_run == str(mae_run) and not viewer.tasks.is_busy(), timeout=30000)
    assert viewer.matrix.space == "encoder" and "encoder space" in viewer.summary.text()
    assert viewer.space_combo.currentData() == "encoder"
    projection = viewer.space_combo.findData("projection")
    assert not viewer.space_combo.model().item(projection).isEnabled()
    assert "no projection head" in viewer.space_combo.itemText(projection)
    viewer.set_run(simclr_run)  # a run with a head: its projection is offered again
    qtbot.waitUntil(lambda: viewer.matrix_run == str(simclr_run) and not viewer.tasks.is_busy(), timeout=30000)
    assert viewer.space_combo.currentData() == "projection" and viewer.matrix.space == "projection"

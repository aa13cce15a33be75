"""The embedding inspector on a real tiny SimCLR run: hover, click-for-neighbours, regions, 20 000 points, cancel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from labbench.engine.events import ProbeEvent
from labbench.evaluate.projection import Projection, nearest_neighbours
from ui.inspect.embeddings import EmbeddingViewer, FeatureSet


@pytest.fixture
def viewer(qtbot, simclr_run):
    widget = EmbeddingViewer()
    qtbot.addWidget(widget)
    widget.resize(900, 800)
    widget.show()
    widget.set_run(simclr_run)
    qtbot.waitUntil(lambda: widget.projection is not None, timeout=30000)
    widget.grab()  # lay out and paint once, so screen positions are final
    return widget


def screen_point(viewer, row: int):
    scene = viewer.scatter.mapToScene(QPointF(*viewer.projection.points[row]))
    return viewer.plot_widget.mapFromScene(scene)


def mouse(viewer, kind: QEvent.Type, where, button=Qt.MouseButton.NoButton) -> None:
    """A mouse event straight to the plot at ``where`` (QTest goes through the window's screen
    position, which the offscreen platform reports a few pixels off after the first window)."""
    viewport = viewer.plot_widget.viewport()
    held = button if kind == QEvent.Type.MouseButtonPress else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(where), QPointF(viewport.mapToGlobal(where)), button, held,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def left_rows(viewer) -> list[int]:
    """Rows from the leftmost point on."""
    return np.argsort(viewer.projection.points[:, 0]).tolist()


def test_every_eval_image_is_one_point_coloured_by_class(viewer):
    n = len(viewer.data.features)
    assert n == len(viewer.projection.points) == len(viewer.scatter.data) > 10
    classes = np.unique(viewer.data.labels)
    assert viewer.classes.text().count("●") == len(classes)  # the key, beside the plot: no legend over points
    assert not any(isinstance(item, pg.LegendItem) for item in viewer.plot.scene().items())
    brushes = {viewer.scatter.data["brush"][i].color().name() for i in range(n)}
    assert len(brushes) == len(classes)
    assert f"{n:,} eval images" in viewer.caption.text()


def test_hovering_a_point_shows_its_image(viewer, qtbot):
    row = left_rows(viewer)[0]
    mouse(viewer, QEvent.Type.MouseMove, screen_point(viewer, row))
    qtbot.waitUntil(viewer.card.isVisible, timeout=3000)
    assert viewer.card.caption.text() == viewer.caption_of(row)
    assert not viewer.card.picture.pixmap().isNull()


def test_clicking_a_point_lists_its_nearest_neighbours(viewer, qtbot):
    viewer.k_spin.setValue(5)
    where = screen_point(viewer, left_rows(viewer)[1])
    mouse(viewer, QEvent.Type.MouseMove, where)
    mouse(viewer, QEvent.Type.MouseButtonPress, where, Qt.MouseButton.LeftButton)
    mouse(viewer, QEvent.Type.MouseButtonRelease, where, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.query is not None, timeout=3000)
    row = viewer.query
    expected, sims = nearest_neighbours(viewer.data.features, row, 5)
    assert np.array_equal(viewer.neighbours[0], expected)
    assert np.all(np.diff(sims) <= 0)
    assert viewer.retrieval.count() == 6  # the query, then 5 neighbours best first
    assert viewer.retrieval.item(1).text().startswith(f"1: {sims[0]:.2f}")
    viewer.k_spin.setValue(3)
    assert viewer.retrieval.count() == 4


def test_a_rectangle_lists_the_images_inside_it(viewer):
    p = viewer.projection.points
    x0, x1 = np.percentile(p[:, 0], [20, 80])
    y0, y1 = np.percentile(p[:, 1], [20, 80])
    rows = viewer.select_rect(x0, y0, x1 - x0, y1 - y0)
    inside = np.flatnonzero((p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1))
    assert np.array_equal(rows, inside) and len(rows) > 0
    assert viewer.region_list.count() == len(inside)
    assert viewer.region_title.text().startswith(f"{len(inside)} images in the rectangle")


def test_another_projection_reuses_the_features(viewer, qtbot):
    features = viewer.data.features
    before = viewer.projection.points.copy()
    viewer.method_combo.setCurrentIndex(viewer.method_combo.findData("tsne"))
    qtbot.waitUntil(lambda: viewer.projection.method == "tsne", timeout=30000)
    assert viewer.data.features is features
    assert not np.allclose(before, viewer.projection.points)


def test_twenty_thousand_points_are_one_scatter_item(viewer):
    rng = np.random.default_rng(0)
    n = 20000
    viewer.data = FeatureSet(viewer.run_dir, 0, torch.from_numpy(rng.normal(size=(n, 8)).astype(np.float32)),
                             np.zeros((n, 4, 4, 3), np.uint8), rng.integers(0, 10, n), np.arange(n),
                             [f"class {i}" for i in range(10)], 0)
    points = rng.normal(size=(n, 2)).astype(np.float32)
    viewer.show_projection(Projection(points, viewer.data.labels, np.arange(n), "pca"))
    viewer.retrieve(0)
    items = viewer.plot.getViewBox().addedItems
    scatters = [i for i in items if isinstance(i, pg.ScatterPlotItem)]
    assert len(scatters) == 2  # all the points, and the marks of the clicked point and its neighbours
    assert len(viewer.scatter.data) == n
    assert len(viewer.marks.data) == viewer.k_spin.value() + 1


def test_cancel_stops_a_projection_and_keeps_the_points(viewer, qtbot):
    before = viewer.projection
    viewer.method_combo.setCurrentIndex(viewer.method_combo.findData("tsne"))
    assert viewer.tasks.is_busy()
    viewer.tasks.cancel_button.click()
    assert viewer.tasks.status.text() == "cancelled"
    qtbot.wait(1500)
    assert viewer.projection is before


def test_a_new_epoch_of_the_run_waits_for_compute(viewer):
    viewer.on_probe(ProbeEvent(3, 12, str(viewer.run_dir) + "/probes/epoch-0003.npz"))
    assert not viewer.tasks.is_busy()
    assert "press Compute" in viewer.tasks.status.text()


def test_selecting_a_region_keeps_the_scatters_size(viewer, qtbot):
    qtbot.wait(50)  # the captions set with the projection are laid out first
    before = viewer.plot_widget.size()
    points = viewer.projection.points
    viewer.select_rect(*points.min(axis=0), *np.ptp(points, axis=0))
    qtbot.wait(50)
    assert viewer.plot_widget.size() == before
    assert viewer.results.tabText(viewer.results.currentIndex()) == "Region"
    assert viewer.minimumSizeHint().width() < 700  # the list of classes wraps, it does not widen the view


def test_compute_again_clears_the_neighbours_and_their_caption(viewer, qtbot):
    viewer.retrieve(0)
    assert viewer.retrieval.count() > 1 and "Nearest neighbours of" in viewer.retrieval_title.text()
    viewer.recompute()
    qtbot.waitUntil(lambda: not viewer.tasks.is_busy(), timeout=30000)
    assert viewer.retrieval.count() == 0 and viewer.retrieval_title.text() == viewer.NO_QUERY

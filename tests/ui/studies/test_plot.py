"""The study plot fits the axes: bars for variants, a line over numbers, a heat map for two axes;
a click names the cell under it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from labbench.studies import RunResult, summarize
from labbench.studies.spec import study_from_text
from ui.studies.plot import StudyPlot, plot_kind

VARIANTS = 'title = "v"\nmeasures = ["linear", "linear_z"]\n[[axes]]\nname = "head"\nvariants = [{ name = "a" }, { name = "b" }]\n'
NUMERIC = 'title = "n"\nseeds = [0, 1]\n[[axes]]\nname = "tau"\nkey = "method.temperature"\nvalues = [0.1, 0.2, 1.0]\nscale = "log"\n'
PAIRS = ('title = "p"\npairs = "unordered"\n'
         + "".join(f'[[axes]]\nname = "{a}"\nvariants = [{{ name = "crop" }}, {{ name = "colour" }}]\n' for a in "xy"))


def _cells(text: str, values: dict[tuple[int, ...], list[dict[str, float]]]):
    study = study_from_text(text, "t.toml")
    results = {}
    for cell, per_seed in values.items():
        for seed, measures in enumerate(per_seed):
            key = study.run_key(cell, seed)
            results[key] = RunResult(key, "", seed, "", "completed", values=measures, test_images=100)
    return study, summarize(study, results)


@pytest.fixture
def plot(qtbot):
    widget = StudyPlot()
    qtbot.addWidget(widget)
    return widget


def test_variants_are_drawn_as_bars_grouped_by_measure(plot):
    study, cells = _cells(VARIANTS, {(0,): [{"linear": 0.5, "linear_z": 0.4}], (1,): [{"linear": 0.7}]})
    plot.show_study(study)
    plot.update_cells(cells)
    assert plot_kind(study) == plot.kind == "bars"
    np.testing.assert_allclose(plot._bars[0].opts["width"], [50, 70])  # horizontal bars: a variant per row
    np.testing.assert_allclose(plot._bars[1].opts["width"], [40, 0])  # b has no probe on z yet
    assert np.isnan(plot.drawn("linear_z")[1])
    assert plot.cell_at(QPointF(30, 1.1)) == (1,) and plot.cell_at(QPointF(30, 0.5)) is None


def test_a_numeric_axis_is_a_line_with_error_bars_from_the_seeds(plot):
    study, cells = _cells(NUMERIC, {(0,): [{"knn": 0.4}, {"knn": 0.5}], (2,): [{"knn": 0.3}, {"knn": 0.3}]})
    plot.show_study(study)
    plot.update_cells(cells)
    assert plot.kind == "line"
    x, y = plot._lines[0].getData()
    np.testing.assert_allclose(x, np.log10([0.1, 0.2, 1.0]))  # a log axis
    np.testing.assert_allclose(y, [45, np.nan, 30])
    np.testing.assert_allclose(plot._errors[0].opts["height"], [10, 0, 0])  # ± one standard error, 5 points
    assert plot.cell_at(QPointF(np.log10(0.22), 40)) == (1,)


def test_two_axes_are_a_heat_map_and_unordered_pairs_mirror(plot):
    study, cells = _cells(PAIRS, {(0, 0): [{"knn": 0.3}], (0, 1): [{"knn": 0.6}], (1, 1): [{"knn": 0.2}]})
    plot.show_study(study)
    plot.update_cells(cells)
    assert plot.kind == "heatmap"
    np.testing.assert_allclose(plot.drawn("knn"), [[30, 60], [60, 20]])
    assert plot._texts[1, 0].toPlainText() == "60.0 %"
    assert plot.cell_at(QPointF(0.2, 1.7)) == (0, 1)  # (colour, crop) is (crop, colour)
    assert plot.cell_at(QPointF(2.5, 0.5)) is None


def test_the_untrained_line_shows_where_the_runs_logged_it(plot):
    study = study_from_text('title = "r"\n[[axes]]\nname = "m"\nvariants = [{ name = "a" }]\n', "r.toml")
    key = study.run_key((0,), 0)
    cells = summarize(study, {key: RunResult(key, "a", 0, "", "completed", values={"knn": 0.5},
                                             reference={"untrained_knn": 0.25})})
    plot.show_study(study)
    plot.update_cells(cells)
    assert plot._reference.isVisible() and plot._reference.value() == pytest.approx(25)

"""The evaluation view: protocols run off the GUI thread; the table shows runs, baselines and the MAE caveat."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from labbench.scoring import CAVEATS, read_eval
from ui.inspect.evaluation import EvaluationView
from ui.runs_model import RunsModel


@pytest.fixture
def runs(tmp_path, simclr_run, mae_run):
    """Copies of the tiny runs (evaluating writes eval.json into the run folder)."""
    root = tmp_path / "runs"
    for run in (simclr_run, mae_run):
        shutil.copytree(run, root / run.name)
    return root, root / simclr_run.name, root / mae_run.name


@pytest.fixture
def view(qtbot, runs):
    widget = EvaluationView(RunsModel(runs[0]))
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    return widget


def run_knn(view, qtbot, run) -> None:
    view.select_run(run)
    view.buttons["knn"].click()
    assert view.tasks.is_busy()
    qtbot.waitUntil(lambda: not view.tasks.is_busy(), timeout=60000)


def cell(view, run_name: str, column: int) -> str:
    row = [view.table.item(r, 0).text() for r in range(view.table.rowCount())].index(run_name)
    return view.table.item(row, column).text()


def test_every_run_is_listed_and_buttons_need_a_selection(view, runs):
    assert {view.table.item(r, 0).text() for r in range(view.table.rowCount())} == {runs[1].name, runs[2].name}
    assert not view.buttons["knn"].isEnabled()
    view.select_run(runs[1])
    assert view.buttons["knn"].isEnabled() and view.all_button.isEnabled()


def test_knn_scores_the_selected_run_next_to_its_baselines(view, qtbot, runs):
    run_knn(view, qtbot, runs[1])
    result = read_eval(runs[1])
    assert cell(view, runs[1].name, 5) == f"{100 * result.scores['knn']:.1f}"
    assert cell(view, "raw pixels", 5) == f"{100 * result.baselines['pixels']['knn']:.1f}"
    assert cell(view, "random-init encoder", 1) == "baseline"
    assert view.selected_run() == str(runs[1])
    assert "untrained backbone" in view.details.toHtml() and "raw pixels" in view.details.toHtml()
    assert view.tasks.status.text().startswith(f"{runs[1].name}: k-NN")


def test_mae_knn_carries_its_caveat(view, qtbot, runs):
    run_knn(view, qtbot, runs[2])
    knn = read_eval(runs[2]).scores["knn"]
    assert cell(view, runs[2].name, 5) == f"({100 * knn:.1f})*"
    assert CAVEATS["mae"] in view.notes.text()


def test_cancel_leaves_no_result(view, qtbot, runs):
    view.select_run(runs[1])
    view.buttons["finetune"].click()
    view.tasks.cancel_button.click()
    assert view.tasks.status.text() == "cancelled"
    qtbot.wait(500)
    assert read_eval(runs[1]) is None
    assert cell(view, runs[1].name, 7) == ""


def test_run_names_are_shown_whole(view, runs):
    view.refresh()
    names = [view.table.item(r, 0).text() for r in range(view.table.rowCount())]
    assert {runs[1].name, runs[2].name} <= set(names)
    metrics = view.table.fontMetrics()
    assert all(view.table.columnWidth(0) >= metrics.horizontalAdvance(name) for name in names)
    assert view.table.textElideMode() == Qt.TextElideMode.ElideNone

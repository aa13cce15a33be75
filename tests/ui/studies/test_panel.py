"""The Studies panel in the window: a tiny study started from it fills the table, draws the plot, gives the
verdict, and a click on a cell opens that run in the other views."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt

from labbench.studies import read_results, study_names
from tests.studies.conftest import TWO_BY_TWO, write_study
from ui.studies import StudiesPanel


def _click_plot_at(qtbot, panel: StudiesPanel, x: float, y: float) -> None:
    """A real mouse click on the plot, at data coordinates (x, y)."""
    scene = panel.plot.plot.getViewBox().mapViewToScene(QPointF(x, y))
    qtbot.mouseClick(panel.plot.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.plot.canvas.mapFromScene(scene))


def test_a_tiny_study_runs_from_the_window_fills_the_table_and_opens_a_clicked_cell(make_window, qtbot, tmp_path):
    window = make_window(load=False)
    window.show()
    panel = window.studies
    panel.raise_()
    assert panel.load(write_study(tmp_path))
    assert panel.plan_label.text().startswith("4 runs × 1 epoch (time known after the first run) on CPU")
    assert [panel.table.item(r, 4).text() for r in range(4)] == ["pending"] * 4
    assert panel.plot.kind == "heatmap" and panel.start_button.isEnabled()

    ended = []
    panel.session.run_ended.connect(ended.append)
    with qtbot.waitSignal(panel.session.finished, timeout=240_000) as finished:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].status == "completed" and len(ended) == 4
    assert panel.folder.parent == tmp_path / "studies"  # beside the window's runs folder

    rows = [[panel.table.item(r, c).text() for c in range(panel.table.columnCount())] for r in range(4)]
    assert [row[:2] for row in rows] == [["0.1", "mlp"], ["0.1", "none"], ["0.5", "mlp"], ["0.5", "none"]]
    assert all(row[2].endswith(" %") and row[-1] == "1/1" for row in rows)
    drawn = panel.plot.drawn("knn")
    shown = [float(row[2].removesuffix(" %")) for row in rows]  # the table's k-NN column, in percent
    assert drawn.shape == (2, 2) and (drawn.round(1) == [shown[:2], shown[2:]]).all()
    assert panel.verdict_label.text().startswith("Verdict: ")
    assert panel.measured_label.text().startswith("Measured here: tau = 0.5 · head = mlp")
    assert not panel.start_button.isEnabled()  # nothing left to run

    _click_plot_at(qtbot, panel, 1.5, 0.5)  # row tau = 0.1, column head = none
    opened = str(panel.folder / "runs" / "02-tau=0.1-head=none-s0")
    qtbot.waitUntil(lambda: window.run_list.item(opened) is not None, timeout=5000)
    assert opened in window.plots.runs


def test_stop_ends_the_study_and_resume_continues_it(qtbot, tmp_path):
    panel = StudiesPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.load(write_study(tmp_path, TWO_BY_TWO.replace("epochs = 1", "epochs = 50")))
    steps = []
    panel.session.step.connect(steps.append)
    panel.start()
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=60_000)
    with qtbot.waitSignal(panel.session.finished, timeout=60_000) as finished:
        panel.stop_button.click()
    assert finished.args[0].status == "stopped"
    assert panel.start_button.isEnabled() and panel.start_button.text() == "Resume"
    assert panel.progress.format() == "stopped — Resume continues"
    assert "pending" in panel.table.item(0, 4).text() and read_results(panel.folder) == {}

    again = StudiesPanel(tmp_path / "runs")  # another session opens the folder from disk
    qtbot.addWidget(again)
    assert again.open_folder(panel.folder)
    assert again.start_button.text() == "Resume" and not again.budget.isEnabled()
    assert again.plan_label.text().startswith("4 runs × 50 epochs")


def test_the_catalogue_is_offered_and_a_bad_file_is_explained_without_a_traceback(qtbot, tmp_path):
    panel = StudiesPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    assert [panel.chooser.itemData(i) for i in range(panel.chooser.count())] == study_names()
    assert panel.title_label.text() and panel.claim_label.text().startswith("Claim: ")
    assert panel.lecture_label.text().startswith("Lecture: ")

    bad = write_study(tmp_path, TWO_BY_TWO.replace('"method.head"', '"method.haed"'), "bad")
    assert panel.load(bad)  # the file reads; its runs cannot be made
    assert "axes.1" in panel.message_label.text() and "method.haed: unknown key" in panel.message_label.text()
    assert not panel.start_button.isEnabled()
    assert not panel.load(tmp_path / "missing.toml")
    assert "no such file" in panel.message_label.text()


def test_choosing_temperature_plans_five_runs_with_the_time_budget(qtbot, tmp_path):
    panel = StudiesPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.chooser.setCurrentIndex(study_names().index("temperature"))
    assert panel.budget.value() == 140 and panel.budget.suffix() == " s"
    assert panel.plan_label.text().startswith("5 runs × 140 s ≈ ")
    panel.budget.setValue(30)
    assert panel.plan_label.text().startswith("5 runs × 30 s ≈ ")
    assert panel.plot.kind == "line"
    panel.chooser.setCurrentIndex(study_names().index("colour_shortcut"))
    assert panel.plan_label.text().startswith("4 runs × 150 s") and panel.plot.kind == "heatmap"


def test_runs_go_beside_the_runs_folder(qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("LABBENCH_STUDIES", raising=False)
    panel = StudiesPanel(Path(tmp_path / "elsewhere" / "runs"))
    qtbot.addWidget(panel)
    assert panel.studies_root == tmp_path / "elsewhere" / "studies"

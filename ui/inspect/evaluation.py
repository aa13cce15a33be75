"""Evaluation results: k-NN, linear probe and fine-tune accuracy of every run, next to the baselines.

The table reads each run's ``eval.json`` (:func:`labbench.scoring.results_table`); the
buttons run :func:`~labbench.scoring.evaluate_run` on the selected run off the GUI thread
(with progress and Cancel) and the table follows. A score means little alone: the rows of the same
backbone untrained and of raw pixels say what self-supervision added. For MAE the k-NN score is
shown in parentheses: its features become useful only after fine-tuning (He et al. 2022).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QPushButton, QSpinBox, QSplitter,
    QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget,
)

from labbench.scoring import PROTOCOL_TITLES, PROTOCOLS, EvalResult, TableRow, evaluate_run, read_eval, results_table
from ui.inspect.plot_style import ThemedWidget
from ui.inspect.task_bar import TaskBar
from ui.runs_model import RunsModel
from ui.theme import current_theme
from ui.widgets.labels import wrapping_label

COLUMNS = ("Run", "Method", "Backbone", "Data", "Epochs", "k-NN %", "Linear %", "Fine-tune %")
PATH_ROLE = Qt.ItemDataRole.UserRole


def percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


class EvaluationView(ThemedWidget):
    """The results table across the window's runs, one run's details, and buttons to evaluate the selected run."""

    evaluated = Signal(object)  # EvalResult
    run_selected = Signal(str)  # a run row chosen in the table

    def __init__(self, runs: RunsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = runs
        self.rows: list[TableRow] = []
        self.paths: list[str | None] = []  # per table row: the run folder, None for a baseline

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)  # two runs must never read alike
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.notes = wrapping_label(role="muted")
        self.details = QTextBrowser()
        self.details.setPlaceholderText("Select a run to see its scores against the baselines.")

        self.buttons = {p: QPushButton(f"Run {PROTOCOL_TITLES[p]}") for p in PROTOCOLS}
        self.buttons["knn"].setToolTip("Weighted k-NN on frozen features (seconds)")
        self.buttons["linear"].setToolTip("Logistic regression on frozen features, "
                                          "weight decay chosen on a held-out split")
        self.buttons["finetune"].setToolTip("Encoder and a linear head trained together (the slowest)")
        self.all_button = QPushButton("Run all three")
        self.baselines_box = QCheckBox("with baselines")
        self.baselines_box.setChecked(True)
        self.baselines_box.setToolTip("Also score the untrained backbone and raw pixels the same way")
        self.max_train = QSpinBox()
        self.max_train.setRange(0, 1_000_000)
        self.max_train.setSingleStep(1000)
        self.max_train.setSpecialValueText("all labelled images")
        self.max_train.setPrefix("train on ")
        self.max_train.setToolTip("Cap the labelled training images (class-balanced); 0 = all")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 200)
        self.epochs.setValue(5)
        self.epochs.setPrefix("fine-tune ")
        self.epochs.setSuffix(" epochs")

        controls = QHBoxLayout()
        for button in (*self.buttons.values(), self.all_button):
            controls.addWidget(button)
        controls.addWidget(self.baselines_box)
        controls.addWidget(self.max_train)
        controls.addWidget(self.epochs)
        controls.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.notes)
        splitter.addWidget(left)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.tasks = TaskBar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.tasks)

        for protocol, button in self.buttons.items():
            button.clicked.connect(lambda _c=False, p=protocol: self.evaluate([p]))
        self.all_button.clicked.connect(lambda: self.evaluate(list(PROTOCOLS)))
        runs.changed.connect(self._runs_changed)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()
        self._stale = True  # the table is read when the view is (next) shown
        self._followed: str | None = None  # the run the Inspect window follows

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            self.refresh()

    @Slot()
    def _runs_changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    # -- the table -------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Read every run's eval.json again, keeping the selected run selected."""
        selected = self.selected_run()
        self._stale = False
        runs = self.model.paths()
        self.rows = results_table(runs)
        self.paths = runs + [None] * (len(self.rows) - len(runs))
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            self._fill(r, row)
        self.table.blockSignals(False)
        notes = list(dict.fromkeys(row.caveat for row in self.rows if row.caveat))
        self.notes.setText("\n".join(f"* {note}" for note in notes))
        self.notes.setVisible(bool(notes))
        if (target := self._followed or selected) is not None:
            self.select_run(target)
        self._selection_changed(announce=False)

    def _fill(self, r: int, row: TableRow) -> None:
        knn = percent(row.knn)
        if row.caveat:
            knn = f"({knn or '–'})*"
        cells = (row.run, row.method, row.backbone, row.dataset or "?", "" if row.epochs is None else str(row.epochs),
                 knn, percent(row.linear), percent(row.finetune))
        muted = QBrush(QColor(current_theme().muted))
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c >= 4:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if row.baseline:
                font = QFont(item.font())
                font.setItalic(True)
                item.setFont(font)
                item.setForeground(muted)
                item.setToolTip("baseline: the same protocol on an untrained backbone or on raw pixels")
            elif c == 5 and row.caveat:
                item.setToolTip(row.caveat)
            item.setData(PATH_ROLE, self.paths[r])
            if c == 0 and self.paths[r] is not None:
                item.setToolTip(self.paths[r])
            self.table.setItem(r, c, item)

    def selected_run(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.paths[rows[0].row()] if rows else None

    def set_run(self, run_dir: str | Path) -> None:
        """The run the Inspect window follows: its row is selected (once the table is read)."""
        self._followed = str(Path(run_dir))
        self.select_run(run_dir)

    def select_run(self, run_dir: str | Path) -> None:
        """Select ``run_dir``'s row (the Inspect run bar's run), without announcing it back."""
        key = str(Path(run_dir))
        if key in self.paths and key != self.selected_run():
            self.table.blockSignals(True)
            self.table.selectRow(self.paths.index(key))
            self.table.blockSignals(False)
            self._selection_changed(announce=False)

    @Slot()
    def _selection_changed(self, announce: bool = True) -> None:
        run = self.selected_run()
        if announce and run is not None:
            self.run_selected.emit(run)
        for button in (*self.buttons.values(), self.all_button):
            button.setEnabled(run is not None)
        result = read_eval(run) if run is not None else None
        self.details.setHtml(details_html(result) if result is not None else "")

    # -- evaluating ------------------------------------------------------------------------
    def evaluate(self, protocols: list[str]) -> None:
        """Run ``protocols`` on the selected run (off the GUI thread); the table follows when done."""
        run_dir = self.selected_run()
        if run_dir is None:
            self.tasks.show_message("Select a run in the table first.", error=True)
            return
        baselines, epochs = self.baselines_box.isChecked(), self.epochs.value()
        max_train = self.max_train.value() or None
        names = ", ".join(PROTOCOL_TITLES[p] for p in protocols)
        self.tasks.start(
            f"{names} on {Path(run_dir).name}",
            lambda progress: evaluate_run(run_dir, protocols, baselines=baselines, max_train=max_train,
                                          finetune_epochs=epochs, progress=progress),
            lambda result: self._evaluated(run_dir, result))

    def _evaluated(self, run_dir: str, result: EvalResult) -> None:
        self.refresh()
        self.select_run(run_dir)
        scores = ", ".join(f"{PROTOCOL_TITLES[p]} {100 * v:.1f} %" for p, v in result.scores.items())
        self.tasks.show_message(f"{Path(run_dir).name}: {scores}")
        self.evaluated.emit(result)


def details_html(result: EvalResult) -> str:
    """One run's evaluation: scores against each baseline, in the order to read them, and how they were made."""
    names = {"random_init": "untrained backbone", "pixels": "raw pixels"}
    head = "".join(f"<th>{names.get(b, b)}</th>" for b in result.baselines)
    rows = []
    for protocol in result.lead:
        if protocol not in result.scores and not any(protocol in s for s in result.baselines.values()):
            continue
        cells = "".join(f"<td align='right'>{percent(s.get(protocol)) or '–'}</td>" for s in result.baselines.values())
        rows.append(f"<tr><td>{PROTOCOL_TITLES[protocol]}</td>"
                    f"<td align='right'><b>{percent(result.scores.get(protocol)) or '–'}</b></td>{cells}</tr>")
    data = result.details.get("data", {})
    lines = [
        f"<h3>{result.run}</h3>",
        f"<p>{result.method} · {result.backbone} · checkpoint at epoch {result.epochs}, step {result.step} · "
        f"evaluated on {result.dataset} ({data.get('train_images', '?')} labelled training images, "
        f"{data.get('test_images', '?')} test images) · {result.created}</p>",
        f"<table cellspacing='6'><tr><th>top-1 %</th><th>this run</th>{head}</tr>{''.join(rows)}</table>",
    ]
    if result.caveat:
        lines.append(f"<p><i>{result.caveat}</i></p>")
    if "knn" in result.details:
        knn = result.details["knn"]
        lines.append(f"<p>k-NN: k = {knn.get('k')}, temperature {knn.get('temperature')}.</p>")
    if "linear" in result.details:
        sweep = result.details["linear"].get("sweep", {})
        tried = ", ".join(f"{wd}: {100 * acc:.1f}" for wd, acc in sweep.items())
        lines.append(f"<p>Linear probe: weight decay {result.details['linear'].get('weight_decay')} chosen on a "
                     f"held-out split (validation % per weight decay: {tried}).</p>")
    if "finetune" in result.details:
        ft = result.details["finetune"]
        losses = ", ".join(f"{v:.3f}" for v in ft.get("epoch_losses", []))
        lines.append(f"<p>Fine-tune: {ft.get('epochs')} epochs, head lr {ft.get('lr')}, encoder lr "
                     f"{ft.get('encoder_lr')}; loss per epoch {losses}.</p>")
    return "\n".join(lines)

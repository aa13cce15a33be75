"""The Studies panel: pick a claim of the lecture (or a study file), see its plan, run it, and watch the
table and the plot fill as its runs finish — the lecture's figure beside the measured one, and the verdict.

Everything shown comes from the study folder (``study.toml`` + ``results.jsonl``), so a study run from
the command line, or stopped yesterday, opens (and resumes) the same way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar,
    QPushButton, QSizePolicy, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from labbench.cli.progress import format_eta
from labbench.engine.device import describe, resolve_device
from labbench.errors import LabbenchError
from labbench.studies import (
    Budget, Cell, PlannedRun, Study, create_study_folder, default_studies_root, estimate_seconds, judge, load_study,
    open_study, plan_study, read_results, runs_to_go, study_names, summarize,
)
from labbench.studies.table import measured_summary, study_table
from labbench.studies.verdict import FAILS, HOLDS, UNCLEAR
from ui.state import SessionState
from ui.studies.plot import StudyPlot
from ui.studies.session import StudySession
from ui.theme import current_theme

CELL_ROLE = Qt.ItemDataRole.UserRole


class StudiesPanel(QDockWidget):
    """Choose, plan, run and read a study; ``run_requested`` asks the window to open one of its runs."""

    run_requested = Signal(str)  # a run folder

    def __init__(self, runs_root: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Studies", parent)
        self.setObjectName("studies")
        self.studies_root = default_studies_root(runs_root)
        self.session = StudySession(self)
        self.study: Study | None = None
        self.source = ""
        self.plan: list[PlannedRun] = []
        self.folder: Path | None = None        # the study folder shown: started here, or opened
        self.cells: dict[tuple[int, ...], Cell] = {}
        self._running_cell: tuple[int, ...] | None = None
        self._done_in_session, self._to_run = 0, 1
        self._build()
        self._connect()
        self._set_state(SessionState.IDLE)
        self._catalogue_chosen(self.chooser.currentIndex())  # the first study, shown from the start

    # -- construction ----------------------------------------------------------------------------

    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)

        choose = QHBoxLayout()
        self.chooser = QComboBox()
        self.chooser.setToolTip("The lecture's claims that ship with labbench")
        # as wide as the panel is, not as its longest title: the panel must fit a laptop screen
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(16)
        for name in study_names():
            try:
                title = load_study(name).title
            except LabbenchError:
                title = name
            self.chooser.addItem(title, name)
        self.open_file_button = QPushButton("Open file…")
        self.open_file_button.setToolTip("A study file of your own (.toml)")
        self.open_results_button = QPushButton("Open results…")
        self.open_results_button.setToolTip("A study folder: its results, and Resume when it is unfinished")
        choose.addWidget(self.chooser, 1)
        choose.addWidget(self.open_file_button)
        choose.addWidget(self.open_results_button)
        layout.addLayout(choose)

        self.title_label = self._wrapped()
        self.title_label.setStyleSheet("font-weight: bold; font-size: 11pt")
        self.claim_label = self._wrapped()
        self.lecture_label = self._wrapped()
        self.measured_label = self._wrapped()
        for label in (self.title_label, self.claim_label, self.lecture_label, self.measured_label):
            layout.addWidget(label)

        plan = QHBoxLayout()
        plan.addWidget(QLabel("Budget per run"))
        self.budget = QSpinBox()
        self.budget.setRange(1, 100_000)
        self.budget.setToolTip("How long each run trains (a new study; an opened folder keeps its own)")
        plan.addWidget(self.budget)
        self.plan_label = self._wrapped()
        plan.addWidget(self.plan_label, 1)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step; the run saves a checkpoint and Resume continues it")
        plan.addWidget(self.start_button)
        plan.addWidget(self.stop_button)
        layout.addLayout(plan)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        layout.addWidget(self.progress)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setToolTip("Double-click a row to open its run in the other views")
        self.plot = StudyPlot()
        self.plot.setToolTip("Click a bar, a point or a square to open its run in the other views")
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setSizes([420, 480])
        layout.addWidget(split, 1)

        self.verdict_label = self._wrapped()
        self.verdict_label.setStyleSheet("font-weight: bold")
        self.message_label = self._wrapped()
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.message_label)
        self.setWidget(body)

    @staticmethod
    def _wrapped() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wraps, never widens
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _connect(self) -> None:
        self.chooser.currentIndexChanged.connect(self._catalogue_chosen)
        self.open_file_button.clicked.connect(self.choose_file)
        self.open_results_button.clicked.connect(self.choose_folder)
        self.budget.valueChanged.connect(self._show_plan)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.session.stop)
        self.table.cellDoubleClicked.connect(self._row_activated)
        self.plot.cell_clicked.connect(self.open_cell)
        s = self.session
        s.state_changed.connect(self._set_state)
        s.run_started.connect(self._on_run_started)
        s.run_ended.connect(self._on_run_ended)
        s.step.connect(self._on_step)
        s.finished.connect(self._on_finished)
        s.failed.connect(lambda message: self._message(f"the study stopped: {message}", "error"))

    # -- choosing ----------------------------------------------------------------------------------

    @Slot(int)
    def _catalogue_chosen(self, index: int) -> None:
        if index >= 0 and not self.session.is_active():
            self.load(self.chooser.itemData(index))

    @Slot()
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a study file", str(Path.cwd()), "Study files (*.toml)")
        if path:
            self.load(path)

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a study folder", str(self.studies_root))
        if folder:
            self.open_folder(folder)

    def load(self, name_or_file: str | Path) -> bool:
        """Show a catalogue study or a study file, ready to start; False (with the reason shown) when it is wrong."""
        try:
            study = load_study(name_or_file)
        except LabbenchError as err:
            self._message(str(err), "error")
            return False
        self.folder = None
        self._show(study, str(name_or_file))
        return True

    def open_folder(self, folder: str | Path) -> bool:
        """Show a study folder's results; Start resumes it when runs are missing."""
        try:
            study = open_study(folder)
        except LabbenchError as err:
            self._message(str(err), "error")
            return False
        self.folder = Path(folder)
        self._show(study, str(Path(folder) / "study.toml"))
        return True

    def _show(self, study: Study, source: str) -> None:
        self.study, self.source = study, source
        self.title_label.setText(study.title)
        self.claim_label.setText(f"Claim: {study.claim}" if study.claim else "")
        lecture = f"Lecture: {study.figure}" + (f" — {study.source}" if study.source else "")
        self.lecture_label.setText(lecture if study.figure else "")
        budget = study.budget
        self.budget.blockSignals(True)
        self.budget.setSuffix(" s" if budget.seconds is not None else " epochs")
        self.budget.setValue(round(budget.seconds) if budget.seconds is not None else budget.epochs)
        self.budget.blockSignals(False)
        self.plot.show_study(study)
        self._message("")
        try:
            self.plan = plan_study(study, source)
        except LabbenchError as err:
            self.plan = []
            self._message(str(err), "error")
        self.refresh()
        self._set_state(self.session.state)

    def _chosen_budget(self) -> Budget:
        if self.study.budget.seconds is not None:
            return Budget(seconds=self.budget.value())
        return Budget(epochs=self.budget.value())

    # -- running -----------------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Start the chosen study in a new folder, or resume the folder shown."""
        if self.study is None or not self.plan or self.session.is_active():
            return
        try:
            if self.folder is None:
                study = self.study.with_changes(budget=self._chosen_budget())
                self.folder = create_study_folder(study, self.studies_root)
                self.study, self.source = study, str(self.folder / "study.toml")
                self.plan = plan_study(study, self.source)
        except (LabbenchError, OSError) as err:
            self._message(f"cannot start: {err}", "error")
            return
        self._done_in_session, self._to_run = 0, max(len(self._remaining()), 1)
        self._message(f"study folder: {self.folder}")
        self.session.start(self.folder)
        self.refresh()

    def _remaining(self) -> list[PlannedRun]:
        return runs_to_go(self.folder, self.plan)

    @Slot(object)
    def _on_run_started(self, event) -> None:
        self._running_cell = self.plan[event.index].cell if event.index < len(self.plan) else None
        self.progress.setFormat(f"run {event.index + 1}/{event.total}: {event.label} (seed {event.seed})")
        self.refresh()

    @Slot(object)
    def _on_step(self, event) -> None:
        share = (self._done_in_session + event.step / max(event.total_steps, 1)) / self._to_run
        self.progress.setValue(round(1000 * share))

    @Slot(object)
    def _on_run_ended(self, event) -> None:
        self._done_in_session += 1
        self._running_cell = None
        if event.result.status == "failed":
            self._message(f"{event.result.label} (seed {event.result.seed}) failed: {event.result.message}", "warning")
        self.refresh()

    @Slot(object)
    def _on_finished(self, event) -> None:
        self._running_cell = None
        self.progress.setFormat("stopped — Resume continues" if event.status == "stopped" else "done")
        if event.status == "completed":
            self.progress.setValue(1000)
        if event.failed:
            self._message(f"{len(event.failed)} run(s) failed: " + "; ".join(event.failed), "warning")
        self.refresh()

    def shutdown(self) -> None:
        """Stop the study at a step boundary and wait for its thread (the window is closing)."""
        self.session.shutdown()

    # -- showing -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Table, plot, verdict and plan from the study folder as it is now."""
        if self.study is None:
            return
        results = read_results(self.folder) if self.folder is not None else {}
        self.cells = summarize(self.study, results)
        self._fill_table()
        self.plot.update_cells(self.cells)
        measured = measured_summary(self.study, self.cells)
        self.measured_label.setText(f"Measured here: {measured}" if measured else "")
        verdict = judge(self.study, self.cells)
        colour = {HOLDS: current_theme().curves[2], FAILS: current_theme().error,
                  UNCLEAR: current_theme().warning}.get(verdict.word, current_theme().muted)
        self.verdict_label.setStyleSheet(f"font-weight: bold; color: {colour}")
        self.verdict_label.setText(f"Verdict: {verdict.line}" if verdict.word else "")
        self._show_plan()

    def _fill_table(self) -> None:
        table = study_table(self.study, self.cells)
        self.table.setColumnCount(len(table.head))
        self.table.setHorizontalHeaderLabels(table.head)
        self.table.setRowCount(len(table.rows))
        for r, (row, cell) in enumerate(zip(table.rows, table.cells)):
            if cell.cell == self._running_cell:
                row = [*row[:-1], "running…"]
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setData(CELL_ROLE, cell.cell)
                if c >= len(self.study.axes):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    @Slot()
    def _show_plan(self) -> None:
        """``6 runs × 75 s ≈ 11m08s on CPU (2 threads)``: what is left, from the runs measured so far."""
        if self.study is None or not self.plan:
            self.plan_label.setText("")
            return
        remaining = self._remaining()
        study = self.study if self.folder is not None else self.study.with_changes(budget=self._chosen_budget())
        if not remaining:
            self.plan_label.setText(f"all {len(self.plan)} runs done, {study.budget.describe()} each")
            return
        results = read_results(self.folder).values() if self.folder is not None else []
        measured = [(r.train_seconds, r.eval_seconds) for r in results if r.status == "completed" and r.steps > 0]
        eta = estimate_seconds(study, remaining, measured)
        try:
            device = describe(resolve_device(self.plan[0].config.train.device))
        except LabbenchError as err:
            device = str(err)
        runs = f"{len(remaining)} of {len(self.plan)} runs" if len(remaining) < len(self.plan) else f"{len(self.plan)} runs"
        time = f" ≈ {format_eta(eta)}" if eta is not None else " (time known after the first run)"
        self.plan_label.setText(f"{runs} × {study.budget.describe()}{time} on {device}")

    def _message(self, text: str, level: str = "info") -> None:
        colour = {"error": current_theme().error, "warning": current_theme().warning}.get(level, current_theme().muted)
        self.message_label.setStyleSheet(f"color: {colour}")
        self.message_label.setText(text)
        if level == "error":
            self._set_state(self.session.state)

    @Slot(object)
    def _set_state(self, state: SessionState) -> None:
        idle = state is SessionState.IDLE
        resumable = self.study is not None and self.folder is not None and bool(self._remaining())
        can_start = idle and self.study is not None and bool(self.plan) and (self.folder is None or resumable)
        self.start_button.setEnabled(can_start)
        self.start_button.setText("Resume" if self.folder is not None and resumable else "Start")
        self.stop_button.setEnabled(state is SessionState.RUNNING)
        for widget in (self.chooser, self.open_file_button, self.open_results_button):
            widget.setEnabled(idle)
        self.budget.setEnabled(idle and self.folder is None)

    # -- opening runs ------------------------------------------------------------------------------

    @Slot(int, int)
    def _row_activated(self, row: int, column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.open_cell(item.data(CELL_ROLE))

    @Slot(object)
    def open_cell(self, cell) -> None:
        """Open the first run of ``cell`` that has a folder in the other views."""
        cell = tuple(cell)
        if self.folder is None or cell not in self.cells:
            return
        for planned in self.plan:
            run_dir = self.folder / "runs" / planned.folder
            if planned.cell == cell and run_dir.is_dir():
                self.run_requested.emit(str(run_dir))
                return
        self._message(f"{self.cells[cell].label} has no run yet")

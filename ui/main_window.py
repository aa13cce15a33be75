"""The lab bench window: dock panels, menus, toolbar, status bar, and the layout saved between sessions.

The window holds the config being edited (:class:`~ui.state.ConfigState`), the handle of the run in
progress (:class:`~ui.worker.TrainingSession`) and the runs it knows (:class:`~ui.runs_model.RunsModel`);
docks observe those and send commands. Start (and the panel's Save) stay disabled, naming the field,
while the form shows a value that does not validate: what the form shows is what a run gets.

Inspect views (attention maps, reconstructions, embeddings …) plug in without editing this file:
``ui/inspect/__init__.py`` calls :func:`register_inspect_view` for each view; the window imports
``ui.inspect`` once and shows each view in its Inspect window (a navigator of full names and icons)
and in the Inspect menu. A factory receives the window and may use ``window.state``,
``window.session`` (its signals), ``window.browser`` (``image_selected``, ``dataset_loaded``),
``window.runs``, ``window.inspect`` (the Inspect window) and ``window.theme_changed`` (pyqtgraph plots must be restyled by
hand; see ``ui.theme.current_theme``).

The first window takes a share of the screen's available area, never more; a layout restored from
an earlier session is clamped to the screen it opens on.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
    QProgressBar, QProgressDialog, QStyle, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from labbench.cli.progress import format_eta
from labbench.engine.device import describe, resolve_device
from labbench.engine.events import CheckpointEvent, EpochEvent, FinishedEvent, StepEvent
from labbench.errors import LabbenchError
from labbench.run_config import RunConfig, dump_toml, load_preset, preset_names, validate_config
from labbench.runs import default_runs_root, load_run_config, read_metrics, read_run
from ui.docks.augmentation_preview import AugmentationPreview
from ui.docks.dataset_browser import DatasetBrowser
from ui.docks.log_panel import LogPanel
from ui.docks.method_config import MethodConfigDock
from ui.docks.run_list import RunList, run_label
from ui.docks.training_plots import TrainingPlots
from ui.widgets.view_icons import view_icon
from ui.inspect_window import InspectWindow
from ui.runs_model import RunsModel
from ui.settings import open_settings
from ui.state import ConfigState, SessionState
from ui.tasks import Task, TaskRunner
from ui.theme import THEMES, apply_theme
from ui.widgets.dock_tabs import StaleTabBarSweeper
from ui.worker import TrainingSession

#: the first window's share of the screen's available area, and the size it aims for on a small screen
SCREEN_SHARE = (0.75, 0.8)
COMFORTABLE = QSize(1280, 760)
CLOSE_NOTE = "session/closed_mid_run"  # what the last session's close did to a run, said at the next start


@dataclass(frozen=True)
class InspectView:
    """A view of the Inspect window: ``factory(window)`` makes its widget once, at start-up."""

    title: str
    factory: Callable[[MainWindow], QWidget]
    icon: str = ""
    follows_run: bool = False  # it looks at the run the panel follows (``widget.set_run(path)``)


#: title -> view; filled by ``ui/inspect/__init__.py``
INSPECT_VIEWS: dict[str, InspectView] = {}


def register_inspect_view(title: str, factory: Callable[[MainWindow], QWidget], icon: str = "",
                          follows_run: bool = False) -> None:
    """Add an Inspect view (``icon``: a name of :data:`ui.widgets.view_icons.DRAWINGS`)."""
    INSPECT_VIEWS[title] = InspectView(title, factory, icon, follows_run)


def default_config() -> RunConfig:
    """SimCLR on the built-in shapes, from its preset when there is one (sized for small images)."""
    config = load_preset("simclr") if "simclr" in preset_names() else RunConfig()
    return config.model_copy(update={"data": config.data.model_copy(update={"source": "shapes", "root": None})})


def initial_geometry(available: QRect) -> QRect:
    """The first window: a share of the available area (at least a comfortable size where the screen
    has room), never larger than it, centred."""
    width = min(available.width(), max(round(SCREEN_SHARE[0] * available.width()), COMFORTABLE.width()))
    height = min(available.height(), max(round(SCREEN_SHARE[1] * available.height()), COMFORTABLE.height()))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


def clamped(rect: QRect, available: QRect) -> QRect:
    """``rect`` made to fit inside ``available``: shrunk where larger, moved where it sticks out."""
    out = QRect(rect.topLeft(), rect.size().boundedTo(available.size()))
    out.moveLeft(min(max(out.left(), available.left()), available.right() - out.width() + 1))
    out.moveTop(min(max(out.top(), available.top()), available.bottom() - out.height() + 1))
    return out


class MainWindow(QMainWindow):
    """The whole lab bench. ``config`` overrides the remembered one; ``runs_root`` is where runs go."""

    theme_changed = Signal(object)  # the Theme now applied

    def __init__(self, config: RunConfig | None = None, runs_root: str | Path | None = None,
                 load_dataset: bool = True) -> None:
        super().__init__()
        self.setObjectName("labbench_main_window")
        self.settings = open_settings()
        self.runs_root = Path(runs_root) if runs_root is not None else default_runs_root()
        self.state = ConfigState(config or self._remembered_config(), self)
        self.session = TrainingSession(self.runs_root, self)
        self.runs = RunsModel(self.runs_root, self)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)

        self.browser = DatasetBrowser(self.state, self)
        self.preview = AugmentationPreview(self.state, self)
        self.method_config = MethodConfigDock(self.state, self)
        self.plots = TrainingPlots(self)
        self.log_panel = LogPanel(self)
        self.run_list = RunList(self.runs, self)
        self.inspect = InspectWindow(self.runs, self)
        from ui.studies import StudiesPanel  # here: its plots' style module imports ui.inspect, which imports this one

        self.studies = StudiesPanel(self.runs_root, self)
        self.docks: list[QDockWidget] = [
            self.browser, self.preview, self.plots, self.method_config, self.log_panel, self.run_list, self.studies,
        ]
        self._arrange_default_layout()
        self._add_inspect_views()
        self._default_state = self.saveState()
        self.tab_sweeper = StaleTabBarSweeper(self)
        for dock in self.docks:
            self.tab_sweeper.watch(dock)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()
        self._connect()
        self._restore_layout()
        self._set_run_state(SessionState.IDLE)
        self._update_title(self.state.config)
        self._update_device(self.state.config)
        self._say_what_the_last_close_did()
        if load_dataset:
            self.browser.load()

    # -- construction ----------------------------------------------------------------------
    def _remembered_config(self) -> RunConfig:
        text = self.settings.value("config/last", "", str)
        if text:
            try:
                return validate_config(tomllib.loads(text))
            except (LabbenchError, tomllib.TOMLDecodeError):
                pass  # a config from an older version: start from the defaults
        return default_config()

    def available_geometry(self) -> QRect:
        """The area of the screen the window opens on that windows may use (no task bar, no dock)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def _arrange_default_layout(self) -> None:
        for dock in self.docks:
            dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(left, self.browser)
        self.splitDockWidget(self.browser, self.preview, Qt.Orientation.Vertical)
        self.addDockWidget(right, self.plots)
        self.splitDockWidget(self.plots, self.method_config, Qt.Orientation.Horizontal)
        self.splitDockWidget(self.plots, self.log_panel, Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.log_panel, self.run_list)
        self.tabifyDockWidget(self.plots, self.studies)
        self.plots.raise_()  # the window opens on the training plots
        self.log_panel.raise_()
        self.setGeometry(initial_geometry(self.available_geometry()))
        self.inspect.setGeometry(initial_geometry(self.available_geometry()))
        w, h = self.width(), self.height()
        self.resizeDocks([self.browser, self.plots, self.method_config],
                         [round(0.24 * w), round(0.5 * w), round(0.26 * w)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.browser, self.preview], [h // 2, h // 2], Qt.Orientation.Vertical)
        self.resizeDocks([self.plots, self.log_panel], [round(0.7 * h), round(0.3 * h)], Qt.Orientation.Vertical)

    def _add_inspect_views(self) -> None:
        # Inspect views are add-ons: one that fails to load is reported, the window opens without it.
        try:
            if importlib.util.find_spec("ui.inspect") is not None:
                importlib.import_module("ui.inspect")  # registers its views
        except Exception as err:  # noqa: BLE001
            self.log_panel.add(f"Inspect views could not be loaded: {type(err).__name__}: {err}", "error")
        for view in INSPECT_VIEWS.values():
            try:
                widget = view.factory(self)
            except Exception as err:  # noqa: BLE001
                self.log_panel.add(f"Inspect view {view.title!r} could not be made: {type(err).__name__}: {err}",
                                   "error")
                continue
            self.inspect.add_view(view.title, widget, view_icon(view.icon, view.title), view.follows_run)

    def _action(self, text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None,
                tip: str = "", icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text.rstrip('…')} ({keys})" if keys else tip or text.rstrip("…"))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.open_folder_action = self._action("Open image folder…", self.choose_image_folder, "Ctrl+O",
                                               "Browse and train on a folder of images", sp.SP_DirOpenIcon)
        self.open_run_action = self._action("Open run…", self.choose_run, "Ctrl+Shift+O",
                                            "Reopen a run folder: its config, curves and checkpoint")
        self.quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit, "Close labbench")
        self.start_action = self._action("Start", self.start_training, "Ctrl+R",
                                         "Train the configured method in a new run folder", sp.SP_MediaPlay)
        self.pause_action = self._action("Pause", self.session.pause, "Ctrl+P",
                                         "Pause after the current step", sp.SP_MediaPause)
        self.resume_action = self._action("Resume", self.session.resume_training, "Ctrl+Shift+P",
                                          "Continue the paused run", sp.SP_MediaSeekForward)
        self.stop_action = self._action("Stop", self.session.stop, "Ctrl+.",
                                        "Stop after the current step and save a checkpoint", sp.SP_MediaStop)
        self.reset_layout_action = self._action("Reset layout", self.reset_layout, tip="Put every panel back")
        self.shortcuts_action = self._action("Keyboard shortcuts", self.show_shortcuts, "F1",
                                             "List the keyboard shortcuts")
        self.inspect_action = self._action("Inspect", self.inspect.bring_forward, "Ctrl+I",
                                           "Open the Inspect window: attention, embeddings, collapse, evaluation …")
        self.inspect_action.setIcon(view_icon("embeddings"))
        # one shortcut per view, in the navigator's order (Ctrl+1 … Ctrl+9), from either window
        self.inspect_view_actions = [
            self._action(title, lambda _c=False, t=title: self.inspect.show_view(t),
                         f"Ctrl+{i + 1}" if i < 9 else None, f"Show the {title} view")
            for i, title in enumerate(self.inspect.titles())
        ]
        for action in (self.inspect_action, *self.inspect_view_actions):
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.export_action = None
        if importlib.util.find_spec("labbench.export") is not None:
            self.export_action = self._action("Export encoder…", self.export_encoder, "Ctrl+E",
                                              "Export the selected run's encoder for use elsewhere")
        self.theme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name in THEMES:
            action = QAction(f"{name.capitalize()} theme", self, checkable=True)
            action.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(action)
            self.theme_actions[name] = action

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_folder_action, self.open_run_action])
        if self.export_action is not None:
            file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        run_menu.addActions([self.start_action, self.pause_action, self.resume_action, self.stop_action])
        view_menu = bar.addMenu("&View")
        self.dock_actions = {}
        for dock in self.docks:
            action = dock.toggleViewAction()
            self.dock_actions[dock.objectName()] = action
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addActions(list(self.theme_actions.values()))
        view_menu.addSeparator()
        view_menu.addAction(self.reset_layout_action)
        self.inspect_menu = bar.addMenu("&Inspect")
        self.inspect_menu.addAction(self.inspect_action)
        self.inspect_menu.addSeparator()
        for action, title in zip(self.inspect_view_actions, self.inspect.titles(), strict=True):
            action.setIcon(self.inspect.navigator.item(self.inspect.titles().index(title)).icon())
            self.inspect_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)

    def _make_toolbar(self) -> None:
        toolbar = self.addToolBar("Training")
        toolbar.setObjectName("training_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addActions([self.start_action, self.pause_action, self.resume_action, self.stop_action])
        toolbar.addSeparator()
        toolbar.addAction(self.inspect_action)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.blocked_label = QLabel()  # why Start is disabled, when a field does not validate
        self.blocked_label.setProperty("role", "error")
        self.blocked_label.hide()
        self.device_label = QLabel()
        self.step_label = QLabel("step –")
        self.epoch_label = QLabel("epoch –")
        self.speed_label = QLabel("– img/s")
        self.eta_label = QLabel("ETA –")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        bar.addWidget(self.blocked_label, 1)
        for w in (self.device_label, self.step_label, self.epoch_label, self.speed_label, self.eta_label):
            w.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(self.progress)

    def _connect(self) -> None:
        s = self.session
        s.state_changed.connect(self._set_run_state)
        s.started.connect(self._on_started)
        s.step.connect(self.plots.on_step)
        s.step.connect(self._on_step)
        s.epoch.connect(self.plots.on_epoch)
        s.epoch.connect(self._on_epoch)
        s.reference.connect(self.plots.on_reference)
        s.probe.connect(self.plots.on_probe)
        s.log.connect(self.log_panel.on_log)
        s.checkpoint.connect(self._on_checkpoint)
        s.finished.connect(self._on_finished)
        self.plots.verdict_changed.connect(self._on_verdict)
        self.browser.image_selected.connect(self.preview.set_image)
        self.browser.message.connect(self._on_browser_message)
        self.browser.loading_changed.connect(lambda _busy: self._update_commands())
        self.method_config.problems_changed.connect(lambda _problems: self._update_commands())
        self.state.changed.connect(self._update_title)
        self.state.changed.connect(self._update_device)
        self.run_list.run_toggled.connect(self._on_run_toggled)
        self.run_list.resume_requested.connect(self.resume_run)
        self.run_list.tree.itemSelectionChanged.connect(self._follow_selected_run)
        self.studies.run_requested.connect(self.open_run)

    # -- layout and settings ---------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
            # saved on a larger screen, or at another scale: the window must still fit this one
            self.setGeometry(clamped(self.geometry(), self.available_geometry()))
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
            self.tab_sweeper.schedule()
        geometry = self.settings.value("inspect/geometry")
        if isinstance(geometry, QByteArray):
            self.inspect.restoreGeometry(geometry)
            self.inspect.setGeometry(clamped(self.inspect.geometry(), self.available_geometry()))
        self._reopen_inspect = self.settings.value("inspect/open", False, bool)
        theme = self.settings.value("view/theme", "dark", str)
        self.theme_actions.get(theme, self.theme_actions["dark"]).setChecked(True)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("inspect/geometry", self.inspect.saveGeometry())
        self.settings.setValue("inspect/open", self.inspect.isVisible())
        self.settings.setValue("config/last", dump_toml(self.state.config))
        self.settings.sync()

    @Slot()
    def reset_layout(self) -> None:
        """Every panel back where it starts, shown and docked."""
        for dock in self.docks:
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state)
        self.plots.raise_()
        self.tab_sweeper.schedule()

    def set_theme(self, name: str) -> None:
        """Switch between the dark and light theme; remembered for the next start."""
        apply_theme(QApplication.instance(), name)
        self.theme_actions[name].setChecked(True)
        self.settings.setValue("view/theme", name)
        self.plots.restyle()
        self.log_panel.restyle()
        self.theme_changed.emit(THEMES[name])

    # -- commands --------------------------------------------------------------------------
    def start_blocker(self) -> str:
        """Why Start cannot run now ('' when it can)."""
        if self.session.is_active():
            return "a run is in progress"
        if reason := self.method_config.blocking_reason():
            return f"fix {reason}"
        if self.browser.is_loading():
            return "the dataset is still loading"
        return ""

    @Slot()
    def start_training(self) -> None:
        if blocker := self.start_blocker():
            if not self.session.is_active():
                self.log_panel.add(f"cannot start: {blocker}", "warning")
            return
        try:
            self.session.start(self.state.config)
        except (LabbenchError, OSError) as err:
            self._report(f"cannot start: {err}", "error")

    @Slot(str)
    def resume_run(self, run_dir: str) -> None:
        """Continue a stopped run from its checkpoint (its own config, its own curves)."""
        if self.session.is_active():
            return
        try:
            config = self.session.resume(run_dir)
        except LabbenchError as err:
            self._report(f"cannot resume {run_dir}: {err}", "error")
            return
        self.state.set(config)

    @Slot()
    def choose_image_folder(self) -> None:
        start = self.settings.value("dialogs/image_folder", str(Path.home()), str)
        folder = QFileDialog.getExistingDirectory(self, "Open image folder", start)
        if folder:
            self.settings.setValue("dialogs/image_folder", folder)
            self.browser.load_source("folder", folder)

    @Slot()
    def choose_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open run folder", str(self.runs_root))
        if folder:
            self.open_run(folder)

    def open_run(self, run_dir: str | Path) -> None:
        """Show a run folder: its curves overlaid, its config in the panels (ready to resume), the
        Inspect views on it. A folder with a missing or unreadable config (an older version's, a
        damaged one) shows its curves alone."""
        run_dir = Path(run_dir)
        records = read_metrics(run_dir)
        try:
            config = load_run_config(run_dir)
        except LabbenchError as err:
            if not records:
                self._report(str(err), "error")
                return
            config = None
            self.log_panel.add(f"{err}; showing its curves, keeping the current settings", "warning")
        self.run_list.add_run(run_dir, checked=True)
        self.plots.load_records(str(run_dir), run_label(run_dir), records)
        self.inspect.follow(run_dir)
        if config is not None and not self.session.is_active():
            self.state.set(config)
        self.log_panel.add(f"opened run {run_dir}")

    def export_target(self) -> str | None:
        """The run to export: the one selected in the Runs panel, else the one trained last."""
        return self.run_list.selected_path() or self.session.run_dir

    @Slot()
    def export_encoder(self) -> None:
        run_dir = self.export_target()
        if run_dir is None:
            self._report("select a run in the Runs panel (or train one); its encoder is what is exported", "warning")
            return
        from ui.inspect.export_dialog import ExportDialog  # formats, folder, name, embeddings; shows the checks

        dialog = ExportDialog(run_dir, self)
        dialog.exported.connect(self._on_exported)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def export_run(self, run_dir: str | Path, out_dir: str | Path) -> Task:
        """Export the run's encoder in every format, off the GUI thread, with a cancellable progress dialog."""
        from labbench.export import export_run

        dialog = QProgressDialog(f"Exporting the encoder of {Path(run_dir).name}…", "Cancel", 0, 0, self)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setMinimumDuration(300)

        runner = TaskRunner(dialog)
        task = runner.submit(
            lambda progress: export_run(run_dir, out_dir, progress=progress),
            lambda result: (dialog.close(), self._on_exported(result)),
            failed=lambda message: (dialog.close(), self._report(f"export failed: {message}", "error")),
            progress=lambda done, total: (dialog.setMaximum(total), dialog.setValue(done)),
            cancelled=lambda: (dialog.close(), self.log_panel.add("export cancelled", "warning")))
        dialog.canceled.connect(task.cancel)
        self.log_panel.add(f"exporting the encoder of {run_dir} to {out_dir}")
        return task

    @Slot(object)
    def _on_exported(self, result) -> None:
        files = ", ".join(p.name for p in result.files.values())
        self.log_panel.add(f"encoder exported to {result.folder}: {files} (checked: largest difference "
                           f"{max(result.max_abs_diff.values()):.1e})")

    @Slot()
    def show_shortcuts(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(dialog)
        actions = [a for a in self.findChildren(QAction) if not a.shortcut().isEmpty()]
        table = QTableWidget(len(actions), 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        table.verticalHeader().hide()
        for row, action in enumerate(sorted(actions, key=lambda a: a.text())):
            table.setItem(row, 0, QTableWidgetItem(action.text().replace("&", "").rstrip("…")))
            table.setItem(row, 1, QTableWidgetItem(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        dialog.resize(380, 420)
        dialog.open()

    # -- engine events ---------------------------------------------------------------------
    @Slot(object)
    def _set_run_state(self, state: SessionState) -> None:
        self._update_commands()
        self.run_list.set_training(state.active)
        # The running config is fixed; edits would mislead about what is being trained.
        self.method_config.setEnabled(not state.active)
        self.preview.set_editable(not state.active)
        if state is SessionState.PAUSED:
            self.statusBar().showMessage("Paused")
            self.eta_label.setText("ETA – (paused)")
        elif state is SessionState.STOPPING:
            self.statusBar().showMessage("Stopping after this step…")
        elif state is SessionState.RUNNING:
            self.statusBar().clearMessage()
        else:  # idle: nothing is running, so no speed and no time left
            self.speed_label.setText("– img/s")
            self.eta_label.setText("ETA –")
            self.runs.set_live(None)

    def _update_commands(self) -> None:
        """Enable the run commands from the session state, and Start also from the form and the dataset."""
        state = self.session.state
        blocker = self.start_blocker()
        self.start_action.setEnabled(not blocker)
        self.start_action.setToolTip(f"Start is blocked: {blocker}" if blocker and not state.active
                                     else "Train the configured method in a new run folder (Ctrl+R)")
        self.pause_action.setEnabled(state is SessionState.RUNNING)
        self.resume_action.setEnabled(state is SessionState.PAUSED)
        self.stop_action.setEnabled(state in (SessionState.RUNNING, SessionState.PAUSED))
        reason = self.method_config.blocking_reason()
        self.blocked_label.setText(f"Start is blocked: fix {reason}" if reason else "")
        self.blocked_label.setVisible(bool(reason))

    @Slot(object, str)
    def _on_started(self, config: RunConfig, run_dir: str) -> None:
        self.plots.begin_live_run(run_dir, run_label(run_dir), read_metrics(run_dir))  # resumed: its past too
        self.runs.set_live(run_dir)
        self.plots.raise_()  # Start shows its curves, whatever tab was in front
        self.run_list.add_run(run_dir, checked=True)
        self.inspect.follow(run_dir)
        self.step_label.setText("step –")
        self.epoch_label.setText("epoch –")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.log_panel.add(f"run folder {run_dir}")

    @Slot(object)
    def _on_step(self, event: StepEvent) -> None:
        self.step_label.setText(f"step {event.step}/{event.total_steps}")
        self.epoch_label.setText(f"epoch {event.epoch + 1}")
        self.speed_label.setText(f"{event.images_per_sec:,.0f} img/s")
        if self.session.state is SessionState.RUNNING:  # paused or stopping: no time is left to count
            batch = self.session.config.train.batch_size  # the running config, not the one being edited
            remaining = (event.total_steps - event.step) * batch / max(event.images_per_sec, 1e-9)
            self.eta_label.setText(f"ETA {format_eta(remaining)}")
        self.progress.setRange(0, max(event.total_steps, 1))
        self.progress.setValue(event.step)

    @Slot(object)
    def _on_epoch(self, event: EpochEvent) -> None:
        knn = f", k-NN {event.knn_accuracy:.1%}" if event.knn_accuracy is not None else ""
        self.log_panel.add(f"epoch {event.epoch}: feature std {event.feature_std:.3g}, "
                           f"effective rank {event.effective_rank:.1f}{knn}")

    @Slot(str, object)
    def _on_verdict(self, run_key: str, verdict) -> None:
        if run_key == self.plots.live_key and verdict.collapsed:
            self.log_panel.add(f"{verdict.words}; {verdict.advice}", "warning")

    @Slot(object)
    def _on_checkpoint(self, event: CheckpointEvent) -> None:
        self.log_panel.add(f"checkpoint saved at step {event.step}: {event.path}")

    @Slot(object)
    def _on_finished(self, event: FinishedEvent) -> None:
        # The trainer itself logs why a run stopped, diverged or failed.
        self.statusBar().showMessage(f"Run {event.status}: {event.message}", 15000)
        if event.status == "completed":
            self.log_panel.add(f"run completed: {event.message}")
        if event.status in ("diverged", "failed"):
            self._alert(event.message, f"Run {event.status}")  # the log has it already, from the trainer
        if event.run_dir:
            self.run_list.add_run(event.run_dir)
        self.progress.setValue(self.progress.maximum() if event.status == "completed" else self.progress.value())
        self.plots.redraw()

    @Slot(str, str)
    def _on_browser_message(self, text: str, level: str) -> None:
        if level == "error":
            self._report(text, level)
        else:
            self.log_panel.add(text, level)

    def _report(self, text: str, level: str) -> None:
        """Into the log, and for errors also a message box that does not block the window."""
        self.log_panel.add(text, level)
        if level == "error":
            self._alert(text)

    def _alert(self, text: str, title: str = "labbench") -> None:
        """A warning box that leaves the window (and its event loop) running: never a modal ``exec``."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    @Slot(str, bool)
    def _on_run_toggled(self, run_dir: str, shown: bool) -> None:
        if run_dir not in self.plots.runs and shown:
            self.plots.load_records(run_dir, run_label(run_dir), read_metrics(run_dir))
        self.plots.set_run_visible(run_dir, shown)

    @Slot()
    def _follow_selected_run(self) -> None:
        if path := self.run_list.selected_path():
            self.inspect.follow(path)

    @Slot(object)
    def _update_title(self, config: RunConfig) -> None:
        # Qt adds the application's name ("labbench") itself.
        self.setWindowTitle(f"{config.method.name} on {config.data.source} · {config.backbone.name}")

    @Slot(object)
    def _update_device(self, config: RunConfig) -> None:
        try:
            text = describe(resolve_device(config.train.device))
        except LabbenchError:
            text = f"{config.train.device} (not available)"
        self.device_label.setText(text)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.tab_sweeper.schedule()  # the first layout pass may leave a stale tab bar
        if self._reopen_inspect:  # it was open when the window last closed
            self._reopen_inspect = False
            self.inspect.show()

    # -- closing ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Stop a run at a step boundary (the trainer saves its checkpoint) and say so, then save the layout."""
        if self.session.is_active():
            self._stop_run_before_closing()
        self.studies.shutdown()
        self.browser.wait()
        self.preview.wait()
        self.save_settings()
        super().closeEvent(event)

    def _stop_run_before_closing(self) -> None:
        run_dir = self.session.run_dir
        notice = QProgressDialog("Stopping the run after this step and saving its checkpoint…", "", 0, 0, self)
        notice.setCancelButton(None)
        notice.setWindowTitle("Saving the run")
        notice.setMinimumDuration(0)
        notice.show()
        QApplication.processEvents()  # painted before the wait
        ended = self.session.shutdown()
        notice.close()
        if run_dir is None:
            return
        info = read_run(run_dir)
        if ended:
            note = (f"The run {Path(run_dir).name} was stopped at step {info.step} when the window closed; its "
                    f"checkpoint is saved in {run_dir}. Resume it from the Runs panel, or: "
                    f"labbench train --resume {run_dir}")
        else:
            note = (f"The run {Path(run_dir).name} did not stop in time when the window closed; its last "
                    f"checkpoint in {run_dir} is kept.")
        self.settings.setValue(CLOSE_NOTE, note)
        print(note, file=sys.stderr)

    def _say_what_the_last_close_did(self) -> None:
        note = self.settings.value(CLOSE_NOTE, "", str)
        if note:
            self.log_panel.add(note, "warning")
            self.settings.remove(CLOSE_NOTE)

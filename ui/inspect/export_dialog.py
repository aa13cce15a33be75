"""File > Export encoder…: choose formats, folder, name and an embeddings bundle; see each file's check.

The export itself is :func:`labbench.export.export_run` off the GUI thread: the run's encoder (heads
dropped) from its latest checkpoint, each file loaded back and compared with the live encoder on
the run's own eval images. When it is done the dialog lists every file with its size and that
largest difference, so a person sees the exported encoder computes what the trained one does.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from labbench.errors import ConfigError
from labbench.export import FORMATS, TOLERANCE, ExportResult, check_name, export_run
from ui.inspect.task_bar import TaskBar

FORMAT_HELP = {
    "pt": "PyTorch state_dict (.pt, loads into torchvision for ResNets)",
    "safetensors": "safetensors (the same tensors, card in the metadata)",
    "torchscript": "TorchScript (.ts, for C++ and mobile; traced at the run's image size)",
    "onnx": "ONNX opset 17 (.onnx, any batch size; run with onnxruntime)",
}


def human_size(size: float) -> str:
    units = ("B", "KB", "MB", "GB")
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.0f} {units[i]}" if i == 0 else f"{size:.1f} {units[i]}"


class ExportDialog(QDialog):
    """Export one run's encoder; ``exported`` carries the :class:`~labbench.export.ExportResult`."""

    exported = Signal(object)

    def __init__(self, run_dir: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.export_result: ExportResult | None = None
        self.setWindowTitle(f"Export encoder — {self.run_dir.name}")

        self.format_boxes = {}
        formats = QVBoxLayout()
        for fmt in FORMATS:
            box = QCheckBox(FORMAT_HELP.get(fmt, fmt))
            box.setChecked(True)
            self.format_boxes[fmt] = box
            formats.addWidget(box)
        self.folder = QLineEdit(str(self.run_dir / "exports"))
        self.browse_button = QPushButton("Browse…")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse_button)
        self.name = QLineEdit("encoder")
        self.name.setToolTip("Base name of the files: letters, digits, '_', '.' and '-'")
        self.name_error = QLabel()
        self.name_error.setProperty("role", "error")
        self.name_error.hide()
        self.embeddings_box = QCheckBox("Also the eval images' embeddings: TensorBoard projector bundle, .npy and .csv")

        form = QFormLayout()
        form.addRow("Run", QLabel(str(self.run_dir)))
        form.addRow("Formats", formats)
        form.addRow("Folder", folder_row)
        form.addRow("Name", self.name)
        form.addRow("", self.name_error)
        form.addRow("", self.embeddings_box)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Format", "File", "Size", "Check: largest |difference|"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        rows = len(FORMATS) + 0.5  # every format visible without scrolling
        self.table.setMinimumHeight(round(self.table.horizontalHeader().sizeHint().height()
                                          + rows * self.table.verticalHeader().defaultSectionSize()))
        self.table.hide()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tasks = TaskBar()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.tasks)
        layout.addWidget(self.buttons)
        self.resize(760, 560)

        self.browse_button.clicked.connect(self._browse)
        self.name.textChanged.connect(self._validate)
        for box in self.format_boxes.values():
            box.toggled.connect(self._validate)
        self.export_button.clicked.connect(self.start_export)
        self.tasks.idle.connect(self._validate)
        self.buttons.rejected.connect(self.reject)

    def formats(self) -> list[str]:
        return [fmt for fmt, box in self.format_boxes.items() if box.isChecked()]

    @Slot()
    def _validate(self) -> bool:
        try:
            check_name(self.name.text())
            message = "" if self.formats() else "choose at least one format"
        except ConfigError as err:
            message = str(err)
        self.name_error.setText(message)
        self.name_error.setVisible(bool(message))
        self.export_button.setEnabled(not message and not self.tasks.is_busy())
        return not message

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export encoder to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    @Slot()
    def start_export(self) -> None:
        """Export with the chosen settings, off the GUI thread (Cancel stops it after the current format)."""
        if not self._validate():
            return
        run_dir, folder, formats = self.run_dir, Path(self.folder.text()), self.formats()
        name, embeddings = self.name.text(), self.embeddings_box.isChecked()
        self.export_button.setEnabled(False)
        self.tasks.start(f"exporting {', '.join(formats)} to {folder}",
                         lambda progress: export_run(run_dir, folder, formats, name=name, embeddings=embeddings,
                                                     progress=progress),
                         self._exported)

    def reject(self) -> None:
        self.tasks.cancel()
        super().reject()

    def _exported(self, result: ExportResult) -> None:
        self.export_result = result
        self.table.setRowCount(len(result.files))
        for row, (fmt, path) in enumerate(result.files.items()):
            diff = result.max_abs_diff[fmt]
            cells = (fmt, path.name, human_size(path.stat().st_size), f"{diff:.1e} (≤ {TOLERANCE:g}: same outputs)")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(path))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.show()
        extra = ""
        if result.embeddings:
            folder = next(iter(result.embeddings.values())).parent
            extra = f" Embeddings: {', '.join(sorted(result.embeddings))} in {folder}."
        self.summary.setText(f"Written to {result.folder}, with the model card {result.card_path.name}; each file was "
                             f"loaded back and run on the run's eval images.{extra}")
        self.exported.emit(result)

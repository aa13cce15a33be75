"""File > Export encoder…: the dialog exports the chosen formats off the GUI thread and shows each file's check."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from labbench.export import TOLERANCE, load_encoder
from ui.inspect.export_dialog import ExportDialog


@pytest.fixture
def dialog(qtbot, simclr_run, tmp_path):
    widget = ExportDialog(simclr_run)
    qtbot.addWidget(widget)
    widget.folder.setText(str(tmp_path / "out"))
    widget.show()
    return widget


def test_it_exports_the_chosen_formats_and_shows_their_checks(dialog, qtbot, tmp_path):
    dialog.format_boxes["torchscript"].setChecked(False)
    dialog.format_boxes["onnx"].setChecked(False)
    dialog.name.setText("shapes-simclr")
    with qtbot.waitSignal(dialog.exported, timeout=60000) as done:
        dialog.export_button.click()
        assert not dialog.export_button.isEnabled()  # one export at a time
    result = done.args[0]
    assert sorted(result.files) == ["pt", "safetensors"]
    assert (tmp_path / "out" / "shapes-simclr.pt").is_file()
    assert dialog.table.rowCount() == 2 and dialog.table.isVisible()
    for row in range(2):
        diff = float(dialog.table.item(row, 3).text().split()[0])
        assert diff <= TOLERANCE
    encoder, card = load_encoder(tmp_path / "out" / "shapes-simclr.safetensors")
    assert card["run"] == dialog.run_dir.name
    assert dialog.export_button.isEnabled()


def test_the_embeddings_bundle_is_optional(dialog, qtbot, tmp_path):
    for fmt in ("safetensors", "torchscript", "onnx"):
        dialog.format_boxes[fmt].setChecked(False)
    dialog.embeddings_box.setChecked(True)
    with qtbot.waitSignal(dialog.exported, timeout=60000) as done:
        dialog.export_button.click()
    bundle = done.args[0].embeddings
    assert {"tensors.tsv", "metadata.tsv", "sprite.png", "embeddings.npy"} <= set(bundle)
    assert "Embeddings:" in dialog.summary.text()


def test_a_bad_name_or_no_format_cannot_be_exported(dialog):
    dialog.name.setText("../outside")
    assert not dialog.export_button.isEnabled() and dialog.name_error.isVisible()
    dialog.name.setText("fine")
    assert dialog.export_button.isEnabled()
    for box in dialog.format_boxes.values():
        box.setChecked(False)
    assert not dialog.export_button.isEnabled()
    assert "at least one format" in dialog.name_error.text()


def test_closing_cancels_the_export(dialog, qtbot, tmp_path):
    dialog.export_button.click()
    assert dialog.tasks.is_busy()
    dialog.reject()
    assert not dialog.tasks.is_busy() and dialog.result() == QDialog.DialogCode.Rejected
    qtbot.wait(500)
    assert dialog.table.rowCount() == 0


def test_the_window_menu_opens_the_dialog(make_window, qtbot, simclr_run, monkeypatch):
    window = make_window(load=False)
    monkeypatch.setattr(window, "export_target", lambda: str(simclr_run))
    window.export_action.trigger()
    dialogs = window.findChildren(ExportDialog)
    assert len(dialogs) == 1 and dialogs[0].run_dir == simclr_run
    dialogs[0].reject()

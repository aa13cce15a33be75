"""Issue #15, defect 7: an export replaces its whole set of files or nothing — an interrupted re-export
never leaves files from two checkpoints side by side, and no temporary file outlives it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from labbench.run_config import apply_overrides
from labbench.engine import Trainer
from labbench.export import export_run

from tests.reliability.conftest import labbench, temporary_files, wait_for

FORMATS = ["pt", "safetensors", "torchscript", "onnx"]


@pytest.fixture
def exported(tmp_path, tiny_config) -> tuple[Path, dict[str, bytes]]:
    """A run of one epoch exported in every format, then trained one epoch more: (run, files as exported)."""
    cfg = apply_overrides(tiny_config, ["train.epochs=1"])
    run = Path(Trainer(cfg, runs_root=tmp_path / "runs").fit().run_dir)
    export_run(run, formats=FORMATS)
    before = _files(run / "exports")
    assert Trainer(apply_overrides(cfg, ["train.epochs=2"]), run_dir=run).fit().status == "completed"
    return run, before


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def test_a_cancelled_re_export_leaves_the_earlier_set_whole(exported):
    run, before = exported
    with pytest.raises(InterruptedError):
        export_run(run, formats=FORMATS, progress=lambda done, total: done < 2)  # cancelled after two formats
    assert _files(run / "exports") == before
    assert json.loads(before["encoder.card.json"])["step"] == 3
    assert not temporary_files(run)


def test_a_re_export_with_fewer_formats_replaces_the_whole_set(exported):
    run, _ = exported
    export_run(run, formats=["pt"])
    names = sorted(_files(run / "exports"))
    assert names == ["README.md", "encoder.card.json", "encoder.pt"]  # no .onnx from the earlier checkpoint beside them
    assert json.loads((run / "exports" / "encoder.card.json").read_text())["step"] == 6


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_signal_during_export_leaves_no_temporary_file_for_good(exported, sig):
    run, before = exported
    exports = run / "exports"
    proc = labbench("export", str(run), "--formats", ",".join(FORMATS))
    wait_for(lambda: temporary_files(exports), proc=proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143 and "export interrupted" in err and "Traceback" not in err
        assert not temporary_files(run)
    assert _files(exports) == before  # the swap had not begun: the earlier set stands
    export_run(run, formats=["pt"])  # the next export clears what a SIGKILL left
    assert not temporary_files(run)

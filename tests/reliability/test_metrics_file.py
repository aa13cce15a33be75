"""Issue #15, defects 4 and 8: ``metrics.jsonl`` never loses or glues records (a torn tail is moved
aside, a short write on a full disk is cut back), and ``labbench runs`` survives odd records and
huge files, reading only their end."""

from __future__ import annotations

import errno
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from labbench.cli import main
from labbench.run_config import apply_overrides
from labbench.engine import Control, Trainer
from labbench.runs import MetricsLog, list_runs, read_metrics, read_run

from tests.reliability.conftest import fill


def _lines(path: Path) -> list[dict]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.splitlines()]  # every line whole


@pytest.fixture
def stopped_run(tmp_path, tiny_config) -> Path:
    control = Control()
    stop_at_2 = lambda e: control.stop() if e.kind == "step" and e.step == 2 else None  # noqa: E731
    finished = Trainer(apply_overrides(tiny_config, ["train.epochs=2"]), [stop_at_2], control,
                       runs_root=tmp_path).fit()
    return Path(finished.run_dir)


def test_a_torn_last_line_is_moved_aside_and_reported_and_no_record_is_glued_to_it(stopped_run):
    metrics = stopped_run / "metrics.jsonl"
    torn = b'{"kind": "step", "step": 3, "epoch": 0, "lo'
    with open(metrics, "ab") as f:  # a crash in the middle of a record
        f.write(torn)
    messages = []
    finished = Trainer.resume(stopped_run, [lambda e: messages.append(getattr(e, "message", ""))]).fit()
    assert finished.status == "completed"
    assert any("its last record was cut off (43 bytes" in m and "metrics.jsonl.torn" in m for m in messages)
    assert (stopped_run / "metrics.jsonl.torn").read_bytes() == torn + b"\n"
    records = _lines(metrics)
    assert [r["step"] for r in records if r["kind"] == "step"] == [1, 2, 3, 4, 5, 6]


class _FullDisk:
    """os.write that writes ``room`` more bytes in all, in short writes, then fails with ENOSPC."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.real = os.write

    def __call__(self, fd: int, data) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), self.room, 7)
        self.room -= n
        return self.real(fd, bytes(data[:n]))


def test_a_short_write_on_a_full_disk_leaves_no_partial_record(tmp_path, monkeypatch):
    log = MetricsLog(tmp_path / "metrics.jsonl")
    log.append({"kind": "step", "step": 1, "loss": 1.0})
    monkeypatch.setattr(os, "write", _FullDisk(room=20))
    with pytest.raises(OSError, match=r"metrics\.jsonl: disk full — free some space"):
        log.append({"kind": "step", "step": 2, "loss": 0.5, "metrics": {"x": 1.0}})
    monkeypatch.undo()
    log.append({"kind": "step", "step": 3, "loss": 0.25})
    log.close()
    assert [r["step"] for r in _lines(tmp_path / "metrics.jsonl")] == [1, 3]


def test_a_run_on_a_full_disk_keeps_every_record_whole_and_resumes_without_losing_one(small_disk, tiny_config):
    disk = small_disk("2m")
    cfg = apply_overrides(tiny_config, ["train.epochs=4"])
    run = Path(Trainer(apply_overrides(cfg, ["train.epochs=1"]), runs_root=disk / "runs").fit().run_dir)
    checkpoint = run / "checkpoints" / "last.pt"
    size = checkpoint.stat().st_size
    (run / "metrics.jsonl").unlink()
    checkpoint.unlink()
    # room for the records and one checkpoint, not for the second beside it (a checkpoint is replaced atomically)
    filler = fill(disk, leave=int(1.5 * size) + 20_000)
    finished = Trainer(cfg, run_dir=run).fit()
    assert finished.status == "failed" and finished.reason == "disk full" and finished.step == 6
    assert f"{checkpoint}: disk full — free some space" in finished.message
    assert "The last checkpoint (step 3) is kept" in finished.message
    _lines(run / "metrics.jsonl")
    assert read_run(run).status == "failed: disk full"
    filler.unlink()
    resumed = Trainer(cfg, run_dir=run).fit()
    assert resumed.status == "completed"
    steps = [r["step"] for r in read_metrics(run) if r["kind"] == "step"]
    assert steps == list(range(1, 13))  # none lost, none twice


# -- readers ---------------------------------------------------------------------------------------


def test_odd_records_are_skipped_and_reported_and_every_run_is_still_listed(stopped_run, capsys):
    other = stopped_run.parent / "20200101-000000-simclr-odd"
    other.mkdir()
    (other / "metrics.jsonl").write_text(
        '{"kind": "step", "step": [1], "epoch": 0, "loss": 2.0}\n'
        '{"kind": "epoch", "epoch": 1, "step": 3, "knn_accuracy": "high"}\n'
        '{"kind": "step", "step": 4, "epoch": 1, "loss": 1.5}\n'
        '"just a string"\n')
    assert [r["step"] for r in read_metrics(other)] == [4]
    runs = {r.name: r for r in list_runs(stopped_run.parent)}
    assert runs[other.name].step == 4 and runs[other.name].knn_accuracy is None
    assert ("metrics.jsonl: skipped 3 unusable record(s) (line 1: step is [1], not a whole number; "
            "line 2: knn_accuracy is 'high', not a number; line 4: not a record (str))") in runs[other.name].problems
    assert main(["runs", "--runs-dir", str(stopped_run.parent)]) == 0
    printed = capsys.readouterr()
    assert stopped_run.name in printed.out and other.name in printed.out
    assert f"note: {other.name}: metrics.jsonl: skipped 3 unusable record(s)" in printed.err


def test_the_run_list_reads_only_the_end_of_a_huge_metrics_file(stopped_run):
    metrics = stopped_run / "metrics.jsonl"
    tail = metrics.read_bytes()
    with open(metrics, "r+b") as f:  # 1 GB of old records (a hole, here), then the real tail
        f.truncate(1 << 30)
        f.seek(0, os.SEEK_END)
        f.write(b"\n" + tail)
    tracemalloc.start()
    info = read_run(stopped_run)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert info.step == 2 and info.status == "stopped"
    assert peak < 32 << 20

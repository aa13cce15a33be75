"""Issue #15, defect 5: a full disk, a read-only folder or a file where a folder should be ends in
one line naming the path and what to do — never a traceback — and the run's status says why."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from labbench.atomic import atomic_write_text
from labbench.cli import main
from labbench.engine import Trainer
from labbench.engine.checkpoint import save_checkpoint
from labbench.runs import read_run

from tests.reliability.conftest import TINY_SETS, remount_read_only


def test_a_checkpoint_on_a_full_disk_names_the_file_and_keeps_the_previous_one(small_disk):
    import torch

    disk = small_disk("1m")
    path = disk / "last.pt"
    save_checkpoint(path, {"step": 1, "weights": torch.zeros(1000)})
    with pytest.raises(OSError) as raised:
        save_checkpoint(path, {"step": 2, "weights": torch.zeros(1 << 20)})  # 4 MB on a 1 MB disk
    assert str(raised.value).startswith(f"{path}: disk full — free some space")
    assert "unexpected pos" not in str(raised.value)
    assert torch.load(path, weights_only=True)["step"] == 1
    assert [p.name for p in disk.iterdir()] == ["last.pt"]  # no temporary file left


def test_training_into_a_read_only_folder_fails_with_one_line(small_disk, capsys):
    disk = small_disk("4m")
    assert main(["train", "--runs-dir", str(disk / "runs"), *TINY_SETS]) == 0
    (run,) = (disk / "runs").iterdir()
    remount_read_only(disk)
    assert main(["train", "--resume", str(run), "--set", "train.epochs=2"]) == 1
    err = capsys.readouterr().err
    assert f"{run / '.lock'}: read-only file system — choose a folder you can write to" in err
    assert "Traceback" not in err and "Errno" not in err
    assert read_run(run).status == "completed"  # the failed resume did not mark the good run failed


def test_runs_dir_that_is_a_file_is_a_clear_message(tmp_path, capsys):
    (tmp_path / "runs").write_text("not a folder")
    assert main(["train", "--runs-dir", str(tmp_path / "runs"), *TINY_SETS]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'runs'}: not a folder" in err and "Traceback" not in err


def test_export_out_that_is_a_file_is_a_clear_message(tmp_path, tiny_config, capsys):
    run = Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir
    (tmp_path / "out").write_text("not a folder")
    assert main(["export", run, "--formats", "pt", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'out'}: not a folder" in err and "Traceback" not in err


def test_a_failed_resume_leaves_a_completed_run_completed(tmp_path, tiny_config):
    run = Path(Trainer(tiny_config, runs_root=tmp_path).fit().run_dir)
    checkpoint = run / "checkpoints" / "last.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])  # damaged
    metrics = (run / "metrics.jsonl").read_bytes()
    finished = Trainer.resume(run).fit()
    assert finished.status == "failed" and "truncated or corrupt" in finished.message
    assert (run / "metrics.jsonl").read_bytes() == metrics
    assert read_run(run).status == "completed"


def test_files_get_the_users_umask_not_0600(tmp_path, tiny_config):
    old = os.umask(0o022)
    try:
        run = Path(Trainer(tiny_config, runs_root=tmp_path).fit().run_dir)
        written = atomic_write_text(tmp_path / "note.txt", "x")
        os.umask(0o077)
        private = atomic_write_text(tmp_path / "private.txt", "x")
    finally:
        os.umask(old)
    for path in (run / "config.toml", run / "metrics.jsonl", run / "checkpoints" / "last.pt", written):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert stat.S_IMODE(private.stat().st_mode) == 0o600

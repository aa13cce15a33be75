"""The runs the window knows: found on disk, re-read only when a run's files change, opened ones kept."""

from __future__ import annotations

import shutil

from labbench.runs import read_run
from ui.runs_model import RunsModel


def test_runs_are_listed_newest_first_and_followed_as_they_change(qtbot, tmp_path, simclr_run, mae_run):
    root = tmp_path / "runs"
    root.mkdir()
    model = RunsModel(root, poll_ms=50)
    assert model.infos() == []
    copy = shutil.copytree(simclr_run, root / simclr_run.name)
    with qtbot.waitSignal(model.changed, timeout=10000):
        pass
    assert model.paths() == [str(copy)] and model.info(copy).status == "completed"
    (copy / "metrics.jsonl").write_text("")  # its files change: it is read again
    qtbot.waitUntil(lambda: model.info(copy).status == read_run(copy).status != "completed", timeout=10000)


def test_a_run_opened_from_elsewhere_stays_listed_and_the_live_one_says_training(qtbot, tmp_path, mae_run):
    model = RunsModel(tmp_path / "empty", poll_ms=50)
    model.add(mae_run)
    qtbot.wait(200)  # several looks at the (empty) runs folder later
    assert model.paths() == [str(mae_run)]
    model.set_live(mae_run)
    assert model.info(mae_run).status == "training"
    model.set_live(None)
    assert model.info(mae_run).status == "completed"


def test_a_rescan_reads_the_folders_at_once(qtbot, tmp_path, simclr_run):
    root = tmp_path / "runs"
    root.mkdir()
    model = RunsModel(root, poll_ms=60_000)
    copy = shutil.copytree(simclr_run, root / simclr_run.name)
    model.rescan()
    assert model.paths() == [str(copy)]

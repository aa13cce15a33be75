"""Running a study: ordinary run folders, results.jsonl, resume after a stop or a kill, failures reported."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labbench.engine import Control
from labbench.runs import read_metrics, read_run
from labbench.studies import StudyRunner, create_study_folder, judge, load_study, read_results, summarize
from labbench.studies.measures import measure_run
from labbench.studies.spec import study_from_text
from labbench.studies.table import format_text
from tests.studies.conftest import TINY_BASE, TWO_BY_TWO, write_study

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    """The 2 × 2 tiny study, run to the end: (folder, events)."""
    tmp = tmp_path_factory.mktemp("study")
    folder = create_study_folder(load_study(write_study(tmp)), tmp / "studies")
    events = []
    StudyRunner(folder, [events.append]).run()
    return folder, events


def test_every_run_is_an_ordinary_run_folder(finished_study):
    folder, _ = finished_study
    runs = sorted((folder / "runs").iterdir())
    assert [r.name for r in runs] == ["01-tau=0.1-head=mlp-s0", "02-tau=0.1-head=none-s0",
                                      "03-tau=0.5-head=mlp-s0", "04-tau=0.5-head=none-s0"]
    for run in runs:
        info = read_run(run)
        assert info.status == "completed" and info.has_checkpoint and info.method == "simclr"
        assert (run / "eval.json").is_file()  # the Evaluation view shows the study's figures


def test_results_hold_one_measured_record_per_run(finished_study):
    folder, _ = finished_study
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert [r["key"] for r in lines] == ["tau=0.1/head=mlp#s0", "tau=0.1/head=none#s0",
                                         "tau=0.5/head=mlp#s0", "tau=0.5/head=none#s0"]
    for record in lines:
        assert record["status"] == "completed" and record["steps"] == 3 and record["test_images"] == 24
        assert 1 / 10 <= record["chance"] < 1  # the most frequent of ten classes' share: what the verdict must beat
        assert set(record["values"]) == {"knn", "linear_z"} and 0 <= record["values"]["knn"] <= 1
        assert (folder / record["run_dir"]).is_dir()


def test_the_events_tell_each_run_and_the_end(finished_study):
    _, events = finished_study
    study_events = [e for e in events if e.kind.startswith("study")]
    assert [e.kind for e in study_events] == ["study_run", "study_result"] * 4 + ["study_finished"]
    assert study_events[-1].status == "completed" and study_events[-1].failed == []
    assert sum(e.kind == "step" for e in events) == 12  # the runs' own training events come through


def test_the_table_has_a_row_per_cell_and_the_verdict(finished_study):
    folder, _ = finished_study
    study = load_study(folder / "study.toml")
    cells = summarize(study, read_results(folder))
    text = format_text(study, cells, judge(study, cells))
    assert "claim: a warmer temperature helps" in text and "lecture: made up for the test" in text
    rows = [line.split() for line in text.splitlines() if line.startswith(("0.1 ", "0.5 "))]
    assert [r[:2] for r in rows] == [["0.1", "mlp"], ["0.1", "none"], ["0.5", "mlp"], ["0.5", "none"]]
    assert all(r[-1] == "1/1" for r in rows) and "verdict: " in text


def test_a_stopped_study_resumes_its_interrupted_run_from_the_checkpoint(tmp_path):
    study = load_study(write_study(tmp_path, TWO_BY_TWO.replace("epochs = 1", "epochs = 2")))
    folder = create_study_folder(study, tmp_path / "studies")
    control, started = Control(), []

    def stop_in_the_second_run(event):
        started.extend([event.index] if event.kind == "study_run" else [])
        if event.kind == "checkpoint" and started == [0, 1]:
            control.stop()  # after its first epoch's checkpoint

    assert StudyRunner(folder, [stop_in_the_second_run], control).run().status == "stopped"
    assert list(read_results(folder)) == ["tau=0.1/head=mlp#s0"]
    events = []
    assert StudyRunner(folder, [events.append]).run().status == "completed"
    how = [(e.index, e.how) for e in events if e.kind == "study_run"]
    assert how == [(1, "resumed"), (2, "new"), (3, "new")]
    second = folder / "runs" / "02-tau=0.1-head=none-s0"
    steps = [r["step"] for r in read_metrics(second) if r["kind"] == "step"]
    assert steps == [1, 2, 3, 4, 5, 6]  # stopped after 3, went on from 4: nothing trained twice
    assert all(r.status == "completed" and r.steps == 6 for r in read_results(folder).values())


@pytest.mark.slow
def test_a_killed_study_resumes_without_training_its_finished_runs_again(tmp_path):
    file = write_study(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "labbench", "study", "run", str(file), "--studies-dir",
                             str(tmp_path / "studies")], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not list(tmp_path.glob("studies/*/results.jsonl")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the study ended before it could be killed"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (folder,) = (tmp_path / "studies").iterdir()
    assert 1 <= len(read_results(folder)) < 4
    assert StudyRunner(folder).run().status == "completed"
    results = read_results(folder)
    assert len(results) == 4 and all(r.status == "completed" for r in results.values())
    first = folder / "runs" / "01-tau=0.1-head=mlp-s0"
    assert sum(r["kind"] == "finished" for r in read_metrics(first)) == 1  # trained once


FAILING = f"""
title = "one run cannot start"
measures = ["knn"]
budget = {{ epochs = 1 }}
{TINY_BASE}
[[axes]]
name = "batch"
[[axes.variants]]
name = "fits"
[[axes.variants]]
name = "too big"
set = {{ "train.batch_size" = 512 }}
[[axes.variants]]
name = "after it"
set = {{ "method.temperature" = 0.5 }}
[[expect]]
higher = {{ batch = "fits" }}
than = {{ batch = "too big" }}
"""


def test_a_failing_run_is_recorded_with_its_reason_and_the_study_goes_on(tmp_path):
    folder = create_study_folder(study_from_text(FAILING, "failing.toml"), tmp_path)
    finished = StudyRunner(folder).run()
    assert finished.status == "completed"
    assert len(finished.failed) == 1 and finished.failed[0].startswith("too big (seed 0): train.batch_size: 512")
    results = read_results(folder)
    assert [r.status for r in results.values()] == ["completed", "failed", "completed"]
    study = load_study(folder / "study.toml")
    cells = summarize(study, results)
    verdict = judge(study, cells)
    assert verdict.word == "too short to tell" and "too big: train.batch_size: 512" in verdict.reason
    assert "failed: too big (seed 0): train.batch_size" in format_text(study, cells, verdict)


UNTRAINED = f"""
title = "random init beside a trained run"
measures = ["knn"]
budget = {{ epochs = 1 }}
{TINY_BASE}
[[axes]]
name = "method"
[[axes.variants]]
name = "random init"
untrained = true
[[axes.variants]]
name = "SimCLR"
"""


def test_an_untrained_variant_is_scored_at_its_initialisation(tmp_path):
    folder = create_study_folder(study_from_text(UNTRAINED, "untrained.toml"), tmp_path)
    StudyRunner(folder).run()
    untrained, trained = read_results(folder).values()
    assert untrained.status == "completed" and untrained.steps == 0 and "knn" in untrained.values
    assert trained.steps == 3
    info = read_run(folder / untrained.run_dir)
    assert info.status == "completed" and info.has_checkpoint  # opens in the other views like any run


def test_dinos_teacher_entropy_is_read_as_a_share_of_log_k(dino_run):
    measured = measure_run(dino_run, ["teacher_entropy"])
    last = [r for r in read_metrics(dino_run) if r["kind"] == "step"][-1]["metrics"]["teacher_entropy"]
    assert measured.values["teacher_entropy"] == pytest.approx(last / math.log(64))


@pytest.mark.slow
def test_under_torchrun_the_processes_train_each_run_together_and_rank_0_writes(tmp_path):
    from tests.engine.test_distributed import torchrun

    text = TWO_BY_TWO.replace('values = ["mlp", "none"]', 'values = ["mlp"]').replace('"train.num_threads" = 1\n', "")
    done = torchrun(["-m", "labbench", "study", "run", str(write_study(tmp_path, text)),
                     "--studies-dir", str(tmp_path / "studies")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (folder,) = (tmp_path / "studies").iterdir()  # one folder: every process got rank 0's
    results = read_results(folder)
    assert len(results) == 2 and all(r.status == "completed" and r.values for r in results.values())
    assert len((folder / "results.jsonl").read_text().splitlines()) == 2  # rank 0 alone appended
    assert done.stderr.count("2 processes") == 2  # both runs trained by both processes

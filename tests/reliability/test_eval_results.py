"""Issue #15, defect 6: evaluation results are kept per data set — evaluating on other data neither
replaces the run's earlier scores nor merges scores from two folders into one row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labbench.cli import main
from labbench.engine import Trainer
from labbench.scoring import evaluate_run, results_table

from tests.reliability.conftest import image_folder


@pytest.fixture
def run(tmp_path, tiny_config) -> Path:
    return Path(Trainer(tiny_config, runs_root=tmp_path / "runs").fit().run_dir)


def test_evaluating_on_other_data_keeps_the_earlier_scores(run, tmp_path, capsys):
    own = evaluate_run(run, ["knn"], device="cpu", baselines=False)
    other = image_folder(tmp_path / "other", per_class=20)
    assert main(["eval", str(run), "--data", str(other), "--protocols", "knn", "--no-baselines", "--device", "cpu"]) == 0
    table = capsys.readouterr().out
    saved = json.loads((run / "eval.json").read_text())["results"]
    assert [r["dataset"] for r in saved] == ["shapes", "other"]
    assert saved[0]["scores"] == own.scores
    assert " shapes " in table and " other " in table


def test_two_folders_are_two_rows_never_merged(run, tmp_path):
    first = image_folder(tmp_path / "a" / "images", per_class=20)
    second = image_folder(tmp_path / "b" / "images", per_class=20, shade=40)
    knn = evaluate_run(run, ["knn"], data=str(first), device="cpu", baselines=False)
    linear = evaluate_run(run, ["linear"], data=str(second), device="cpu", baselines=False)
    rows = results_table([run], include_baselines=False)
    assert [(r.knn, r.linear) for r in rows] == [(knn.scores["knn"], None), (None, linear.scores["linear"])]

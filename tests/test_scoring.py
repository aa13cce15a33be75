"""evaluate_run on real tiny runs: scores, baselines, eval.json, the MAE caveat, the cross-run table."""

import json

import pytest
import torch

from labbench.errors import ConfigError
from labbench.scoring import EVAL_NAME, chance_level, evaluate_run, format_table, read_eval, results_table


def test_evaluate_run_scores_every_protocol_and_both_baselines(simclr_run):
    seen = []
    result = evaluate_run(simclr_run, finetune_epochs=1, device="cpu", progress=lambda d, t: seen.append(d / t))
    assert set(result.scores) == {"knn", "linear", "finetune"}
    assert set(result.baselines) == {"random_init", "pixels"}
    for score in [*result.scores.values(), *(s for b in result.baselines.values() for s in b.values())]:
        assert 0.0 <= score <= 1.0
    assert (result.method, result.backbone, result.epochs) == ("simclr", "cnn", 2)
    assert result.caveat is None and seen == sorted(seen) and seen[-1] == 1.0
    saved = json.loads((simclr_run / EVAL_NAME).read_text())
    assert [r["scores"] for r in saved["results"]] == [result.scores] and read_eval(simclr_run).scores == result.scores


def test_a_later_partial_evaluation_keeps_the_earlier_scores(simclr_run):
    first = evaluate_run(simclr_run, ("knn", "linear"), device="cpu", baselines=False)
    later = evaluate_run(simclr_run, ("knn",), device="cpu", baselines=False)
    assert later.scores["linear"] == first.scores["linear"]


def test_mae_is_flagged_and_read_by_linear_probe_and_fine_tune_first(mae_run):
    result = evaluate_run(mae_run, ("knn",), device="cpu", baselines=False, save=False)
    assert "k-NN is a poor score for MAE" in result.caveat and "81.3" in result.caveat
    assert result.lead[:2] == ("finetune", "linear")


def test_results_table_lists_runs_then_baselines_and_footnotes_the_caveat(simclr_run, mae_run):
    evaluate_run(simclr_run, ("knn", "linear"), device="cpu")
    evaluate_run(mae_run, ("knn",), device="cpu", baselines=False)
    rows = results_table([simclr_run, mae_run])
    assert [r.method for r in rows] == ["simclr", "mae", "baseline", "baseline"]
    text = format_table(rows)
    assert text.splitlines()[0].split()[:5] == ["run", "method", "backbone", "data", "epochs"]
    mae_line = next(line for line in text.splitlines() if " mae " in line)
    assert ")*" in mae_line and text.splitlines()[-1].startswith("* k-NN is a poor score for MAE")


def test_unknown_protocol_is_a_config_error(simclr_run):
    with pytest.raises(ConfigError, match="protocols: choose from knn, linear, finetune"):
        evaluate_run(simclr_run, ("knn", "svm"))


def test_cancel_stops_the_evaluation_without_writing(simclr_run, tmp_path):
    before = (simclr_run / EVAL_NAME).read_bytes() if (simclr_run / EVAL_NAME).exists() else None
    with pytest.raises(InterruptedError):
        evaluate_run(simclr_run, ("knn",), device="cpu", progress=lambda d, t: False)
    after = (simclr_run / EVAL_NAME).read_bytes() if (simclr_run / EVAL_NAME).exists() else None
    assert before == after


def test_chance_is_the_most_frequent_class_share():
    assert chance_level(torch.tensor([0, 0, 1, 2])) == 0.5
    assert chance_level(torch.arange(10)) == 0.1
    assert chance_level(None) is None and chance_level(torch.tensor([], dtype=torch.long)) is None

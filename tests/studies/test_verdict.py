"""The verdict: holds / does not hold here / too short to tell, against the noise of seeds and test sets."""

from labbench.studies import RunResult, judge, summarize
from labbench.studies.spec import study_from_text
from labbench.studies.verdict import FAILS, HOLDS, PENDING, UNCLEAR

STUDY = """
title = "t"
seeds = [0, 1]
[[axes]]
name = "tau"
key = "method.temperature"
values = [0.1, 0.2, 1.0]
[[expect]]
best = [{ tau = 0.1 }, { tau = 0.2 }]
[[expect]]
higher = { tau = 0.2 }
than = { tau = 1.0 }
"""


def _verdict(knn: dict[float, list[float]], text: str = STUDY, status: dict[float, str] | None = None,
             reference: float | None = None, chance: float | None = None):
    study = study_from_text(text, "t.toml")
    results = {}
    for tau, values in knn.items():
        for seed, value in enumerate(values):
            key = study.run_key(study.cell_of({"tau": tau})[0], seed)
            state = (status or {}).get(tau, "completed")
            results[key] = RunResult(key, f"tau = {tau}", seed, "runs/x", state, "boom" if state == "failed" else "",
                                     {} if state != "completed" else {"knn": value}, test_images=1000,
                                     chance=chance, reference={} if reference is None else {"untrained_knn": reference})
    return judge(study, summarize(study, results))


def test_clear_differences_in_the_predicted_direction_hold():
    verdict = _verdict({0.1: [0.50, 0.52], 0.2: [0.60, 0.61], 1.0: [0.30, 0.31]})
    assert verdict.word == HOLDS and all(c.outcome == "agrees" for c in verdict.checks)
    assert "best of tau = 0.1 / tau = 0.2: tau = 0.2 60.5 %" in verdict.reason


def test_a_clear_difference_against_the_claim_does_not_hold():
    verdict = _verdict({0.1: [0.30, 0.31], 0.2: [0.32, 0.33], 1.0: [0.60, 0.61]})
    assert verdict.word == FAILS and "best of the rest: tau = 1 60.5 %: -28.0 points" in verdict.reason


def test_differences_inside_the_seed_noise_are_too_short_to_tell():
    verdict = _verdict({0.1: [0.40, 0.50], 0.2: [0.46, 0.44], 1.0: [0.38, 0.48]})
    assert verdict.word == UNCLEAR and "inside the noise" in verdict.reason


def test_one_seed_uses_the_test_set_size_as_the_noise_floor():
    one_seed = STUDY.replace("seeds = [0, 1]", "seeds = [0]")
    # 2 points apart on 1000 test images: inside twice the binomial error (±3.1 points)
    assert _verdict({0.1: [0.50], 0.2: [0.52], 1.0: [0.50]}, one_seed).word == UNCLEAR
    assert _verdict({0.1: [0.50], 0.2: [0.60], 1.0: [0.40]}, one_seed).word == HOLDS


def test_a_diverged_run_loses_its_comparisons():
    verdict = _verdict({0.1: [0.5, 0.5], 0.2: [0.6, 0.6], 1.0: [0, 0]}, status={1.0: "diverged"})
    assert verdict.word == HOLDS and "tau = 1 diverged" in verdict.reason


def test_runs_still_to_come_make_no_verdict_yet():
    verdict = _verdict({0.1: [0.5, 0.5], 0.2: [0.6]})
    assert verdict.word == PENDING and verdict.reason == "3 of 6 runs measured"


def test_a_failed_run_leaves_the_claim_untold_and_says_why():
    verdict = _verdict({0.1: [0.5, 0.5], 0.2: [0.6, 0.6], 1.0: [0, 0]}, status={1.0: "failed"})
    assert verdict.word == UNCLEAR and verdict.reason == "runs failed — tau = 1: boom"


def test_nothing_learned_means_nothing_to_compare():
    knn = {0.1: [0.50, 0.52], 0.2: [0.60, 0.61], 1.0: [0.30, 0.31]}
    verdict = _verdict(knn, STUDY.replace('title = "t"', 'title = "t"\nmeasures = ["knn"]'), reference=0.62)
    assert verdict.word == UNCLEAR and "untrained encoder" in verdict.reason
    assert _verdict(knn, reference=0.40).word == HOLDS


def test_a_side_that_should_win_at_chance_is_no_evidence_against_the_claim():
    # τ 0.2 "should beat" τ 1.0 but sits at chance (10 % on a balanced 10-class test set): its run learned nothing
    at_chance = {0.1: [0.50, 0.52], 0.2: [0.10, 0.11], 1.0: [0.30, 0.31]}
    verdict = _verdict(at_chance, chance=0.10)
    assert verdict.word == UNCLEAR and "tau = 0.2 is at chance (10%)" in verdict.reason
    assert _verdict(at_chance).word == FAILS  # without the chance level known, it reads as a contradiction
    # the side that should lose may sit at chance: that is evidence for the claim
    assert _verdict({0.1: [0.50, 0.52], 0.2: [0.60, 0.61], 1.0: [0.10, 0.10]}, chance=0.10).word == HOLDS


def test_a_study_without_expectations_has_no_verdict():
    text = STUDY.split("[[expect]]")[0]
    assert _verdict({0.1: [0.5, 0.5], 0.2: [0.6, 0.6], 1.0: [0.3, 0.3]}, text).word is None

"""Study files: what they may say, and a clear message naming the file and the field when they are wrong."""

import pytest

from labbench.errors import ConfigError
from labbench.studies import load_study, plan_study, study_names
from labbench.studies.spec import study_from_text
from tests.studies.conftest import TINY_BASE, TWO_BY_TWO, write_study

ONE_AXIS = """
title = "t"
[[axes]]
key = "method.temperature"
values = [0.1, 0.2]
"""


def _error(text: str, tmp_path) -> str:
    with pytest.raises(ConfigError) as err:
        study = load_study(write_study(tmp_path, text, "bad"))
        plan_study(study, "bad.toml")
    return str(err.value)


def test_an_unknown_config_key_in_an_axis_names_the_file_the_axis_and_the_key(tmp_path):
    message = _error(TWO_BY_TWO.replace('key = "method.head"', 'key = "method.haed"'), tmp_path)
    assert "bad" in message and "axes.1" in message and "method.haed" in message and "unknown key" in message


def test_a_bad_value_names_the_field_and_the_allowed_range(tmp_path):
    message = _error(ONE_AXIS.replace("[0.1, 0.2]", "[0.1, -1.0]"), tmp_path)
    assert "bad.toml: axes.0 (-1)" in message and "method.temperature" in message and "greater than 0" in message


def test_an_unknown_study_key_names_it(tmp_path):
    message = _error('measure = "knn"\n' + ONE_AXIS, tmp_path)
    assert "bad.toml: measure: unknown key" in message


def test_an_unknown_measure_lists_the_known_ones(tmp_path):
    message = _error('measures = ["accuracy"]\n' + ONE_AXIS, tmp_path)
    assert "measures: unknown accuracy" in message and "knn" in message and "linear_z" in message


def test_an_expectation_naming_a_value_off_the_axis_says_which(tmp_path):
    text = ONE_AXIS + '[[expect]]\nhigher = { temperature = 0.3 }\nthan = { temperature = 0.1 }\n'
    message = _error(text, tmp_path)
    assert "expect.0.higher.temperature: 0.3 is not on the axis (0.1, 0.2)" in message


def test_an_expectation_naming_no_axis_says_which_axes_there_are(tmp_path):
    message = _error(ONE_AXIS + '[[expect]]\nbest = [{ tau = 0.1 }]\n', tmp_path)
    assert "no axis called 'tau'" in message and "'temperature'" in message


def test_a_variant_preset_that_does_not_exist_names_the_cell(tmp_path):
    text = 'title = "t"\n[[axes]]\nname = "m"\n[[axes.variants]]\nname = "x"\npreset = "simclr_v9"\n'
    message = _error(text, tmp_path)
    assert "x: preset 'simclr_v9' not found" in message


def test_a_probe_on_z_needs_a_method_with_a_head(tmp_path):
    text = ('title = "t"\nmeasures = ["linear_z"]\n[base]\npreset = "rotation"\n'
            '[[axes]]\nkey = "method.head_layers"\nvalues = [1, 2]\n')
    message = _error(text, tmp_path)
    assert "linear_z" in message and "rotation has none" in message


def test_unordered_pairs_need_the_same_variants_on_both_axes(tmp_path):
    text = ('title = "t"\npairs = "unordered"\n[[axes]]\nname = "a"\nvariants = [{ name = "x" }, { name = "y" }]\n'
            '[[axes]]\nname = "b"\nvariants = [{ name = "x" }]\n')
    assert "pairs: 'unordered' needs two axes listing the same variants" in _error(text, tmp_path)


def test_a_bad_toml_file_names_the_file(tmp_path):
    assert "bad.toml: not a valid TOML file" in _error("title = \n", tmp_path)


def test_unordered_pairs_plan_each_pair_once_and_each_variant_alone():
    text = ('title = "t"\npairs = "unordered"\n' + TINY_BASE
            + "".join(f'[[axes]]\nname = "{a}"\nvariants = [{{ name = "crop" }}, {{ name = "colour" }}, {{ name = "blur" }}]\n'
                      for a in ("first", "second")))
    study = study_from_text(text, "pairs.toml")
    assert [run.label for run in plan_study(study)] == [
        "crop alone", "crop + colour", "crop + blur", "colour alone", "colour + blur", "blur alone"]
    assert study.cell_of({"first": "blur", "second": "crop"})[0] == study.cell_of({"first": "crop", "second": "blur"})[0]


def test_settings_apply_preset_budget_base_axes_seed_in_that_order(tmp_path):
    text = TWO_BY_TWO.replace('"train.batch_size" = 32', '"train.batch_size" = 32\n"method.temperature" = 0.9')
    study = study_from_text(text, "order.toml").with_changes(seeds=[3, 4])
    runs = plan_study(study)
    assert len(runs) == 8 and [r.seed for r in runs[:2]] == [3, 4]
    assert runs[0].config.method.temperature == 0.1  # the axis wins over the base
    assert runs[0].config.train.epochs == 1 and runs[0].config.train.seed == 3
    assert runs[0].config.data.image_size == 16 and runs[0].config.optim.name == "sgd"  # base over preset
    assert runs[3].config.method.head == "none"
    assert len({r.folder for r in runs}) == 8 and runs[0].key == "tau=0.1/head=mlp#s3"


def test_a_variant_preset_switches_the_method_and_keeps_the_base_settings():
    study = load_study("negatives")
    runs = {r.label: r.config for r in plan_study(study)}
    assert runs["SimCLR, batch 64"].method.name == "simclr" and runs["SimCLR, batch 64"].train.batch_size == 64
    moco = runs["MoCo, K 1024"]
    assert moco.method.name == "moco" and moco.method.queue_size == 1024 and moco.train.time_budget_s == 90


@pytest.mark.parametrize("name", study_names())
def test_every_catalogue_study_states_its_claim_and_plans_valid_runs(name):
    study = load_study(name)
    assert study.claim and study.figure and study.source and study.expect
    runs = plan_study(study)
    assert len(runs) == study.runs_count() and all(r.config.train.time_budget_s == study.budget.seconds for r in runs)


def test_the_catalogue_holds_the_nine_studies_of_the_lecture():
    assert len(study_names()) == 9

"""Config: paper defaults, presets, overrides and errors that name the field."""

import pytest

from labbench.config import BackboneConfig
from labbench.errors import ConfigError
from labbench.run_config import (
    RunConfig,
    apply_overrides,
    dump_toml,
    load_config,
    load_preset,
    preset_names,
    validate_config,
)


def test_defaults_are_simclr_paper_values():
    cfg = RunConfig()
    assert cfg.method.name == "simclr"
    assert cfg.method.temperature == 0.1
    assert cfg.augment.crop_scale == (0.08, 1.0)
    assert cfg.augment.blur_p == 0.5 and cfg.augment.jitter_p == 0.8 and cfg.augment.grayscale_p == 0.2
    assert cfg.optim.name == "lars" and cfg.optim.lr == 0.3 and cfg.optim.weight_decay == 1e-6
    assert cfg.eval.knn_k == 20 and cfg.eval.knn_temperature == 0.07


def test_every_preset_loads():
    assert "simclr" in preset_names()
    for name in preset_names():
        assert load_preset(name).method.name


def test_override_parses_values_and_validates_against_the_method():
    cfg = apply_overrides(load_preset("simclr"), ["method.temperature=0.3", "train.batch_size=64", "name=my run"])
    assert cfg.method.temperature == 0.3 and cfg.train.batch_size == 64 and cfg.name == "my run"


def test_out_of_range_value_names_the_field_and_range():
    with pytest.raises(ConfigError, match=r"method\.temperature: .*greater than 0"):
        apply_overrides(RunConfig(), ["method.temperature=-1"])
    with pytest.raises(ConfigError, match=r"train\.batch_size"):
        apply_overrides(RunConfig(), ["train.batch_size=1"])


def test_unknown_key_and_unknown_method_are_clear_errors():
    with pytest.raises(ConfigError, match=r"method\.temprature: unknown key"):
        apply_overrides(RunConfig(), ["method.temprature=0.3"])
    with pytest.raises(ConfigError, match=r"method.name: unknown method 'simclear'.*simclr"):
        validate_config({"method": {"name": "simclear"}})


def test_wrong_type_names_the_field():
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        validate_config({"train": {"epochs": "many"}})


def test_toml_round_trip(tmp_path):
    cfg = apply_overrides(load_preset("simclr"), ["method.temperature=0.25", "augment.crop_scale=[0.3, 1.0]"])
    path = tmp_path / "run.toml"
    path.write_text(dump_toml(cfg))
    assert load_config(path) == cfg


def test_exported_config_of_another_method_loads_over_the_default_preset(tmp_path):
    dino = apply_overrides(load_preset("dino"), ["method.local_crops_number=2"])
    path = tmp_path / "dino.toml"
    path.write_text(dump_toml(dino))
    assert load_config(path, base=load_preset("simclr")) == dino


def test_not_toml_file_is_a_clear_error(tmp_path):
    path = tmp_path / "preset.toml"
    path.write_text("this is [not toml")
    with pytest.raises(ConfigError, match="not a valid TOML file"):
        load_config(path)


def test_crop_scale_must_be_ordered():
    with pytest.raises(ConfigError, match="crop_scale"):
        validate_config({"augment": {"crop_scale": [0.9, 0.2]}})


def test_input_sides_must_be_a_multiple_of_a_vits_patch_and_of_nothing_for_a_cnn():
    assert BackboneConfig(name="vit_tiny", patch_size=8).side_multiple == 8
    assert BackboneConfig(name="resnet18", patch_size=8).side_multiple == 1


@pytest.mark.parametrize(("data", "location"), [
    ({"method": {"name": "dino", "teacher_temp": -0.5}}, "method.teacher_temp"),      # a field of a method
    ({"augment": {"crop_scale": [0.9, 0.1]}}, "augment.crop_scale"),                  # a rule across fields
    ({"method": {"name": "mae", "decoder_width": 30}}, "method.decoder_heads"),        # a method's own rule
    ({"method": {"name": "simclear"}}, "method.name"),
    ({"trian": {}}, "trian"),
])
def test_config_errors_carry_the_location_of_each_problem(data, location):
    with pytest.raises(ConfigError) as caught:
        validate_config(data)
    assert [where for where, _ in caught.value.problems] == [location]
    assert str(caught.value).startswith(f"{location}: ")  # the line the CLI prints


def test_several_problems_are_one_pair_and_one_line_each():
    with pytest.raises(ConfigError) as caught:
        validate_config({"optim": {"lr": -1}, "train": {"epochs": 0}})
    problems = dict(caught.value.problems)
    assert set(problems) == {"optim.lr", "train.epochs"}
    assert str(caught.value).splitlines() == [f"{where}: {what}" for where, what in caught.value.problems]

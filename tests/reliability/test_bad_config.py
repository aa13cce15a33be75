"""Bad configuration is refused with a ConfigError that names the field, before anything trains."""

from __future__ import annotations

import re

import pytest
import torch

from labbench.engine import Trainer
from labbench.errors import ConfigError
from labbench.methods import build_method
from labbench.run_config import RunConfig, apply_overrides, load_config, validate_config


@pytest.mark.parametrize(("data", "field"), [
    ({"optim": {"lr": -1.0}}, "optim.lr"),
    ({"train": {"batch_size": 1}}, "train.batch_size"),
    ({"data": {"image_size": 100000}}, "data.image_size"),
    ({"augment": {"crop_scale": [0.9, 0.1]}}, "crop_scale"),
    ({"augment": {"flip_p": 1.5}}, "augment.flip_p"),
    ({"method": {"name": "simclr", "temperature": -0.5}}, "method.temperature"),
])
def test_out_of_range_values_name_the_field(data, field):
    with pytest.raises(ConfigError, match=re.escape(field)):
        validate_config(data)


@pytest.mark.parametrize(("data", "field"), [
    ({"train": {"epochs": "many"}}, "train.epochs"),
    ({"optim": {"lr": [0.1]}}, "optim.lr"),
    ({"data": "shapes"}, "data"),
    ({"method": "simclr"}, "method"),
    ({"backbone": {"name": 18}}, "backbone.name"),
    ({"train": {"device": "tpu"}}, "train.device"),
])
def test_wrong_types_name_the_field(data, field):
    with pytest.raises(ConfigError, match=r"(^|\n)" + re.escape(field) + r"\b"):
        validate_config(data)


@pytest.mark.parametrize(("data", "field"), [
    ({"optim": {"lrr": 0.1}}, "optim.lrr"),
    ({"trian": {}}, "trian"),
    ({"method": {"name": "simclr", "temprature": 0.1}}, "method.temprature"),
])
def test_unknown_keys_name_the_key_and_say_to_check_the_spelling(data, field):
    with pytest.raises(ConfigError, match=re.escape(field) + ": unknown key"):
        validate_config(data)


def test_unknown_method_lists_the_choices():
    with pytest.raises(ConfigError, match=r"method\.name: unknown method 'simclear'; choose one of .*simclr"):
        validate_config({"method": {"name": "simclear"}})


@pytest.mark.parametrize("content", [
    b"this is not toml at all {",
    b"[train]\nepochs = \n",
    b"\xff\xfe\x00binary\x00junk",
    b"import os\nos.system('touch MARKER')\n",
])
def test_a_preset_file_that_is_not_toml_is_named_and_never_evaluated(tmp_path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "preset.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="preset.toml: not a valid TOML file"):
        load_config(path)
    assert not (tmp_path / "MARKER").exists()


def test_a_config_path_that_is_a_folder_or_missing_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "gone.toml")


@pytest.mark.parametrize(("override", "field"), [
    ("train.epochs", "train.epochs"),
    ("nosuch.key=1", "nosuch"),
    ("train.epochs=[1, 2", "train.epochs"),
    ("data.image_size=big", "data.image_size"),
    ("=3", "expected section.key=value"),
    ("optim.lr=inf", "optim.lr"),
])
def test_bad_overrides_name_the_field(override, field):
    with pytest.raises(ConfigError, match=re.escape(field)):
        apply_overrides(RunConfig(), [override])


def _mismatched(method: str, backbone: str, *extra: str) -> RunConfig:
    return apply_overrides(RunConfig(), [
        f"method.name={method}", f"backbone.name={backbone}", "backbone.width=8",
        "data.image_size=16", *extra,
    ])


def test_mae_on_a_cnn_is_refused_naming_the_backbone():
    with pytest.raises(ConfigError, match=r"^backbone\.name: MAE .*needs a ViT"):
        build_method(_mismatched("mae", "cnn"))


def test_ibot_patch_loss_on_a_resnet_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match=r"method\.ibot_weight"):
        build_method(_mismatched("dino", "resnet18", "method.ibot_weight=1.0"))


def test_dino_attention_maps_on_a_resnet_are_refused_naming_the_backbone():
    method = build_method(_mismatched("dino", "resnet18"))
    with pytest.raises(ConfigError, match=r"backbone\.name: attention maps need a ViT"):
        method.last_attention(torch.zeros(1, 3, 16, 16))


def test_a_mismatched_run_ends_failed_with_the_message_not_a_crash(tmp_path, tiny_config):
    cfg = apply_overrides(tiny_config, ["method.name=mae"])
    finished = Trainer(cfg, runs_root=tmp_path).fit()
    assert finished.status == "failed" and finished.message.startswith("backbone.name: MAE")

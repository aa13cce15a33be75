"""A run's whole configuration: the sections of ``labbench.config`` plus the Config of the method it trains.

``RunConfig = data + augment + backbone + method + optim + train + eval``; ``method`` is validated by
the Config of the method its ``name`` selects, through the method registry (``labbench.methods``).
Presets ship inside the package (``labbench/resources/presets/``); config files and ``--set``
overrides merge over them. Every validation failure becomes a :class:`~labbench.errors.ConfigError`
whose message names the field and the allowed range.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import Field, SerializeAsAny, ValidationError, field_validator

from labbench.config import (
    AugmentConfig, BackboneConfig, DataConfig, EvalConfig, MethodConfig, OptimConfig, Section, TrainConfig,
    format_validation_error, read_toml, to_dict,
)
from labbench.errors import ConfigError
from labbench.methods import method_config

#: the presets, read with importlib.resources so that an installed wheel finds them without the checkout
PRESET_DIR: Traversable = files("labbench") / "resources" / "presets"


class RunConfig(Section):
    name: str = Field("", description="A short name for the run folder.")
    data: DataConfig = DataConfig()
    augment: AugmentConfig = AugmentConfig()
    backbone: BackboneConfig = BackboneConfig()
    method: SerializeAsAny[MethodConfig] = method_config({})
    optim: OptimConfig = OptimConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    @field_validator("method", mode="before")
    @classmethod
    def _config_of_the_named_method(cls, table: Any) -> MethodConfig:
        """Validate ``method`` with the Config of the method its ``name`` selects; errors keep their place."""
        return method_config(table)


def validate_config(data: dict[str, Any]) -> RunConfig:
    """Build a RunConfig from plain data, turning pydantic's errors into a ConfigError."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise format_validation_error(err) from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def preset_names() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in PRESET_DIR.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> RunConfig:
    """The preset ``labbench/resources/presets/<name>.toml``: paper defaults scaled to small images."""
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"preset {name!r} not found; choose one of {', '.join(preset_names())}")
    return validate_config(tomllib.loads(path.read_text(encoding="utf-8")))


def load_config(path: str | Path, base: RunConfig | None = None) -> RunConfig:
    """A config file, merged over ``base`` (its keys win; a file of another method keeps none of the base's method keys)."""
    data = read_toml(path)
    if base is not None:
        base_data = to_dict(base)
        if isinstance(data.get("method"), dict) and data["method"].get("name", base.method.name) != base.method.name:
            del base_data["method"]
        data = _deep_merge(base_data, data)
    return validate_config(data)


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax, and a bare word is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string


def apply_overrides(cfg: RunConfig, overrides: list[str]) -> RunConfig:
    """Apply ``section.key=value`` overrides (values in TOML syntax; bare words are strings)."""
    data = to_dict(cfg)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected section.key=value, e.g. method.temperature=0.2")
        parts = key.strip().split(".")
        node = data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"{key}: unknown section {part!r}")
            node = node[part]
        node[parts[-1]] = parse_value(text.strip())
        if parts == ["method", "name"]:  # switching method: keep only what the new one knows
            data["method"] = {"name": node["name"]}
    return validate_config(data)


def dump_toml(cfg: RunConfig) -> str:
    return tomli_w.dumps(to_dict(cfg))


def config_hash(cfg: RunConfig) -> str:
    """A short stable hash of the config, for model cards and run comparison."""
    return hashlib.sha256(json.dumps(to_dict(cfg), sort_keys=True).encode()).hexdigest()[:12]

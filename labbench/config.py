"""Run configuration: pydantic models are the single source of truth.

``RunConfig = data + augment + backbone + method + optim + train + eval``. Defaults are the
papers' values (SimCLR's where the section is shared); scaled-down settings for small images live
in the presets shipped inside the package (``labbench/resources/presets/``). Every validation failure becomes a
:class:`~labbench.errors.ConfigError` whose message names the field and the allowed range.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, get_args

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, model_validator

from labbench.errors import ConfigError

#: the presets, read with importlib.resources so that an installed wheel finds them without the checkout
PRESET_DIR: Traversable = files("labbench") / "resources" / "presets"

SourceName = Literal[
    "shapes", "digits", "photos", "folder",
    "cifar10", "cifar100", "stl10", "mnist", "fashion_mnist", "svhn",
]
#: seeds lie in 0 .. 2³¹ − 1: every seed derived from them fits torch's 64 bits, and a form's spin box holds them
MAX_SEED = 2**31 - 1
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
DEVICES: tuple[str, ...] = get_args(DeviceName)
BackboneName = Literal["cnn", "resnet18", "resnet34", "resnet50", "vit_tiny", "vit_small", "vit_base"]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(Section):
    source: SourceName = Field("shapes", description="Where the images come from.")
    root: str | None = Field(
        None, description="Folder of images (source 'folder') or root of a torchvision dataset."
    )
    image_size: int = Field(32, ge=8, le=512, description="Images are resized to this square size (px).")
    num_images: int = Field(
        6000, ge=0, description="Images to generate (shapes) or use at most (others); 0 = all."
    )
    eval_fraction: float = Field(
        0.2, gt=0.0, lt=1.0, description="Share held out for evaluation when the source has no split."
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the generated set and of the train/eval split.")
    download: bool = Field(False, description="Allow torchvision to download the dataset.")
    cache_dir: str | None = Field(
        None, description="Where large decoded sets are kept as a memory-mapped uint8 file."
    )


class AugmentConfig(Section):
    """SimCLR's augmentation table (Chen et al. 2020, appendix A)."""

    crop_scale: tuple[float, float] = Field(
        (0.08, 1.0), description="Random resized crop: range of the crop's area share."
    )
    crop_ratio: tuple[float, float] = Field((3 / 4, 4 / 3), description="Range of the crop's aspect ratio.")
    flip_p: float = Field(0.5, ge=0.0, le=1.0, description="Probability of a horizontal flip.")
    jitter_strength: float = Field(
        1.0, ge=0.0, le=2.0, description="Colour distortion strength s (0.8s brightness/contrast/saturation, 0.2s hue)."
    )
    jitter_p: float = Field(0.8, ge=0.0, le=1.0, description="Probability of colour jitter.")
    grayscale_p: float = Field(0.2, ge=0.0, le=1.0, description="Probability of converting to grayscale.")
    blur_p: float = Field(0.5, ge=0.0, le=1.0, description="Probability of Gaussian blur.")
    blur_sigma: tuple[float, float] = Field((0.1, 2.0), description="Range of the blur's sigma (px at 224).")
    solarize_p: float = Field(0.0, ge=0.0, le=1.0, description="Probability of solarization.")

    @model_validator(mode="after")
    def _ranges_ordered(self) -> AugmentConfig:
        for name in ("crop_scale", "crop_ratio", "blur_sigma"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name}: needs 0 < low <= high (got {lo}, {hi})")
        if self.crop_scale[1] > 1.0:
            raise ValueError(f"crop_scale: the high end is an area share, at most 1.0 (got {self.crop_scale[1]})")
        return self


class BackboneConfig(Section):
    name: BackboneName = Field("resnet18", description="Encoder architecture.")
    small_stem: bool = Field(
        True, description="ResNet: 3×3 stride-1 first conv and no max-pool (CIFAR-style, for small images)."
    )
    patch_size: int = Field(4, ge=2, le=32, description="ViT: patch size in pixels.")
    width: int = Field(32, ge=8, le=512, description="Small CNN: channels of the first stage.")
    depth: int | None = Field(
        None, ge=1, le=48, description="ViT: number of blocks (none = the size's paper value, 12)."
    )


class MethodConfig(Section):
    """Base of every method's Config; each method narrows ``name`` to its registry key."""

    name: str = Field("simclr", description="Self-supervised method.")


class OptimConfig(Section):
    name: Literal["sgd", "adamw", "lars"] = Field("lars", description="Optimiser (SimCLR: LARS).")
    lr: float = Field(0.3, gt=0.0, le=100.0, description="Base learning rate for a batch of 256 (scaled linearly).")
    weight_decay: float = Field(1e-6, ge=0.0, le=1.0, description="Weight decay.")
    weight_decay_end: float | None = Field(
        None, ge=0.0, le=1.0, description="Cosine weight-decay schedule end value (DINO: 0.04 -> 0.4); none = constant."
    )
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="SGD/LARS momentum.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW betas.")
    warmup_epochs: float = Field(10.0, ge=0.0, description="Linear warm-up length (epochs).")
    min_lr_ratio: float = Field(0.0, ge=0.0, le=1.0, description="Cosine schedule floor, as a share of the peak.")
    clip_grad: float | None = Field(None, gt=0.0, description="Clip the gradient norm to this value (none = off).")


class TrainConfig(Section):
    epochs: int = Field(100, ge=1, le=100000, description="Passes over the training split.")
    batch_size: int = Field(256, ge=2, le=65536, description="Images per step (before views).")
    device: DeviceName = Field("auto", description="Where to train; auto picks the best.")
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="auto = bf16 on CUDA, fp32 elsewhere.")
    channels_last: bool = Field(True, description="channels_last memory format for the model (faster convolutions on CUDA and CPU).")
    compile: bool = Field(False, description="torch.compile the model (falls back when it fails).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of initialisation, sampling and augmentation.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many steps (none = all epochs).")
    time_budget_s: float | None = Field(None, gt=0.0, description="Stop after this much training time (s).")
    checkpoint_every_epochs: int = Field(1, ge=1, description="Save a checkpoint every N epochs.")
    log_every_steps: int = Field(10, ge=1, description="Read the loss back from the device every N steps.")
    sync_batchnorm: bool = Field(False, description="Synchronise batch-norm statistics across processes (torchrun).")
    num_threads: int | None = Field(None, ge=1, le=256, description="CPU threads for PyTorch (none = all cores).")


class EvalConfig(Section):
    knn_k: int = Field(20, ge=1, le=1000, description="k of the weighted k-NN monitor (InstDisc/DINO: 20).")
    knn_temperature: float = Field(0.07, gt=0.0, le=10.0, description="Temperature of the k-NN vote weights.")
    every_epochs: int = Field(1, ge=1, description="Run the monitors every N epochs.")
    max_bank: int = Field(10000, ge=10, description="At most this many training images form the k-NN bank.")
    max_eval: int = Field(2000, ge=10, description="At most this many eval images are scored.")
    probe_images: int = Field(8, ge=0, le=64, description="Eval images kept for attention/reconstruction views.")


class RunConfig(Section):
    name: str = Field("", description="A short name for the run folder.")
    data: DataConfig = DataConfig()
    augment: AugmentConfig = AugmentConfig()
    backbone: BackboneConfig = BackboneConfig()
    method: SerializeAsAny[MethodConfig] = MethodConfig()
    optim: OptimConfig = OptimConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    @model_validator(mode="before")
    @classmethod
    def _method_from_registry(cls, data: Any) -> Any:
        """Validate ``method`` against the Config of the method its ``name`` selects."""
        if not isinstance(data, dict):
            return data
        method = data.get("method", {})
        if isinstance(method, MethodConfig) and type(method) is not MethodConfig:
            return data
        if isinstance(method, MethodConfig):
            method = method.model_dump()
        if not isinstance(method, dict):
            raise ValueError("method: expected a table with at least a 'name'")
        from labbench.methods import METHODS

        name = method.get("name", "simclr")
        if not isinstance(name, str) or name not in METHODS:
            raise ValueError(f"method.name: unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
        try:
            return {**data, "method": METHODS[name].Config.model_validate({**method, "name": name})}
        except ValidationError as err:
            raise ValueError(format_validation_error(err, prefix="method")) from None


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``field.path: what is wrong (got value)``."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling against the preset"
        got = "" if e["type"] in ("missing", "value_error") else f" (got {e.get('input')!r})"
        lines.append(f"{loc}: {msg}{got}" if loc and not msg.startswith(loc) else f"{msg}{got}")
    return "\n".join(lines)


def validate_config(data: dict[str, Any]) -> RunConfig:
    """Build a RunConfig from plain data, turning pydantic's errors into a ConfigError."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err)) from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file (never evaluated), with a clear error naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not a valid TOML file ({err})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.strerror})") from None


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


def _parse_value(text: str) -> Any:
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
        node[parts[-1]] = _parse_value(text.strip())
        if parts == ["method", "name"]:  # switching method: keep only what the new one knows
            data["method"] = {"name": node["name"]}
    return validate_config(data)


def toml_value(value: Any) -> str:
    """``value`` as TOML source, for an override: strings quoted and escaped (any quote, backslash,
    tab or newline survives), lists inline."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").removesuffix("\n")


def to_dict(cfg: BaseModel) -> dict[str, Any]:
    """Plain data (JSON/TOML-safe) of a config; ``None`` values are left out."""
    return json.loads(cfg.model_dump_json(exclude_none=True))


def dump_toml(cfg: RunConfig) -> str:
    return tomli_w.dumps(to_dict(cfg))


def config_hash(cfg: RunConfig) -> str:
    """A short stable hash of the config, for model cards and run comparison."""
    return hashlib.sha256(json.dumps(to_dict(cfg), sort_keys=True).encode()).hexdigest()[:12]

"""The sections of a run's configuration: pydantic models are the single source of truth.

One model per section (data, augment, backbone, optim, train, eval) and ``MethodConfig``, the base
of every method's own Config. Defaults are the papers' values (SimCLR's where the section is
shared). ``labbench.run_config`` joins them with the method's Config into ``RunConfig``; this
module sits below every other part of the engine, so it knows no method.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from labbench.errors import ConfigError
from labbench.sources import SourceName

#: seeds lie in 0 .. 2³¹ − 1: every seed derived from them fits torch's 64 bits, and a form's spin box holds them
MAX_SEED = 2**31 - 1
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
DEVICES: tuple[str, ...] = get_args(DeviceName)
ShapesBackground = Literal["flat", "gradient", "noise", "stripes", "checker"]
BackboneName = Literal["rescnn", "cnn", "resnet18", "resnet34", "resnet50", "vit_tiny", "vit_small", "vit_base"]


class FieldProblems(ValueError):
    """Raised inside a validator: ``(field path, message)`` pairs relative to the model that raises it.

    Pydantic reports a model validator's error at the model itself; this keeps the field at fault, so
    :func:`validation_problems` can name it (``augment.crop_scale``), not only its section.
    """

    def __init__(self, *problems: tuple[str, str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"{where}: {what}" if where else what for where, what in self.problems))


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(Section):
    source: SourceName = Field("shapes", description="Where the images come from.")
    root: str | None = Field(
        None, description="Folder of images (source 'folder'), of packed shards ('shards') or root of a torchvision dataset."
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
        None, description="Where large decoded sets are kept as a memory-mapped uint8 file (none = the user's cache folder)."
    )
    store: Literal["auto", "uint8", "stream"] = Field(
        "auto",
        description="Training images decoded once into a uint8 store, or streamed from packed shards and decoded "
        "per batch (crops cut from the full-resolution image); auto streams packed sets whose store would exceed 4 GiB.",
    )
    workers: int | None = Field(
        None, ge=0, le=64, description="Processes that decode streamed batches (none = one per spare core; 0 = in the trainer)."
    )
    decode_on: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where streamed JPEGs are decoded: auto = on the GPU (nvJPEG) when training on CUDA."
    )
    # -- the built-in shapes set's nuisances (source "shapes" only; see labbench/data/shapes.py) --
    palette_size: int = Field(
        8, ge=0, le=12,
        description="Shapes: object and background colours come from this many palette colours "
        "(0 = free random colours, which give every image a unique colour pair: the shortcut lesson).",
    )
    rotation_range: float = Field(
        20.0, ge=0.0, le=180.0, description="Shapes: objects are turned by up to ± this many degrees (180 = any angle)."
    )
    object_scale: tuple[float, float] = Field(
        (0.18, 0.38), description="Shapes: range of the object's radius as a share of the image side."
    )
    backgrounds: tuple[ShapesBackground, ...] = Field(
        ("flat", "gradient", "noise"), min_length=1,
        description="Shapes: background kinds drawn from (flat, gradient, noise, stripes, checker).",
    )

    @model_validator(mode="after")
    def _object_scale_ordered(self) -> DataConfig:
        lo, hi = self.object_scale
        if not 0.05 <= lo <= hi <= 0.5:
            raise ValueError(f"object_scale: needs 0.05 <= low <= high <= 0.5 (got {lo}, {hi})")
        return self


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
                raise FieldProblems((name, f"needs 0 < low <= high (got {lo}, {hi})"))
        if self.crop_scale[1] > 1.0:
            raise FieldProblems(("crop_scale", f"the high end is an area share, at most 1.0 (got {self.crop_scale[1]})"))
        return self


class BackboneConfig(Section):
    name: BackboneName = Field("resnet18", description="Encoder architecture.")
    small_stem: bool = Field(
        True, description="ResNet: 3×3 stride-1 first conv and no max-pool (CIFAR-style, for small images)."
    )
    patch_size: int = Field(4, ge=2, le=32, description="ViT: patch size in pixels.")
    width: int = Field(32, ge=8, le=512, description="rescnn / cnn: channels of the first stage (rescnn presets: 24).")
    depth: int | None = Field(
        None, ge=1, le=48, description="ViT: number of blocks (none = the size's paper value, 12)."
    )

    @property
    def is_vit(self) -> bool:
        """A Vision Transformer (patch tokens, attention maps), not a convolutional network."""
        return self.name.startswith("vit")

    @property
    def side_multiple(self) -> int:
        """Input sides must be a multiple of this many pixels: a ViT's patch size, 1 for a CNN."""
        return self.patch_size if self.is_vit else 1


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
    time_budget_s: float | None = Field(
        None, ge=0.0,
        description="Train for at most this many seconds (pauses, monitors and saving not counted); every schedule "
        "is fitted to the steps that fit. None or 0 = no budget: train.epochs decide.",
    )
    checkpoint_every_epochs: int = Field(1, ge=1, description="Save a checkpoint every N epochs.")
    log_every_steps: int = Field(10, ge=1, description="Read the loss back from the device every N steps.")
    sync_batchnorm: bool = Field(False, description="Synchronise batch-norm statistics across processes (torchrun).")
    num_threads: int | None = Field(None, ge=1, le=256, description="CPU threads for PyTorch (none = all cores).")
    tensorboard: bool = Field(False, description="Also write TensorBoard logs into the run folder's tensorboard/ (needs the tensorboard extra).")


class EvalConfig(Section):
    knn_k: int = Field(20, ge=1, le=1000, description="k of the weighted k-NN monitor (InstDisc/DINO: 20).")
    knn_temperature: float = Field(0.07, gt=0.0, le=10.0, description="Temperature of the k-NN vote weights.")
    every_epochs: int = Field(1, ge=1, description="Run the monitors every N epochs.")
    max_bank: int = Field(10000, ge=10, description="At most this many training images form the k-NN bank.")
    max_eval: int = Field(2000, ge=10, description="At most this many eval images are scored.")
    probe_images: int = Field(8, ge=0, le=64, description="Eval images kept for attention/reconstruction views.")


def validation_problems(err: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """One ``(field.path, what is wrong (got value))`` pair per problem in ``err``."""
    problems = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        cause = (e.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblems):
            problems += [(".".join(p for p in (loc, where) if p), what) for where, what in cause.problems]
            continue
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling against the preset"
        got = "" if e["type"] in ("missing", "value_error") else f" (got {e.get('input')!r})"
        problems.append((loc, msg + got))
    return problems


def format_validation_error(err: ValidationError, prefix: str = "") -> ConfigError:
    """The ConfigError for ``err``: its (location, message) pairs, one ``field.path: reason`` line each."""
    return ConfigError(problems=validation_problems(err, prefix))


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


def toml_value(value: Any) -> str:
    """``value`` as TOML source, for an override: strings quoted and escaped (any quote, backslash,
    tab or newline survives), lists inline."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").removesuffix("\n")


def to_dict(cfg: BaseModel) -> dict[str, Any]:
    """Plain data (JSON/TOML-safe) of a config; ``None`` values are left out."""
    return json.loads(cfg.model_dump_json(exclude_none=True))

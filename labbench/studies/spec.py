"""A study file: one claim of the lecture asked of the bench.

A study is a base config (a preset plus settings), one or two axes (a config key with a list of
values, or named variants that set several keys and may switch the preset), the measures taken
after every run, a budget per run, seeds, and the claim with the expectations that test it. Study
files are TOML; unknown keys are errors that name the field, as in run configs::

    name = "temperature"
    title = "SimCLR's temperature"
    claim = "τ = 0.1–0.2 is best; 0.05 is unstable, 1.0 makes the task too easy."
    measures = ["knn"]
    budget = { seconds = 90 }

    [base]
    preset = "simclr"

    [[axes]]
    name = "τ"
    key = "method.temperature"
    values = [0.05, 0.1, 0.2, 0.5, 1.0]
    scale = "log"

    [[expect]]
    best = [{ "τ" = 0.1 }, { "τ" = 0.2 }]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import Field, ValidationError, model_validator

from labbench.config import Section, format_validation_error, read_toml
from labbench.errors import ConfigError
from labbench.studies.measures import MEASURES

#: the key of a cell reference that names a measure instead of an axis
MEASURE_KEY = "measure"

CellRef = dict[str, Any]


class Variant(Section):
    """A named setting of several keys; ``preset`` swaps the base preset (another method), and an
    ``untrained`` variant is scored at its initialisation without training (the "random init" row)."""

    name: str = Field(min_length=1, description="How the tables and plots call this variant.")
    preset: str | None = Field(None, description="A preset that replaces the base's for this variant.")
    set: dict[str, Any] = Field(default_factory=dict, description="Config keys to set, e.g. 'method.temperature' = 0.2.")
    untrained: bool = Field(False, description="Score the encoder at its initialisation; no training.")


class Axis(Section):
    """One dimension of the study: ``key`` with ``values``, or named ``variants``."""

    name: str = Field("", description="Short name for tables and cell references (default: the key's last part).")
    key: str | None = Field(None, description="The config key this axis varies, e.g. 'method.temperature'.")
    values: list[Any] = Field(default_factory=list, description="The key's values, one run (per seed) each.")
    variants: list[Variant] = Field(default_factory=list, description="Named settings, one run (per seed) each.")
    scale: Literal["linear", "log"] = Field("linear", description="How a numeric axis is drawn.")

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name") and isinstance(data.get("key"), str):
            return {**data, "name": data["key"].rsplit(".", 1)[-1]}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Axis:
        if (self.key is None) == (not self.variants):
            raise ValueError("an axis has either a key with values or variants (not both, not neither)")
        if self.key is not None and not self.values:
            raise ValueError(f"values: the axis over {self.key} needs at least one value")
        if not self.name:
            raise ValueError("name: an axis of variants needs a name")
        labels = self.labels
        if len(set(labels)) != len(labels):
            raise ValueError(f"{self.name}: every value or variant must differ (got {', '.join(labels)})")
        if self.scale == "log" and not (self.numeric and all(v > 0 for v in self.values)):
            raise ValueError("scale: a log axis needs positive numbers as values")
        return self

    @property
    def labels(self) -> list[str]:
        """What each position of the axis is called."""
        return [v.name for v in self.variants] if self.variants else [value_label(v) for v in self.values]

    @property
    def numeric(self) -> bool:
        """A key axis of numbers: drawn as a line over its values."""
        return self.key is not None and all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values)

    def __len__(self) -> int:
        return len(self.variants) if self.variants else len(self.values)

    def settings(self, index: int) -> tuple[str | None, dict[str, Any]]:
        """(preset or None, config keys) of position ``index``."""
        if self.variants:
            variant = self.variants[index]
            return variant.preset, dict(variant.set)
        return None, {self.key: self.values[index]}

    def index(self, ref_value: Any) -> int | None:
        """The position a cell reference names: a variant's name, or a value (or its label)."""
        if self.variants:
            return next((i for i, v in enumerate(self.variants) if v.name == ref_value), None)
        return next((i for i, v in enumerate(self.values)
                     if v == ref_value or value_label(v) == ref_value), None)


def value_label(value: Any) -> str:
    """A key value as tables show it: ``0.1``, ``4096``, ``[0.08, 1]``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_label(v) for v in value) + "]"
    return str(value)


class Base(Section):
    preset: str = Field("simclr", description="The preset every run starts from (labbench presets lists them).")
    set: dict[str, Any] = Field(default_factory=dict, description="Config keys set for every run.")


class Budget(Section):
    """How long each run trains: ``seconds`` of training (``train.time_budget_s``) or ``epochs``."""

    seconds: float | None = Field(None, gt=0.0, description="Training time per run, in seconds.")
    epochs: int | None = Field(None, ge=1, description="Passes over the training split per run.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Budget:
        if (self.seconds is None) == (self.epochs is None):
            raise ValueError("give the budget in seconds or in epochs (one of them)")
        return self

    def settings(self) -> dict[str, Any]:
        return {"train.time_budget_s": self.seconds} if self.seconds is not None else {"train.epochs": self.epochs}

    def describe(self) -> str:
        return f"{self.seconds:g} s" if self.seconds is not None else f"{self.epochs} epoch{'s' * (self.epochs != 1)}"


class Evaluation(Section):
    """How the evaluation protocols are run after each run."""

    max_train: int | None = Field(
        None, ge=10, description="At most this many labelled training images for the probes (none = all)."
    )
    finetune_epochs: int = Field(3, ge=1, le=100, description="Epochs of the fine-tune protocol.")


class Expectation(Section):
    """One comparison the claim predicts: ``higher`` beats ``than``, or the best cell is one of ``best``.

    A cell reference names a value (or variant) of every axis, and optionally a ``measure``
    (default: the study's first)."""

    higher: CellRef | None = None
    than: CellRef | None = None
    best: list[CellRef] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Expectation:
        pair = self.higher is not None and self.than is not None
        if pair == (self.best is not None) or (self.higher is None) != (self.than is None):
            raise ValueError("an expectation is either higher = {...} with than = {...}, or best = [{...}, ...]")
        if self.best is not None and not self.best:
            raise ValueError("best: name at least one cell")
        return self

    def refs(self) -> list[tuple[str, CellRef]]:
        """Every cell reference with where it sits (for error messages)."""
        if self.best is not None:
            return [(f"best[{i}]", ref) for i, ref in enumerate(self.best)]
        return [("higher", self.higher), ("than", self.than)]


class Study(Section):
    """A claim of the lecture as runs on the bench; see the module docstring for the file format."""

    name: str = Field(min_length=1, description="Short name (default: the file's name); names the study folder.")
    title: str = Field(min_length=1, description="One line: what the study asks.")
    claim: str = Field("", description="The lecture's claim, in its words.")
    figure: str = Field("", description="The lecture's figure for the claim (data set, protocol, numbers).")
    source: str = Field("", description="Where the claim and figure come from (paper, table or figure).")
    base: Base = Field(default_factory=Base)
    axes: list[Axis] = Field(min_length=1, max_length=2, description="One or two axes; two make a grid.")
    pairs: Literal["grid", "unordered"] = Field(
        "grid", description="unordered: two axes over the same variants, (a, b) is (b, a) and (a, a) is a alone."
    )
    measures: list[str] = Field(["knn"], min_length=1, description="What is measured after each run; the first leads.")
    budget: Budget = Field(default_factory=lambda: Budget(seconds=90))
    seeds: list[int] = Field([0], min_length=1, description="Each cell is run once per seed (an error bar from two on).")
    min_effect: float = Field(
        0.01, ge=0.0, description="The smallest difference that counts, whatever the noise (0.01 = one point)."
    )
    expect: list[Expectation] = Field(default_factory=list, description="What the claim predicts.")
    relative_to: CellRef | None = Field(None, description="A cell every other is shown as a share of (e.g. supervised).")
    evaluation: Evaluation = Field(default_factory=Evaluation)

    @model_validator(mode="after")
    def _consistent(self) -> Study:
        unknown = [m for m in self.measures if m not in MEASURES]
        if unknown:
            raise ValueError(f"measures: unknown {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
        if len(set(self.measures)) != len(self.measures) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("measures and seeds: each may appear once")
        names = [a.name for a in self.axes]
        if len(set(names)) != len(names) or MEASURE_KEY in names:
            raise ValueError(f"axes: each axis needs its own name, other than {MEASURE_KEY!r} (got {', '.join(names)})")
        if self.pairs == "unordered" and (len(self.axes) != 2 or self.axes[0].labels != self.axes[1].labels):
            raise ValueError("pairs: 'unordered' needs two axes listing the same variants in the same order")
        for i, expectation in enumerate(self.expect):
            for where, ref in expectation.refs():
                self.cell_of(ref, f"expect.{i}.{where}")
        if self.relative_to is not None:
            self.cell_of(self.relative_to, "relative_to")
        return self

    # -- cells -------------------------------------------------------------------------------------

    def cells(self) -> list[tuple[int, ...]]:
        """Every distinct combination of axis positions, in plan order."""
        if len(self.axes) == 1:
            return [(i,) for i in range(len(self.axes[0]))]
        n, m = len(self.axes[0]), len(self.axes[1])
        if self.pairs == "unordered":
            return [(i, j) for i in range(n) for j in range(i, m)]
        return [(i, j) for i in range(n) for j in range(m)]

    def canonical(self, cell: tuple[int, ...]) -> tuple[int, ...]:
        """The planned cell a grid position stands for ((b, a) is (a, b) for unordered pairs)."""
        return tuple(sorted(cell)) if self.pairs == "unordered" else cell

    def cell_label(self, cell: tuple[int, ...]) -> str:
        """``crop + colour``, ``crop alone``, ``τ = 0.2``, ``method simclr · batch 256``."""
        labels = [axis.labels[i] for axis, i in zip(self.axes, cell)]
        if self.pairs == "unordered":
            return f"{labels[0]} alone" if cell[0] == cell[1] else " + ".join(labels)
        return " · ".join(label if axis.variants else f"{axis.name} = {label}" for axis, label in zip(self.axes, labels))

    def cell_key(self, cell: tuple[int, ...]) -> str:
        """The cell's stable name in results.jsonl: ``τ=0.2`` or ``first=crop/second=colour``."""
        return "/".join(f"{axis.name}={axis.labels[i]}" for axis, i in zip(self.axes, cell))

    def run_key(self, cell: tuple[int, ...], seed: int) -> str:
        return f"{self.cell_key(cell)}#s{seed}"

    def cell_of(self, ref: CellRef, where: str = "cell") -> tuple[tuple[int, ...], str]:
        """(cell, measure) that a cell reference names; ValueError naming ``where`` when it names none."""
        measure = ref.get(MEASURE_KEY, self.measures[0])
        if measure not in self.measures:
            raise ValueError(f"{where}.{MEASURE_KEY}: {measure!r} is not among measures ({', '.join(self.measures)})")
        extra = sorted(set(ref) - {MEASURE_KEY} - {a.name for a in self.axes})
        if extra:
            raise ValueError(f"{where}: no axis called {', '.join(map(repr, extra))}; "
                             f"the axes are {', '.join(repr(a.name) for a in self.axes)}")
        cell = []
        for axis in self.axes:
            if axis.name not in ref:
                raise ValueError(f"{where}: name a value of the axis {axis.name!r} ({', '.join(axis.labels)})")
            index = axis.index(ref[axis.name])
            if index is None:
                raise ValueError(f"{where}.{axis.name}: {ref[axis.name]!r} is not on the axis ({', '.join(axis.labels)})")
            cell.append(index)
        return self.canonical(tuple(cell)), measure

    def runs_count(self) -> int:
        return len(self.cells()) * len(self.seeds)

    # -- files -------------------------------------------------------------------------------------

    def with_changes(self, budget: Budget | None = None, settings: dict[str, Any] | None = None,
                     seeds: list[int] | None = None) -> Study:
        """A copy with another budget, extra base settings (they win over the file's) or other seeds."""
        data = self.model_dump(exclude_none=True)
        if budget is not None:
            data["budget"] = budget.model_dump(exclude_none=True)
        if settings:
            data["base"]["set"] = {**data["base"]["set"], **settings}
        if seeds is not None:
            data["seeds"] = seeds
        return study_from_dict(data, self.name)

    def to_toml(self) -> str:
        return tomli_w.dumps(self.model_dump(exclude_none=True))


def study_from_dict(data: dict[str, Any], source: str) -> Study:
    """Validate a study; errors name ``source`` and the field, one line each."""
    if not data.get("name"):
        data = {**data, "name": Path(source).stem}
    try:
        return Study.model_validate(data)
    except ValidationError as err:
        raise ConfigError("\n".join(f"{source}: {line}" for line in str(format_validation_error(err)).splitlines())) from None


def read_study(path: str | Path) -> Study:
    """A study file (TOML), validated."""
    return study_from_dict(read_toml(path), str(path))


def study_from_text(text: str, source: str) -> Study:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not a valid TOML file ({err})") from None
    return study_from_dict(data, source)

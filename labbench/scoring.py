"""The evaluation protocols on a run folder: k-NN, linear probe, fine-tune, next to the baselines.

``evaluate_run`` rebuilds the run's method from its last checkpoint, computes the frozen features
once, runs the protocols asked for and the baselines (the same backbone untrained, raw pixels), and
keeps the result in the run folder's ``eval.json``, one result per data set it was measured on (a
folder counts by its path): evaluating on other data never replaces or merges into a result on this
data. ``results_table`` reads those files back into the cross-run table.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from labbench.atomic import atomic_write_text
from labbench.config import DataConfig
from labbench.run_config import RunConfig
from labbench.data import folder_source, load_split
from labbench.data.split import cap_index
from labbench.data.store import ImageSet, Split
from labbench.engine.device import resolve_device
from labbench.engine.footprint import check_store_fits
from labbench.errors import ConfigError, DataError
from labbench.files import check_entry, read_regular
from labbench.evaluate.baselines import BASELINES, pixel_features, random_init_method
from labbench.engine.checkpointed import load_run
from labbench.evaluate.features import extract_features
from labbench.evaluate.finetune import finetune
from labbench.evaluate.knn import weighted_knn_accuracy
from labbench.evaluate.linear_probe import linear_probe
from labbench.runlock import RunLock
from labbench.runs import load_run_config, read_run
from labbench.sources import SOURCES

EVAL_NAME = "eval.json"
EVAL_FORMAT = 2  # {"format": 2, "results": [one EvalResult per data set]}; format 1 was one bare result
PROTOCOLS: tuple[str, ...] = ("knn", "linear", "finetune")
PROTOCOL_TITLES = {"knn": "k-NN", "linear": "linear", "finetune": "fine-tune"}

#: method -> why a protocol misleads for it; the table says so and reads the other protocols first
CAVEATS: dict[str, str] = {
    "mae": (
        "k-NN is a poor score for MAE: its features become linearly useful only after fine-tuning "
        "(lightly's ImageNet table, ViT-B/16 MAE: 11.2 % k-NN, 46.0 % linear, 81.3 % fine-tune). "
        "Read the linear probe and fine-tune."
    ),
}
#: for these methods the table leads with these protocols (others: k-NN, linear, fine-tune)
LEAD_PROTOCOLS: dict[str, tuple[str, ...]] = {"mae": ("finetune", "linear", "knn")}

Progress = Callable[[int, int], bool]


@dataclass
class EvalResult:
    """Top-1 accuracies (0..1) of a run's encoder and of the baselines on one labelled data set."""

    run: str
    method: str
    backbone: str
    epochs: int
    step: int
    dataset: str  # a short name of the data, for tables
    scores: dict[str, float] = field(default_factory=dict)  # protocol -> accuracy
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)  # baseline -> protocol -> accuracy
    caveat: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # protocol -> its settings and by-products
    created: str = ""
    data_key: str = ""  # exactly which data (see data_key()): results are kept and merged per key

    @property
    def lead(self) -> tuple[str, ...]:
        """Protocols in the order to read them for this method."""
        return LEAD_PROTOCOLS.get(self.method, PROTOCOLS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        known = {f for f in cls.__dataclass_fields__}
        result = cls(**{k: v for k, v in data.items() if k in known})
        result.data_key = result.data_key or result.dataset  # format 1 knew only the source's name
        return result


def chance_level(labels: torch.Tensor | None) -> float | None:
    """The accuracy of always answering the most frequent class: what a classifier must beat."""
    if labels is None or len(labels) == 0:
        return None
    return float(labels.bincount().max()) / len(labels)


def data_key(data: DataConfig, max_train: int | None = None) -> str:
    """Which data a result was measured on: the source, a folder by its full path, and the cap on
    labelled training images when there was one."""
    key = f"{data.source}:{data.root}" if _is_a_folder(data) else data.source
    return f"{key} (at most {max_train} labelled training images)" if max_train else key


def _is_a_folder(data: DataConfig) -> bool:
    return SOURCES[data.source].kind == "folder" and bool(data.root)


def data_label(data: DataConfig) -> str:
    """A short name of the data for tables: the source, or a folder's own name."""
    return os.path.basename(os.path.normpath(data.root)) if _is_a_folder(data) else data.source


def read_evals(run_dir: str | Path) -> list[EvalResult]:
    """Every result in the run's ``eval.json`` (one per data set), oldest first; none when it has no
    readable file."""
    try:
        saved = json.loads(read_regular(Path(run_dir) / EVAL_NAME))
        items = saved["results"] if isinstance(saved, dict) and "results" in saved else [saved]
        return [EvalResult.from_dict(item) for item in items]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def read_eval(run_dir: str | Path, key: str | None = None) -> EvalResult | None:
    """The result measured on data ``key``, or None; without a key, the one on the run's own data
    (else the latest)."""
    results = read_evals(run_dir)
    if key is not None:
        return next((r for r in reversed(results) if r.data_key == key), None)
    try:
        own = data_key(load_run_config(run_dir).data)
    except ConfigError:
        own = None
    return next((r for r in reversed(results) if r.data_key == own), results[-1] if results else None)


def write_evals(run_dir: str | Path, results: Sequence[EvalResult]) -> Path:
    return atomic_write_text(Path(run_dir) / EVAL_NAME, json.dumps(
        {"format": EVAL_FORMAT, "results": [r.to_dict() for r in results]}, indent=2) + "\n")


def eval_data_config(config: RunConfig, source: str | None = None) -> DataConfig:
    """The run's own data, or another labelled ``source`` (a source name or a folder) at the run's image size."""
    if source is None:
        return config.data
    if Path(source).is_dir():
        return config.data.model_copy(update={"source": folder_source(source), "root": str(Path(source).resolve())})
    return DataConfig.model_validate({**config.data.model_dump(), "source": source, "root": None})


class _Stages:
    """One progress bar over weighted stages: each stage reports its own (done, total)."""

    def __init__(self, progress: Progress | None, weights: dict[str, float]) -> None:
        self.progress = progress
        total = sum(weights.values()) or 1.0
        self.start, acc = {}, 0.0
        for name, w in weights.items():
            self.start[name] = (acc / total, w / total)
            acc += w

    def __call__(self, name: str) -> Progress | None:
        if self.progress is None:
            return None
        start, share = self.start[name]

        def report(done: int, total: int) -> bool:
            if self.progress(round(1000 * (start + share * done / max(total, 1))), 1000) is False:
                raise InterruptedError("evaluation cancelled")
            return True

        return report


def _labelled(split: Split, max_train: int | None, seed: int) -> tuple[ImageSet, ImageSet]:
    train, test = split.train.labeled(), split.eval.labeled()
    if train.labels is None or test.labels is None or len(train) == 0 or len(test) == 0:
        raise DataError(
            f"{split.train.name}: evaluation needs labelled images; this source has none — "
            "evaluate on a labelled source (e.g. --data shapes or --data cifar10)"
        )
    if max_train:
        train = train.subset(cap_index(train.labels, len(train), max_train, seed))
    return train, test


def _features(embed, train: ImageSet, test: ImageSet, size: int, device: torch.device,
              progress: Progress | None) -> tuple[Tensor, Tensor]:
    """Features of both sets, with one progress count over the two."""
    n = len(train) + len(test)

    def offset(start: int) -> Progress | None:
        return None if progress is None else (lambda done, total: progress(start + done, n))

    return (extract_features(embed, train.images, size, device, progress=offset(0)),
            extract_features(embed, test.images, size, device, progress=offset(len(train))))


def _frozen_scores(
    train_f: Tensor, train: ImageSet, test_f: Tensor, test: ImageSet, protocols: Iterable[str],
    config: RunConfig, seed: int, progress: Progress | None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """k-NN and linear-probe accuracies of one encoder's features."""
    scores, details = {}, {}
    device = train_f.device
    if "knn" in protocols:
        scores["knn"] = weighted_knn_accuracy(
            train_f, train.labels.to(device), test_f, test.labels.to(device),
            k=config.eval.knn_k, temperature=config.eval.knn_temperature,
        )
        details["knn"] = {"k": config.eval.knn_k, "temperature": config.eval.knn_temperature}
    if "linear" in protocols:
        probe = linear_probe(train_f, train.labels, test_f, test.labels.to(device), seed=seed, progress=progress)
        scores["linear"] = probe.accuracy
        details["linear"] = {
            "weight_decay": probe.weight_decay, "val_accuracy": probe.val_accuracy,
            "sweep": {str(k): v for k, v in probe.sweep.items()},
        }
    return scores, details


def evaluate_run(
    run_dir: str | Path,
    protocols: Sequence[str] = PROTOCOLS,
    *,
    data: DataConfig | str | None = None,
    device: torch.device | str = "auto",
    baselines: bool = True,
    max_train: int | None = None,
    finetune_epochs: int = 5,
    seed: int = 0,
    save: bool = True,
    progress: Progress | None = None,
) -> EvalResult:
    """Score ``run_dir``'s last checkpoint with ``protocols`` (and, with ``baselines``, the baselines).

    ``data``: the run's own data (None), another source name or folder, or a DataConfig; images are
    used at the run's image size. ``max_train`` caps the labelled training images (stratified).
    ``progress(done, total)`` covers all stages; returning False cancels (``InterruptedError``).
    The result is written to ``run_dir/eval.json`` (atomically, holding the run folder's lock) unless
    ``save`` is False, beside the results on other data; scores of protocols not run now are kept from
    an earlier result of the same checkpoint and data.
    """
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown or not protocols:
        raise ConfigError(f"protocols: choose from {', '.join(PROTOCOLS)} (got {', '.join(protocols) or 'none'})")
    if max_train is not None and max_train < 1:
        raise ConfigError(f"max_train: at least 1 labelled training image (got {max_train}); None uses them all")
    if "finetune" in protocols and finetune_epochs < 1:
        raise ConfigError(f"finetune_epochs: at least 1 (got {finetune_epochs})")
    device = resolve_device(device, "device") if isinstance(device, str) else device
    if not save:
        return _evaluate(run_dir, protocols, data, device, baselines, max_train, finetune_epochs, seed, progress)
    check_entry(Path(run_dir) / EVAL_NAME, folder=False)
    with RunLock(run_dir, "evaluation"):
        result = _evaluate(run_dir, protocols, data, device, baselines, max_train, finetune_epochs, seed, progress)
        earlier = read_evals(run_dir)
        same = next((r for r in earlier if r.data_key == result.data_key), None)
        if same is not None and same.step == result.step:
            _merge_earlier(result, same)
        write_evals(run_dir, [r for r in earlier if r.data_key != result.data_key] + [result])
    if progress is not None:
        progress(1000, 1000)
    return result


def _merge_earlier(result: EvalResult, earlier: EvalResult) -> None:
    """Keep the scores of protocols not run now from an earlier result of the same checkpoint and data."""
    result.scores = {**earlier.scores, **result.scores}
    result.details = {**earlier.details, **result.details}
    result.baselines = {name: {**earlier.baselines.get(name, {}), **result.baselines.get(name, {})}
                        for name in dict.fromkeys([*BASELINES, *earlier.baselines, *result.baselines])
                        if name in earlier.baselines or name in result.baselines}


def _evaluate(run_dir: str | Path, protocols: Sequence[str], data: DataConfig | str | None, device: torch.device,
              baselines: bool, max_train: int | None, finetune_epochs: int, seed: int,
              progress: Progress | None) -> EvalResult:
    """The scores of :func:`evaluate_run`, computed without writing anything."""
    loaded = load_run(run_dir, device)
    config = loaded.config
    data_cfg = data if isinstance(data, DataConfig) else eval_data_config(config, data)
    data_cfg = data_cfg.model_copy(update={"image_size": config.data.image_size})
    check_store_fits(data_cfg)
    train, test = _labelled(load_split(data_cfg), max_train, seed)
    size = config.data.image_size
    frozen = [p for p in protocols if p != "finetune"]
    baselines = baselines and bool(frozen)  # the baselines are scored by the frozen protocols
    linear = "linear" in protocols

    stages = _Stages(progress, {
        "features": 1.0 if frozen else 0.0,
        "linear": 2.0 if linear else 0.0,
        "finetune": 3.0 * finetune_epochs if "finetune" in protocols else 0.0,
        "random_init": 1.0 if baselines else 0.0,
        "random_init_linear": 2.0 if baselines and linear else 0.0,
        "pixels": 0.2 if baselines else 0.0,
        "pixels_linear": 2.0 if baselines and linear else 0.0,
    })
    result = EvalResult(
        run=Path(run_dir).name, method=config.method.name, backbone=config.backbone.name,
        epochs=loaded.epoch, step=loaded.step, dataset=data_label(data_cfg),
        caveat=CAVEATS.get(config.method.name), created=time.strftime("%Y-%m-%d %H:%M:%S"),
        data_key=data_key(data_cfg, max_train),
    )
    result.details["data"] = {"train_images": len(train), "test_images": len(test), "image_size": size,
                              "chance": chance_level(test.labels)}

    method = loaded.method
    if frozen:
        train_f, test_f = _features(method.embed, train, test, size, device, stages("features"))
        scores, details = _frozen_scores(train_f, train, test_f, test, frozen, config, seed, stages("linear"))
        result.scores.update(scores)
        result.details.update(details)
    if "finetune" in protocols:
        ft = finetune(method.encoder, train, test, size, epochs=finetune_epochs, device=device, seed=seed,
                      progress=stages("finetune"))
        result.scores["finetune"] = ft.accuracy
        result.details["finetune"] = {"epochs": ft.epochs, "lr": ft.lr, "encoder_lr": ft.encoder_lr,
                                      "epoch_losses": ft.epoch_losses}
    if baselines:
        untrained = random_init_method(config, seed, len(train)).to(device)
        rtrain, rtest = _features(untrained.embed, train, test, size, device, stages("random_init"))
        result.baselines["random_init"] = _frozen_scores(
            rtrain, train, rtest, test, frozen, config, seed, stages("random_init_linear"))[0]
        ptrain = pixel_features(train.images, size, progress=stages("pixels")).to(device)
        ptest = pixel_features(test.images, size).to(device)
        result.baselines["pixels"] = _frozen_scores(
            ptrain, train, ptest, test, frozen, config, seed, stages("pixels_linear"))[0]
    return result


# -- the cross-run table ----------------------------------------------------------------------


@dataclass
class TableRow:
    """One line of the results table: a run, or a baseline (``run`` names which)."""

    run: str
    method: str
    backbone: str
    epochs: int | None
    dataset: str | None
    knn: float | None = None
    linear: float | None = None
    finetune: float | None = None
    caveat: str | None = None
    baseline: bool = False


def results_table(run_dirs: Iterable[str | Path], include_baselines: bool = True) -> list[TableRow]:
    """One row per run folder and data set it was evaluated on (from its ``eval.json``; a row of empty
    scores when it has none), then one row per distinct baseline (backbone and data set) in those files."""
    rows, extra = [], {}
    for run_dir in run_dirs:
        results = read_evals(run_dir)
        if not results:
            info = read_run(run_dir)
            rows.append(TableRow(Path(run_dir).name, info.method or "?", info.backbone or "?", info.epoch,
                                 info.dataset, caveat=CAVEATS.get(info.method or "")))
        for result in results:
            rows.append(TableRow(result.run, result.method, result.backbone, result.epochs, result.dataset,
                                 *(result.scores.get(p) for p in PROTOCOLS), caveat=result.caveat))
            for name, scores in result.baselines.items():
                backbone = result.backbone if name == "random_init" else "-"
                key = (name, backbone, result.data_key)
                extra.setdefault(key, TableRow(BASELINES.get(name, name), "baseline", backbone, None, result.dataset,
                                               scores.get("knn"), scores.get("linear"), baseline=True))
    return rows + (list(extra.values()) if include_baselines else [])


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def format_table(rows: Sequence[TableRow]) -> str:
    """The table as aligned text, accuracies in percent; a caveat marks the misleading score with ``*``
    (in parentheses) and is spelled out under the table."""
    head = ["run", "method", "backbone", "data", "epochs", "k-NN %", "linear %", "fine-tune %"]
    lines, notes = [], []
    for row in rows:
        knn = _pct(row.knn)
        if row.caveat:
            if row.caveat not in notes:
                notes.append(row.caveat)
            knn = f"({knn or '-'})*"
        lines.append([row.run, row.method, row.backbone, row.dataset or "?",
                      "" if row.epochs is None else str(row.epochs), knn, _pct(row.linear), _pct(row.finetune)])
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

    def fmt(cells: list[str]) -> str:  # text columns left, numbers right
        return "  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [fmt(head), "  ".join("-" * w for w in widths), *map(fmt, lines)]
    out += [f"* {note}" for note in notes]
    return "\n".join(out)

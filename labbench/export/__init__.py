"""Encoder export: the trained backbone alone (projection heads dropped) in four formats, each
checked on the spot, with a model card beside it; and the embeddings for other tools.

Every file is written into a staging folder inside the chosen folder, loaded back with
:func:`load_encoder` and compared with the live encoder on sample inputs (the largest difference is
recorded in the card and must stay below ``TOLERANCE``); then the whole set replaces the earlier one
at once (``labbench.export.staging``): an interrupted export changes nothing. Names that could reach
outside the folder are refused. The folder is locked while it is written (the run folder's lock when
the export goes into the run's ``exports/``). Beside the files, ``README.md`` is the Hugging Face
model card and, for a ViT, ``config.json`` is timm's model config, so the folder loads with
``timm.create_model("local-dir:FOLDER")``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from labbench.atomic import atomic_write_text
from labbench.augment import resize_center
from labbench.data import load_split
from labbench.engine.checkpointed import load_run
from labbench.errors import CheckpointError, ConfigError, DataError
from labbench.evaluate.features import extract_features
from labbench.export.card import make_card
from labbench.export.embeddings import export_embeddings
from labbench.export.formats import FORMATS, WRITERS, card_path, load_encoder
from labbench.export.model_card import HUB_CONFIG_NAME, MODEL_CARD_NAME, check_replaceable, model_card_markdown
from labbench.export.staging import export_set, staging, swap_in
from labbench.export.timm_vit import hub_config
from labbench.files import make_folder
from labbench.run_config import RunConfig
from labbench.runlock import RunLock
from labbench.scoring import read_eval

__all__ = ["FORMATS", "TOLERANCE", "ExportResult", "export_embeddings", "export_encoder", "export_run", "load_encoder"]

#: largest allowed difference between the live encoder and a reloaded export (fp32)
TOLERANCE = 1e-4
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class ExportResult:
    """What was written: the files by format, the card, each format's check, and the embeddings bundle."""

    folder: Path
    files: dict[str, Path]
    card_path: Path
    card: dict[str, Any]
    max_abs_diff: dict[str, float]
    embeddings: dict[str, Path] = field(default_factory=dict)
    hub_files: dict[str, Path] = field(default_factory=dict)  # README.md (model card), config.json (a ViT's, for timm)


def check_name(name: str) -> str:
    """An export's base name: letters, digits, ``_ . -``; no path separators, no ``..``."""
    if not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"export name {name!r}: use letters, digits, '_', '.' and '-' only (no folders, no '..'); "
            "choose the folder separately"
        )
    return name


def check_formats(formats: Sequence[str]) -> list[str]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(f"export formats: choose from {', '.join(FORMATS)} (got {', '.join(formats) or 'none'})")
    return list(dict.fromkeys(formats))


def export_encoder(
    encoder: nn.Module,
    config: RunConfig,
    out_dir: str | Path,
    formats: Sequence[str] = tuple(FORMATS),
    *,
    name: str = "encoder",
    sample: Tensor | None = None,
    card_extra: dict[str, Any] | None = None,
    progress: Callable[[int, int], bool] | None = None,
    write_more: Callable[[Path], dict[str, Path]] | None = None,
    locked: bool = False,
) -> ExportResult:
    """Export ``encoder`` (a labbench backbone) into ``out_dir`` as ``<name>.<suffix>`` per format and
    ``<name>.card.json`` (and the folder's README.md, config.json), replacing the earlier export of that
    name whole; each file is reloaded and compared with ``encoder`` on ``sample`` (normalised images;
    default: 4 random ones). ``card_extra`` adds fields to the card (run, step, evaluation).
    ``write_more(stage)`` writes further members of the set (the embeddings folder) into the staging
    folder. ``progress(done, total)`` after each format; False cancels (``InterruptedError``).
    ``locked``: the caller holds the lock covering ``out_dir``; otherwise the folder's own is taken.
    """
    formats = check_formats(formats)
    name = check_name(name)
    folder = make_folder(out_dir)
    check_replaceable(folder)  # before the lock: a folder of someone else's files is left as it was
    if not locked:
        with RunLock(folder, "export"):
            return export_encoder(encoder, config, folder, formats, name=name, sample=sample,
                                  card_extra=card_extra, progress=progress, write_more=write_more, locked=True)
    with staging(folder, name) as stage:
        result = _write_checked(encoder, config, stage, formats, name, sample, card_extra, progress)
        result.embeddings = write_more(stage) if write_more is not None else {}
        members = [p.name for p in [*result.files.values(), result.card_path, *result.hub_files.values()]]
        members += sorted({p.relative_to(stage).parts[0] for p in result.embeddings.values()})
        swap_in(stage, folder, members, export_set(name, FORMATS.values()) + [MODEL_CARD_NAME, HUB_CONFIG_NAME])
    return _moved(result, stage, folder)


def _moved(result: ExportResult, stage: Path, folder: Path) -> ExportResult:
    """``result`` with its paths in ``folder`` instead of the staging folder."""
    def move(path: Path) -> Path:
        return folder / path.relative_to(stage)

    return ExportResult(folder, {f: move(p) for f, p in result.files.items()}, move(result.card_path), result.card,
                        result.max_abs_diff, {k: move(p) for k, p in result.embeddings.items()},
                        {k: move(p) for k, p in result.hub_files.items()})


@torch.no_grad()
def _write_checked(encoder: nn.Module, config: RunConfig, folder: Path, formats: list[str], name: str,
                   sample: Tensor | None, card_extra: dict[str, Any] | None,
                   progress: Callable[[int, int], bool] | None) -> ExportResult:
    """Write and check every format, the card and the Hub files into ``folder``."""
    live = copy.deepcopy(encoder).cpu().float().eval()
    size = config.data.image_size
    if sample is None:
        sample = torch.randn(4, 3, size, size, generator=torch.Generator().manual_seed(0))
    sample = sample.detach().cpu().float()
    expected = live(sample)

    card = {**make_card(live, config), **(card_extra or {})}
    card.setdefault("checked_on", f"{len(sample)} random normal inputs")
    card_file = atomic_write_text(card_path(folder / f"{name}.pt"), json.dumps(card, indent=2) + "\n")
    files, diffs = {}, {}
    for done, fmt in enumerate(formats, start=1):
        path = folder / f"{name}{FORMATS[fmt]}"
        WRITERS[fmt](live, card, path, sample)
        reloaded, _ = load_encoder(path)
        diffs[fmt] = float((reloaded(sample).float() - expected).abs().max())
        files[fmt] = path
        if diffs[fmt] > TOLERANCE:
            raise CheckpointError(
                f"{path.name}: the reloaded {fmt} encoder differs from the trained one by {diffs[fmt]:.2e} "
                f"(more than {TOLERANCE:g}); the export was not written, the earlier one is unchanged"
            )
        if progress is not None and progress(done, len(formats)) is False:
            raise InterruptedError("export cancelled")
    card["files"] = {fmt: {"file": p.name, "bytes": p.stat().st_size, "max_abs_diff": diffs[fmt]}
                     for fmt, p in files.items()}
    atomic_write_text(card_file, json.dumps(card, indent=2) + "\n")
    hub_files = {MODEL_CARD_NAME: atomic_write_text(folder / MODEL_CARD_NAME, model_card_markdown(card, name))}
    if "timm" in card:
        hub_files[HUB_CONFIG_NAME] = atomic_write_text(folder / HUB_CONFIG_NAME,
                                                       json.dumps(hub_config(card["timm"]), indent=2) + "\n")
    return ExportResult(folder, files, card_file, card, diffs, hub_files=hub_files)


def _evaluation(run_dir: str | Path) -> dict[str, Any] | None:
    result = read_eval(run_dir)
    if result is None:
        return None
    return {"dataset": result.dataset, "epochs": result.epochs, "step": result.step, "scores": result.scores,
            "baselines": result.baselines, "caveat": result.caveat}


def export_run(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = tuple(FORMATS),
    *,
    name: str = "encoder",
    embeddings: bool = False,
    progress: Callable[[int, int], bool] | None = None,
) -> ExportResult:
    """Export a run's encoder (from its last checkpoint) into ``out_dir`` (default: the run's ``exports/``),
    checked on its own eval images; with ``embeddings``, also the eval split's features, labels and
    thumbnails as a projector bundle in ``<out_dir>/<name>-embeddings/``. Writing into the run folder
    takes its lock (a run being trained, evaluated or exported meanwhile is refused, naming who)."""
    formats = check_formats(formats)
    name = check_name(name)
    folder = Path(out_dir) if out_dir is not None else Path(run_dir) / "exports"
    if Path(os.path.realpath(folder)).is_relative_to(os.path.realpath(run_dir)):
        with RunLock(run_dir, "export"):
            return _export_run(run_dir, folder, formats, name, embeddings, progress, locked=True)
    return _export_run(run_dir, folder, formats, name, embeddings, progress, locked=False)  # locks the folder


def _export_run(run_dir: str | Path, folder: Path, formats: list[str], name: str, embeddings: bool,
                progress: Callable[[int, int], bool] | None, locked: bool) -> ExportResult:
    loaded = load_run(run_dir, "cpu")
    config = loaded.config
    size = config.data.image_size
    extra = {"run": Path(run_dir).name, "step": loaded.step, "epoch": loaded.epoch, "evaluation": _evaluation(run_dir)}
    try:
        eval_set = load_split(config.data).eval
        sample = resize_center(eval_set.images[:8], size)
        extra["checked_on"] = f"{len(sample)} eval images of {config.data.source}"
    except DataError:
        if embeddings:
            raise
        sample = None  # the run's data is gone: the encoder is still exported, checked on random inputs
    steps = len(formats) + (1 if embeddings else 0)

    def write_embeddings(stage: Path) -> dict[str, Path]:
        features = extract_features(loaded.method.encoder, eval_set.images, size)
        written = export_embeddings(features.numpy(), stage / f"{name}-embeddings", labels=eval_set.labels,
                                    images=eval_set.images, class_names=eval_set.class_names)
        if progress is not None and progress(steps, steps) is False:
            raise InterruptedError("export cancelled")
        return written

    return export_encoder(
        loaded.method.encoder, config, folder, formats, name=name, sample=sample, card_extra=extra,
        progress=None if progress is None else (lambda d, t: progress(d, steps)),
        write_more=write_embeddings if embeddings else None, locked=locked,
    )

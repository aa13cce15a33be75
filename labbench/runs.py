"""Run folders: ``runs/<time>-<method>-<name>/`` with ``config.toml``, ``metrics.jsonl``, ``checkpoints/``, ``exports/``.

The GUI lists, reopens and compares runs from these folders alone; a folder with missing files
opens with what is there.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labbench.atomic import atomic_write_text
from labbench.errors import ConfigError
from labbench.run_config import RunConfig, dump_toml, load_config

CONFIG_NAME = "config.toml"
METRICS_NAME = "metrics.jsonl"


def default_runs_root() -> Path:
    """``$LABBENCH_RUNS`` or ``./runs``."""
    return Path(os.environ.get("LABBENCH_RUNS", "runs"))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:40]


def create_run_dir(cfg: RunConfig, root: str | Path | None = None) -> Path:
    """A fresh run folder with the config written in it."""
    root = Path(root) if root is not None else default_runs_root()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = "-".join(p for p in (stamp, cfg.method.name, _slug(cfg.name)) if p)
    path, n = root / base, 1
    while path.exists():
        n += 1
        path = root / f"{base}-{n}"
    return init_run_dir(path, cfg)


def init_run_dir(path: str | Path, cfg: RunConfig) -> Path:
    """Make ``path`` a run folder of ``cfg`` (a study names its runs' folders itself)."""
    path = Path(path)
    (path / "checkpoints").mkdir(parents=True)
    (path / "exports").mkdir()
    atomic_write_text(path / CONFIG_NAME, dump_toml(cfg))
    return path


class MetricsLog:
    """Append-only JSON lines. Each record is one ``write`` of a whole line on an O_APPEND file, so a
    killed process never leaves a torn line in the middle; a torn last line is skipped on reading."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, allow_nan=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every readable record of ``metrics.jsonl`` (none when it is missing)."""
    return read_jsonl(Path(run_dir) / METRICS_NAME)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every readable record of an append-only JSON-lines file (none when it is missing)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    with path.open("rb") as f:
        for raw in f:
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def load_run_config(run_dir: str | Path) -> RunConfig:
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no {CONFIG_NAME} in this folder — is it a labbench run folder?")
    return load_config(path)


@dataclass
class RunInfo:
    """What a run folder says about itself; fields are None where the folder does not say."""

    path: Path
    method: str | None = None
    backbone: str | None = None
    dataset: str | None = None
    status: str = "unknown"
    step: int | None = None
    epoch: int | None = None
    loss: float | None = None
    knn_accuracy: float | None = None
    raw_pixels_knn: float | None = None  # the k-NN a learned encoder must beat (ReferenceEvent)
    untrained_knn: float | None = None
    has_checkpoint: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def read_run(run_dir: str | Path) -> RunInfo:
    """Summarise a run folder from its files alone, tolerating missing or damaged ones."""
    path = Path(run_dir)
    info = RunInfo(path=path, has_checkpoint=(path / "checkpoints" / "last.pt").is_file())
    try:
        cfg = load_run_config(path)
        info.method, info.backbone, info.dataset = cfg.method.name, cfg.backbone.name, cfg.data.source
    except ConfigError as err:
        info.problems.append(str(err))
    for record in read_metrics(path):
        kind = record.get("kind")
        if kind == "step":
            info.step, info.epoch, info.loss = record.get("step"), record.get("epoch"), record.get("loss")
            info.status = "running"
        elif kind == "epoch":
            info.knn_accuracy = record.get("knn_accuracy", info.knn_accuracy)
        elif kind == "reference":
            info.raw_pixels_knn, info.untrained_knn = record.get("raw_pixels_knn"), record.get("untrained_knn")
        elif kind == "finished":
            info.status, info.step, info.epoch = record.get("status", "unknown"), record.get("step"), record.get("epoch")
    if info.status == "running" and info.has_checkpoint:
        info.status = "interrupted"
    return info


def list_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every run folder under ``root``, newest first."""
    root = Path(root) if root is not None else default_runs_root()
    if not root.is_dir():
        return []
    dirs = [p for p in root.iterdir() if p.is_dir() and ((p / CONFIG_NAME).exists() or (p / METRICS_NAME).exists())]
    return [read_run(p) for p in sorted(dirs, key=lambda p: p.name, reverse=True)]

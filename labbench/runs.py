"""Run folders: ``runs/<time>-<method>-<name>/`` with ``config.toml``, ``metrics.jsonl``, ``checkpoints/``, ``exports/``.

The GUI lists, reopens and compares runs from these folders alone; a folder with missing, damaged or
odd files opens with what is there, and says what it skipped. Files are opened without following
links and only when they are regular files (a shared folder must not redirect writes or hang a reader).
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labbench.atomic import atomic_write_text, discard_leftovers
from labbench.errors import ConfigError, StorageError
from labbench.files import check_entry, make_folder, open_regular, read_regular, storage_error
from labbench.run_config import RunConfig, dump_toml, load_config
from labbench.runlock import LOCK_NAME, lock_state

CONFIG_NAME = "config.toml"
METRICS_NAME = "metrics.jsonl"
TORN_NAME = "metrics.jsonl.torn"  # partial last lines moved aside by MetricsLog.open
#: a session that continues a run writes this record first: records after its step, written by the
#: session before (work lost with a kill or crash, done again now), are superseded
RESUMED = "resumed"
#: what a run folder holds: name -> is a folder
RUN_ENTRIES = {CONFIG_NAME: False, METRICS_NAME: False, TORN_NAME: False, "eval.json": False, LOCK_NAME: False,
               "checkpoints": True, "checkpoints/last.pt": False, "probes": True, "exports": True}


def default_runs_root() -> Path:
    """``$LABBENCH_RUNS`` or ``./runs``."""
    return Path(os.environ.get("LABBENCH_RUNS", "runs"))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:40]


def create_run_dir(cfg: RunConfig, root: str | Path | None = None) -> Path:
    """A fresh run folder with the config written in it."""
    root = make_folder(root if root is not None else default_runs_root())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = "-".join(p for p in (stamp, cfg.method.name, _slug(cfg.name)) if p)
    n = 1
    while True:
        path = root / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()  # not exist_ok: two processes starting at once get two folders
            break
        except FileExistsError:
            n += 1
        except OSError as err:
            raise storage_error(path, err) from None
    return init_run_dir(path, cfg)


def init_run_dir(path: str | Path, cfg: RunConfig) -> Path:
    """Make ``path`` a run folder of ``cfg`` (a study names its runs' folders itself)."""
    path = Path(path)
    try:
        (path / "checkpoints").mkdir(parents=True)
        (path / "exports").mkdir()
    except OSError as err:
        raise storage_error(path, err) from None
    atomic_write_text(path / CONFIG_NAME, dump_toml(cfg))
    return path


def discard_run_leftovers(run_dir: str | Path) -> list[Path]:
    """Remove the temporary files killed writes left in a run folder (config, checkpoint, probes,
    evaluation); only under the run folder's lock."""
    run_dir = Path(run_dir)
    return [p for folder in (run_dir, run_dir / "checkpoints", run_dir / "probes") for p in discard_leftovers(folder)]


def check_run_folder(run_dir: str | Path) -> None:
    """Refuse a run folder whose files are links or of the wrong type (a FIFO, a folder …), naming the
    first; writing through them would leave the folder or hang. (The folder itself may be a link: the
    person chose where their runs live.)"""
    for name, is_folder in RUN_ENTRIES.items():
        check_entry(Path(run_dir) / name, folder=is_folder)


# -- writing metrics.jsonl -----------------------------------------------------------------------


class MetricsLog:
    """Append-only JSON lines, one whole record per line.

    :meth:`open` repairs a torn last line (a crash or a full disk mid-record): the partial bytes are
    moved to ``metrics.jsonl.torn`` so that the next record starts on a line of its own.
    :meth:`append` writes a record with as many ``write`` calls as it takes and, when one fails
    (disk full), cuts the file back to where the record began: the file only ever holds whole lines.
    Only the holder of the run folder's :class:`~labbench.runlock.RunLock` may write.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def open(self) -> str | None:
        """Open for appending; a message when a torn tail had to be moved aside, else None."""
        if self._fd is not None:
            return None
        fd = open_regular(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        try:
            message = self._repair(fd)
        except OSError as err:
            os.close(fd)
            raise storage_error(self.path, err) from None
        self._fd = fd
        return message

    def _repair(self, fd: int) -> str | None:
        size = os.fstat(fd).st_size
        end = _last_newline_end(fd, size)
        if end == size:
            return None
        torn = self.path.with_name(TORN_NAME)
        out = open_regular(torn, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            for start in range(end, size, 1 << 20):
                _write_all(out, os.pread(fd, min(1 << 20, size - start), start))
            _write_all(out, b"\n")
        finally:
            os.close(out)
        os.ftruncate(fd, end)
        return (f"{self.path}: its last record was cut off ({size - end} bytes, by a crash or a full disk); "
                f"moved it to {torn.name} and continued after the last whole record")

    def append(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line; a log not :meth:`open` is opened for this record alone."""
        if self._fd is None:
            with self:
                return self.append(record)
        line = (json.dumps(record, allow_nan=True) + "\n").encode()
        start = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, line)
        except BaseException as err:
            try:
                os.ftruncate(self._fd, start)  # no partial record stays behind
            except OSError:
                pass
            if isinstance(err, OSError):
                raise storage_error(self.path, err) from None
            raise

    def is_empty(self) -> bool:
        """Whether the open log holds no record yet."""
        return os.fstat(self._fd).st_size == 0

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> MetricsLog:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    """``write`` until all of ``data`` is written; a write that makes no progress is an error."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(28, "No space left on device")
        view = view[written:]


def _last_newline_end(fd: int, size: int) -> int:
    """Offset just past the last newline of the file (0 when it has none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - (1 << 16))
        chunk = os.pread(fd, pos - start, start)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        pos = start
    return 0


# -- reading metrics.jsonl -----------------------------------------------------------------------

_INTS = ("step", "epoch", "total_steps")
_NUMBERS = ("loss", "lr", "momentum", "images_per_sec", "knn_accuracy", "feature_std", "effective_rank",
            "raw_pixels_knn", "untrained_knn")
_TEXTS = ("kind", "status", "message", "reason", "level", "path")


def record_problem(record: Any) -> str | None:
    """Why ``record`` cannot be used (a field of the wrong type), or None when it can."""
    if not isinstance(record, dict):
        return _not_a_record(record)
    for key in _INTS:
        value = record.get(key)
        if key in record and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{key} is {value!r}, not a whole number"
    for key in _NUMBERS:
        value = record.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"{key} is {value!r}, not a number"
    for key in _TEXTS:
        if key in record and not isinstance(record[key], str):
            return f"{key} is {record[key]!r}, not text"
    metrics = record.get("metrics", {})
    if not isinstance(metrics, dict) or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in metrics.values()):
        return "metrics is not a table of numbers"
    return None


@dataclass
class MetricsRead:
    """The usable records of a metrics file, in order, and what was skipped (``line N: why``)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self, name: str = METRICS_NAME) -> str | None:
        if not self.skipped:
            return None
        shown = "; ".join(self.skipped[:3]) + (" …" if len(self.skipped) > 3 else "")
        return f"{name}: skipped {len(self.skipped)} unusable record(s) ({shown})"


def _not_a_record(record: Any) -> str | None:
    return None if isinstance(record, dict) else f"not a record ({type(record).__name__})"


def _parse_lines(lines: list[bytes], first_line: int | None, problem_of=record_problem) -> MetricsRead:
    """Records from whole lines, in order; ``first_line`` numbers them (None: a tail, numbered from its
    end); ``problem_of(record)`` says why a record cannot be used."""
    out = MetricsRead()
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        where = f"line {first_line + i}" if first_line is not None else f"{len(lines) - i} lines before the end"
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            out.skipped.append(f"{where}: not JSON")
            continue
        problem = problem_of(record)
        if problem:
            out.skipped.append(f"{where}: {problem}")
        else:
            out.records.append(record)
    return out


def supersede(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's history as it stands: each ``resumed`` record drops the records before it whose step
    lies past its own (steps done again after a restart), so no step is counted twice."""
    kept: list[dict[str, Any]] = []
    for record in records:
        if record.get("kind") == RESUMED:
            kept = [r for r in kept if not (isinstance(r.get("step"), int) and r["step"] > record["step"])]
        kept.append(record)
    return kept


def scan_metrics(run_dir: str | Path) -> MetricsRead:
    """Every usable record of ``metrics.jsonl`` (none when it is missing) and what was skipped; a torn
    last line (a write still in progress, or a crash) is left out silently."""
    path = Path(run_dir) / METRICS_NAME
    try:
        data = read_regular(path)
    except StorageError as err:
        return MetricsRead() if err.errno == errno.ENOENT else MetricsRead(skipped=[str(err)])
    read = _parse_lines(data.split(b"\n")[:-1], 1)
    read.records = supersede(read.records)
    return read


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every usable record of ``metrics.jsonl``, as the run's history stands (see :func:`supersede`)."""
    return scan_metrics(run_dir).records


_START_KINDS = ("reference",)
_HEAD = 64 << 10


def tail_metrics(run_dir: str | Path, enough: int = 1 << 20, most: int = 64 << 20) -> MetricsRead:
    """Usable records from the end of ``metrics.jsonl``: the last ``enough`` bytes, more (up to
    ``most``) while they hold no step or epoch record, and the records written once at the start (the
    reference k-NN). A 12 GB file costs what a small one does."""
    path = Path(run_dir) / METRICS_NAME
    try:
        fd = open_regular(path)
    except StorageError as err:
        return MetricsRead() if err.errno == errno.ENOENT else MetricsRead(skipped=[str(err)])
    try:
        size = os.fstat(fd).st_size
        span = enough
        while True:
            start = max(0, size - span)
            lines = os.pread(fd, size - start, start).split(b"\n")[:-1]  # the last piece is torn or empty
            if start > 0:
                lines = lines[1:]  # begins mid-line
            read = _parse_lines(lines, 1 if start == 0 else None)
            if start == 0 or span >= most or any(r.get("kind") in ("step", "epoch") for r in read.records):
                break
            span *= 4
        read.records = supersede(read.records)
        if start > 0:  # the records a run writes once, when it starts, from the head of the file
            head = _parse_lines(os.pread(fd, min(_HEAD, start), 0).split(b"\n")[:-1], 1)
            read.records[:0] = [r for r in head.records if r.get("kind") in _START_KINDS]
        return read
    finally:
        os.close(fd)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every record (a JSON object on a whole line) of an append-only JSON-lines file written with
    :class:`MetricsLog`; none when it is missing or not a regular file."""
    try:
        data = read_regular(path)
    except StorageError:
        return []
    return _parse_lines(data.split(b"\n")[:-1], 1, _not_a_record).records


def load_run_config(run_dir: str | Path) -> RunConfig:
    path = Path(run_dir) / CONFIG_NAME
    try:
        check_entry(path, folder=False)
    except StorageError as err:
        raise ConfigError(str(err)) from None
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no {CONFIG_NAME} in this folder — is it a labbench run folder?")
    return load_config(path)


# -- what a folder says about its run ------------------------------------------------------------


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


def _finished_status(record: dict[str, Any]) -> str:
    status = record.get("status", "unknown")
    return f"{status}: {record['reason']}" if record.get("reason") else status


def read_run(run_dir: str | Path) -> RunInfo:
    """Summarise a run folder from its files alone, tolerating missing or damaged ones; reads only
    the end of ``metrics.jsonl``."""
    path = Path(run_dir)
    info = RunInfo(path=path, has_checkpoint=(path / "checkpoints" / "last.pt").is_file())
    try:
        cfg = load_run_config(path)
        info.method, info.backbone, info.dataset = cfg.method.name, cfg.backbone.name, cfg.data.source
    except ConfigError as err:
        info.problems.append(str(err))
    read = tail_metrics(path)
    if read.summary():
        info.problems.append(read.summary())
    for record in read.records:
        kind = record.get("kind")
        if kind == "step":
            info.step, info.epoch, info.loss = record.get("step"), record.get("epoch"), record.get("loss")
            info.status = "running"
        elif kind == "epoch":
            knn = record.get("knn_accuracy", info.knn_accuracy)
            info.knn_accuracy = None if isinstance(knn, float) and math.isnan(knn) else knn
        elif kind == "reference":
            info.raw_pixels_knn, info.untrained_knn = record.get("raw_pixels_knn"), record.get("untrained_knn")
        elif kind == RESUMED:
            info.status = "running"
        elif kind == "finished":
            info.status, info.step, info.epoch = _finished_status(record), record.get("step"), record.get("epoch")
    held, lock = lock_state(path)
    last_training = lock is not None and lock.purpose == "training"
    if held and (lock is None or last_training):
        info.status = "running"
    elif info.status == "running":
        # nobody trains it now: it ended without saying how in metrics.jsonl
        if last_training and lock.state == "released" and lock.outcome:
            info.status = lock.outcome
        else:
            info.status = "interrupted" if info.has_checkpoint else "crashed"
    return info


def list_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every run folder under ``root``, newest first."""
    root = Path(root) if root is not None else default_runs_root()
    if not root.is_dir():
        return []
    dirs = [p for p in root.iterdir() if p.is_dir() and ((p / CONFIG_NAME).exists() or (p / METRICS_NAME).exists())]
    return [read_run(p) for p in sorted(dirs, key=lambda p: p.name, reverse=True)]

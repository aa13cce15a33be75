"""Atomic file writes: write a temporary file beside the target, flush it to disk, then ``os.replace``.

A process killed at any moment leaves either the old file or the new one, never half of either. The
new file gets the mode ``open()`` would give it (the umask's, 0o644 by default), not ``mkstemp``'s
0o600; a failed write (disk full, read-only folder …) is a :class:`~labbench.errors.StorageError`
naming the target, and its temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from labbench.files import new_file_mode, storage_error


class _Recording:
    """A file wrapper that remembers the OSError a write raised: ``torch.save`` turns it into an opaque
    ``RuntimeError: … unexpected pos …``, and the cause (disk full) would be lost."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return self._file.write(data)
        except OSError as err:
            self.error = err
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file, then move it over ``path`` in one step."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise storage_error(path, err) from None
    try:
        os.fchmod(fd, new_file_mode())
        with os.fdopen(fd, "wb") as raw:
            f = _Recording(raw)
            try:
                write(f)  # type: ignore[arg-type]
                f.flush()
            except Exception as err:
                if f.error is not None and not isinstance(err, OSError):
                    raise f.error from None
                raise
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise storage_error(path, err) from None
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def discard_leftovers(folder: str | Path) -> list[Path]:
    """Delete the temporary files that writes killed mid-way left in ``folder`` (a SIGKILL or a power
    cut skips the clean-up above) and return them. Only call this while holding the folder's
    :class:`~labbench.runlock.RunLock`: another writer's temporary file is not a leftover."""
    stale = sorted(p for p in Path(folder).glob(".*.tmp") if p.is_file() and not p.is_symlink())
    for leftover in stale:
        leftover.unlink(missing_ok=True)
    return stale

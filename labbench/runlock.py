"""One writer per run folder: an advisory lock on ``<folder>/.lock`` for training, resuming,
evaluating and exporting.

The lock is ``flock``: the kernel drops it when its holder dies, however it dies, so a lock left by a
killed process is simply free again — and the file still names that process (pid, host, what it was
doing), which is how a crash is told from a clean end. The holder's record is written in place into
room reserved when the lock is taken, so it can still record how the work ended ("failed: disk full")
on a full disk.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from labbench.errors import RunBusy
from labbench.files import open_regular, storage_error

LOCK_NAME = ".lock"
_ROOM = 512  # bytes reserved for the holder's record
_RETRY_S = 0.5  # a reader probing the lock holds it for microseconds: a writer tries again this long


@dataclass(frozen=True)
class LockRecord:
    """What the lock file says: who took it for what, and — once released — how it ended."""

    pid: int
    host: str
    purpose: str
    since: str
    state: str  # "held" while working; "released" after a clean end
    outcome: str = ""  # e.g. "completed", "failed: disk full"

    def describe(self) -> str:
        return f"{self.purpose} by process {self.pid} on {self.host} (since {self.since})"


def _parse(raw: bytes) -> LockRecord | None:
    try:
        data = json.loads(raw.decode("utf-8").strip() or "null")
        return LockRecord(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


def _read_record(fd: int) -> LockRecord | None:
    return _parse(os.pread(fd, _ROOM, 0))


def _write_record(fd: int, record: LockRecord) -> None:
    data = json.dumps(record.__dict__).encode("utf-8")[: _ROOM - 1]
    os.pwrite(fd, data.ljust(_ROOM - 1) + b"\n", 0)  # same length every time: no new blocks needed


def _may_be_alive(record: LockRecord) -> bool:
    """False only when the recorded process certainly no longer runs (same host, no such pid)."""
    if record.host != socket.gethostname():
        return True
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    return True


class RunLock:
    """``with RunLock(folder, "training"):`` — exclusive use of ``folder``; raises :class:`RunBusy`
    naming the holder when another process (or another task of this one) has it.

    ``took_over`` names the process whose lock was left behind by a crash, when that was the case.
    """

    def __init__(self, folder: str | Path, purpose: str) -> None:
        self.folder = Path(folder)
        self.purpose = purpose
        self.took_over: LockRecord | None = None
        self._fd: int | None = None
        self._record: LockRecord | None = None

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def acquire(self) -> RunLock:
        fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
        try:
            self._lock(fd)
            previous = _read_record(fd)
            if previous is not None and previous.state == "held":
                self.took_over = previous  # its holder died without releasing: the lock was free again
            self._record = LockRecord(os.getpid(), socket.gethostname(), self.purpose,
                                      time.strftime("%Y-%m-%d %H:%M:%S"), "held")
            _write_record(fd, self._record)  # in place, the same length: a full disk has room for it
            os.fsync(fd)
        except OSError as err:
            os.close(fd)
            raise storage_error(self.path, err) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _lock(self, fd: int) -> None:
        deadline = time.monotonic() + _RETRY_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                holder = _read_record(fd)
                if (holder is not None and holder.state == "held" and _may_be_alive(holder)) \
                        or time.monotonic() > deadline:
                    raise RunBusy(self._busy_message(holder)) from None
                time.sleep(0.02)  # a reader's brief probe, or a dead holder's record: try again
            except OSError as err:
                if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
                    raise
                return  # a file system without locks (some network mounts): go on unguarded

    def _busy_message(self, holder: LockRecord | None) -> str:
        who = holder.describe() if holder is not None else "another process"
        return (f"{self.folder}: in use — {who}. Wait until it ends (or stop it), then run this again; "
                "to work on a copy, copy the folder first")

    def release(self, outcome: str = "") -> None:
        """Give the lock up, recording ``outcome`` (how the work ended) in the lock file."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if self._record is not None:
                _write_record(fd, LockRecord(**{**self._record.__dict__, "state": "released", "outcome": outcome}))
        except OSError:
            pass  # the record is a courtesy; the lock itself goes with the descriptor
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, kind, value, traceback) -> None:
        self.release("" if kind is None else "failed")


def lock_state(folder: str | Path) -> tuple[bool, LockRecord | None]:
    """(whether a process holds ``folder``'s lock now, the lock file's record) — without waiting.

    A record whose state is still "held" while nobody holds the lock was left by a process that died.
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd = open_regular(path)
    except OSError:
        return False, None
    try:
        record = _read_record(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True, record
        except OSError:
            return False, record
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False, record
    finally:
        os.close(fd)

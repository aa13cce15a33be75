"""The project's own error types: every message says what is wrong and what to do."""

from __future__ import annotations

from collections.abc import Iterable


class LabbenchError(Exception):
    """Base of every error a user should see as a readable message (never a traceback)."""


class ConfigError(LabbenchError):
    """A configuration value is invalid; the message names the field and the allowed range.

    ``problems`` holds one ``(location, message)`` pair per problem, the location a dotted field path
    (``"method.temperature"``) or ``""`` when no single field is at fault, so that a form can mark the
    field without reading the text. ``str(err)`` is one ``location: message`` line per problem.
    """

    def __init__(self, message: str = "", problems: Iterable[tuple[str, str]] | None = None) -> None:
        self.problems: list[tuple[str, str]] = list(problems) if problems is not None else [("", message)]
        super().__init__(message or "\n".join(f"{where}: {what}" if where else what for where, what in self.problems))


class DataError(LabbenchError):
    """A dataset could not be read; the message names the file or folder."""


class CheckpointError(LabbenchError):
    """A checkpoint or exported encoder could not be loaded; the message names the file."""


class TrainingDiverged(LabbenchError):
    """The loss became NaN or infinite at ``step``; the last good checkpoint is kept."""

    def __init__(self, step: int, value: float) -> None:
        self.step = step
        self.value = value
        super().__init__(
            f"training diverged at step {step} (loss = {value}); the last good checkpoint was kept. "
            "Try a lower learning rate (optim.lr) or a longer warm-up (optim.warmup_epochs)."
        )


class StorageError(LabbenchError, OSError):
    """A file or folder could not be written or opened safely (disk full, read-only, not a folder,
    a symbolic link in a run folder …). ``reason`` is the short cause for a run's status
    (``"disk full"``); the message names the path and what to do. Also an OSError, so code that
    handles file errors keeps handling it."""

    def __init__(self, path: object, reason: str, advice: str, errno: int | None = None) -> None:
        super().__init__(f"{path}: {reason} — {advice}")
        self.path = str(path)
        self.reason = reason
        self.errno = errno  # the OS's code, where an OS error was the cause

    def __str__(self) -> str:
        return self.args[0]


class RunBusy(LabbenchError):
    """Another process (or another task in this one) is writing this run folder."""


class NotEnoughMemory(LabbenchError):
    """A data set or a training step would not fit in memory; the message gives the numbers and what to lower."""

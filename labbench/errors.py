"""The project's own error types: every message says what is wrong and what to do."""

from __future__ import annotations


class LabbenchError(Exception):
    """Base of every error a user should see as a readable message (never a traceback)."""


class ConfigError(LabbenchError):
    """A configuration value is invalid; the message names the field and the allowed range."""


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

"""What the window is in: the run configuration it is editing (an observable Qt object) and the
state of its training session.

Docks never keep their own copy: they read ``ConfigState.config`` and listen to ``changed``.
Only valid configurations are stored; a dock holding a value that does not validate keeps it
in its editor and shows why.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, Signal

from labbench.config import to_dict
from labbench.run_config import RunConfig, validate_config


class SessionState(Enum):
    """Where the training session is: the window enables its commands from this alone."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # asked to stop: the trainer saves at the next step boundary

    @property
    def active(self) -> bool:
        """A run is in progress (running, paused or saving on its way out)."""
        return self is not SessionState.IDLE


class ConfigState(QObject):
    """The current :class:`RunConfig`; ``changed`` carries the new one."""

    changed = Signal(object)

    def __init__(self, config: RunConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._config = config

    @property
    def config(self) -> RunConfig:
        return self._config

    def set(self, config: RunConfig) -> None:
        if to_dict(config) != to_dict(self._config):
            self._config = config
            self.changed.emit(config)

    def update(self, section: str, values: dict[str, Any]) -> RunConfig:
        """Set some fields of one section; raises ConfigError (naming the field) when invalid."""
        data = to_dict(self._config)
        data[section] = {**data.get(section, {}), **values}
        config = validate_config(data)
        self.set(config)
        return config

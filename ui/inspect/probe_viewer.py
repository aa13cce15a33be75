"""What the inspectors of a run's probe files share: an epoch scrubber over the run's probe files,
each read once in the background and drawn when its epoch is still the one chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Slot
from PySide6.QtWidgets import QWidget

from labbench.evaluate.probes import list_probes, read_probes
from ui.inspect.epoch_scrubber import EpochScrubber
from ui.inspect.run_viewer import RunViewer


class ProbeViewer(RunViewer):
    """Base of the inspectors that draw one epoch's probe file at a time. Subclasses place ``scrubber``
    in their layout, call :meth:`set_probe_epochs` from :meth:`reload` and implement :meth:`show_probe`."""

    #: the task bar's line while a probe file is read
    reading = "reading the probe file of epoch {epoch}"

    def __init__(self, parent: QWidget | None = None) -> None:
        self._probes: dict[tuple[str, int], Any] = {}
        super().__init__(parent)
        self.scrubber = EpochScrubber()
        self.scrubber.epoch_changed.connect(self.show_epoch)

    def set_probe_epochs(self, epochs: list[int], missing: str) -> None:
        """Offer ``epochs`` on the scrubber and show the chosen one; with none, say ``missing``."""
        if not epochs:
            self.show_notice(missing)
        with QSignalBlocker(self.scrubber):
            self.scrubber.set_epochs(epochs)
        if epochs:
            self.show_epoch(self.scrubber.epoch())

    @Slot(int)
    def show_epoch(self, epoch: int) -> None:
        """Read (once) and show the probe file of ``epoch``."""
        key = (self.run_dir, epoch)
        if key in self._probes:
            self.show_probe(epoch, self._probes[key])
            return
        path, read = dict(list_probes(self.run_dir))[epoch], self.read_probe
        self.tasks.start(self.reading.format(epoch=epoch), lambda progress: read(path),
                         lambda probe: self._read(key, probe))

    def _read(self, key: tuple[str, int], probe: Any) -> None:
        self._probes[key] = probe
        if key == (self.run_dir, self.scrubber.epoch()):
            self.show_probe(key[1], probe)

    @staticmethod
    def read_probe(path: str | Path) -> Any:
        """What the viewer keeps of the probe file at ``path`` (on a worker thread; default: its arrays)."""
        return read_probes(path)

    def show_probe(self, epoch: int, probe: Any) -> None:
        """Draw ``probe``, kept from the probe file of ``epoch`` (override)."""
        raise NotImplementedError

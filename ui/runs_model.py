"""The run folders the window knows, one list for every view, kept current from the disk.

They are the folders under the runs folder and any opened from elsewhere (File ▸ Open run). A run
started or finished by the command line, or training in this window, shows up by itself: the
folders are looked at every ``poll_ms`` (off the GUI thread) and a run is read again only when one
of its files changed. The Runs panel, the Inspect run bar and the Evaluation table all list from
here, so they show the same runs with the same status.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from labbench.runs import CONFIG_NAME, METRICS_NAME, RunInfo, read_run
from ui.tasks import TaskRunner

POLL_MS = 2000
#: the files whose change means a run must be read again
WATCHED = (CONFIG_NAME, METRICS_NAME, "checkpoints/last.pt")

Stamp = tuple[tuple[int, int], ...]


def stamp(run_dir: Path) -> Stamp:
    """(size, mtime) of the files that say what a run is; (-1, -1) for a missing one."""
    out = []
    for name in WATCHED:
        try:
            st = (run_dir / name).stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((-1, -1))
    return tuple(out)


def run_folders(root: Path | None) -> list[Path]:
    """The run folders directly under ``root`` (those with a config or a metrics log)."""
    if root is None or not root.is_dir():
        return []
    try:
        return [p for p in root.iterdir() if p.is_dir() and ((p / CONFIG_NAME).exists() or (p / METRICS_NAME).exists())]
    except OSError:
        return []


def scan(root: Path | None, extra: list[Path], known: dict[Path, tuple[Stamp, RunInfo]]) -> dict[Path, tuple[Stamp, RunInfo]]:
    """Every run folder with its stamp and summary, re-reading only the runs whose files changed."""
    found = {}
    for path in [*run_folders(root), *extra]:
        current = stamp(path)
        before = known.get(path)
        found[path] = before if before is not None and before[0] == current else (current, read_run(path))
    return found


class RunsModel(QObject):
    """``infos()``: the known runs, newest first; ``changed`` when the list or a run's summary changes."""

    changed = Signal()

    def __init__(self, root: str | Path | None, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.root = Path(root) if root is not None else None
        self.live: str | None = None  # the run this window trains: "training", whatever its files say yet
        self._runs: dict[Path, tuple[Stamp, RunInfo]] = {}
        self._extra: list[Path] = []  # opened from outside the runs folder
        self._scanner = TaskRunner(self, latest_wins=True)
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)
        self._apply(scan(self.root, self._extra, {}))  # listed at once: the window opens with its runs
        self._timer.start()

    def infos(self) -> list[RunInfo]:
        """Every known run, newest first (by folder name, which starts with the time it was made)."""
        return [self._shown(info) for _, info in sorted(self._runs.values(), key=lambda v: v[1].path.name,
                                                         reverse=True)]

    def paths(self) -> list[str]:
        return [str(info.path) for info in self.infos()]

    def info(self, path: str | Path) -> RunInfo | None:
        found = self._runs.get(Path(path))
        return None if found is None else self._shown(found[1])

    def add(self, path: str | Path) -> RunInfo:
        """Know the run at ``path`` now (one opened from elsewhere, or one that has just started)."""
        path = Path(path)
        if path.parent != self.root and path not in self._extra:
            self._extra.append(path)
        self._runs[path] = (stamp(path), read_run(path))
        self.refresh()  # a look already under way started before this run: its result must not drop it
        self.changed.emit()
        return self._shown(self._runs[path][1])

    def set_live(self, path: str | Path | None) -> None:
        """The run this window is training (None once it has ended)."""
        self.live = None if path is None else str(Path(path))
        self.changed.emit()

    @Slot()
    def refresh(self) -> None:
        """Look at the folders again, off the GUI thread; ``changed`` follows when something differs."""
        root, extra, known = self.root, list(self._extra), dict(self._runs)
        self._scanner.submit(lambda _progress: scan(root, extra, known), self._apply)

    def rescan(self) -> None:
        """Look at the folders again now, on this thread (``changed`` follows when something differs)."""
        self._scanner.cancel_all()
        self._apply(scan(self.root, self._extra, self._runs))

    @Slot()
    def _poll(self) -> None:
        if not self._scanner.is_busy():  # a slow look (many large runs) is let finish, not restarted
            self.refresh()

    def wait(self) -> None:
        """Block until a pending look at the folders is done (tests); its result arrives as an event."""
        self._scanner.wait()

    def _apply(self, runs: dict[Path, tuple[Stamp, RunInfo]]) -> None:
        if runs.keys() == self._runs.keys() and all(runs[p][0] == self._runs[p][0] for p in runs):
            return
        self._runs = runs
        self.changed.emit()

    def _shown(self, info: RunInfo) -> RunInfo:
        if self.live is not None and str(info.path) == self.live:
            info = RunInfo(**{**info.__dict__, "status": "training"})
        return info

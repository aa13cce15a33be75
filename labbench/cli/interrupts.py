"""What Ctrl+C (SIGINT) and SIGTERM (``kill``, systemd, SLURM, Docker) do to a command, and its exit code.

Exit codes: 0 done · 1 failed · 2 usage (bad arguments, config or data path; nothing ran) · 130 interrupted by
SIGINT, 143 by SIGTERM (128 + the signal's number, as shells report it) — training saves first.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

EXIT_DONE, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Raised by a stop signal where the work cannot finish cleanly by itself; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interrupted_exit_code(err: KeyboardInterrupt) -> int:
    return 128 + getattr(err, "signum", signal.SIGINT)


class _Handlers:
    """Installs the subclass's ``_handle`` for SIGINT and SIGTERM while inside ``with``; ``signum`` is
    the first signal received."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # Python delivers signals there only
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            # once stopped by a signal the command is on its way out: a further Ctrl+C changes nothing and
            # must not land, as a KeyboardInterrupt, in the interpreter's shutdown
            signal.signal(sig, signal.SIG_IGN if self.signum else handler)


class AbortOnSignal(_Handlers):
    """Evaluation and export: a stop signal ends the work at once through :class:`Interrupted`, so that
    its clean-up runs (temporary files removed, earlier results left as they were) — SIGTERM included,
    whose default would end the process without any clean-up."""

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = self.signum or signum
        raise Interrupted(signum)


class StopOnSignal(_Handlers):
    """Training: the first stop signal asks ``control`` to stop at the next step boundary, where the
    trainer saves a checkpoint. A second one waits while a checkpoint is being written; otherwise it
    aborts without saving (the last checkpoint stays)."""

    def __init__(self, control, stream=None) -> None:
        super().__init__()
        self.control = control
        self.stream = stream or sys.stderr

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            self.control.stop()
            self._say(f"{signal.Signals(signum).name}: stopping after this step and saving a checkpoint "
                      "(Ctrl+C again to abort without saving)…")
        elif self.control.is_saving:
            self._say("still writing the checkpoint — it ends in a moment")
        else:
            raise Interrupted(signum)

    def _say(self, text: str) -> None:
        try:
            self.stream.write(f"\n{text}\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must not turn a clean stop into a traceback

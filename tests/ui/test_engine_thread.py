"""Engine work in its own thread: events arrive in the GUI thread, a crash arrives as words, the state follows."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ui.engine_thread import Crashed, EngineSession
from ui.state import SessionState
from ui.studies.session import StudySession


@dataclass(frozen=True)
class Note:
    kind: str


class Recorder(EngineSession):
    finish_kind = "done"

    def __init__(self) -> None:
        super().__init__("test work")
        self.seen: list[tuple[object, bool]] = []  # (event, delivered in the GUI thread)

    def _dispatch(self, event) -> None:
        self.seen.append((event, threading.current_thread() is threading.main_thread()))


def run(qtbot, work) -> Recorder:
    session = Recorder()
    session._launch(work)
    assert session.state is SessionState.RUNNING
    qtbot.waitUntil(lambda: session.state is SessionState.IDLE, timeout=10000)
    return session


def test_events_reach_the_gui_thread_and_the_end_event_makes_the_session_idle(qtbot):
    session = run(qtbot, lambda emit, control: (emit(Note("step")), emit(Note("done"))))
    assert [(e.kind, in_gui) for e, in_gui in session.seen] == [("step", True), ("done", True)]
    assert session._thread is None  # joined and released


def test_a_crash_arrives_as_its_traceback_and_ends_the_session(qtbot):
    def work(emit, control):
        emit(Note("step"))
        raise ValueError("the data folder vanished")

    session = run(qtbot, work)
    crash = session.seen[-1][0]
    assert isinstance(crash, Crashed) and not crash.finished
    assert crash.summary == "ValueError: the data folder vanished"
    assert "Traceback" in crash.traceback and "work" in crash.traceback


def test_a_crash_after_the_end_event_says_the_work_had_finished(qtbot):
    def work(emit, control):
        emit(Note("done"))
        raise RuntimeError("while cleaning up")

    session = Recorder()
    session._launch(work)
    qtbot.waitUntil(lambda: len(session.seen) == 2, timeout=10000)
    assert session.seen[1][0].finished and session.state is SessionState.IDLE


def test_a_study_that_cannot_run_says_why_and_ends_stopped(qtbot, tmp_path):
    session = StudySession()
    messages: list[str] = []
    session.failed.connect(messages.append)
    with qtbot.waitSignal(session.finished, timeout=10000) as blocker:
        session.start(tmp_path / "no-such-study")
    assert blocker.args[0].status == "stopped" and session.state is SessionState.IDLE
    assert messages and "no-such-study" in messages[0]

"""Work off the GUI thread: results, failures, progress and cancels come back on the GUI thread;
the latest request wins; a runner deleted mid-task receives nothing."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QObject, QThread

from labbench.errors import DataError
from ui.tasks import TaskRunner


def on_gui_thread() -> bool:
    return QThread.currentThread() is QCoreApplication.instance().thread()


def test_the_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(qtbot):
    seen = {}

    def work(progress):
        seen["work_on_gui"] = on_gui_thread()
        progress(1, 2)
        return 42

    runner = TaskRunner()
    runner.submit(work, lambda result: seen.update(result=result, done_on_gui=on_gui_thread()),
                  progress=lambda done, total: seen.update(progress=(done, total), progress_on_gui=on_gui_thread()))
    qtbot.waitUntil(lambda: "result" in seen, timeout=30000)
    assert seen == {"work_on_gui": False, "progress": (1, 2), "progress_on_gui": True, "result": 42,
                    "done_on_gui": True}
    assert not runner.is_busy()


def test_a_labbench_error_arrives_as_its_message(qtbot):
    failures = []

    def work(progress):
        raise DataError("/data/x.png: not an image")

    TaskRunner().submit(work, failed=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=30000)
    assert failures == ["/data/x.png: not an image"]


def test_cancel_reaches_the_work_through_progress(qtbot):
    release, ended = threading.Event(), []

    def work(progress):
        release.wait(5)
        if not progress(1, 10):
            raise InterruptedError
        return "finished anyway"

    runner = TaskRunner()
    task = runner.submit(work, ended.append, cancelled=lambda: ended.append("cancelled"))
    task.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(ended), timeout=30000)
    assert ended == ["cancelled"]


def test_the_latest_request_wins(qtbot):
    release, results, cancelled = threading.Event(), [], []

    def slow(progress):
        release.wait(5)
        return "old"

    runner = TaskRunner(latest_wins=True)
    runner.submit(slow, results.append, cancelled=lambda: cancelled.append("old"))
    runner.submit(lambda progress: "queued", results.append, cancelled=lambda: cancelled.append("queued"))
    runner.submit(lambda progress: "new", results.append)
    release.set()
    qtbot.waitUntil(lambda: results == ["new"] and len(cancelled) == 2, timeout=30000)
    assert sorted(cancelled) == ["old", "queued"]  # the old result, though computed, is never shown
    assert not runner.is_busy()


def test_newest_first_with_a_cap_on_what_waits(qtbot):
    started, release, made, dropped = threading.Event(), threading.Event(), [], []
    runner = TaskRunner(newest_first=True, max_pending=2)
    runner.submit(lambda progress: started.set() or release.wait(5), lambda _r: made.append("blocker"))
    assert started.wait(10)  # the first one runs; the next four wait behind it
    for i in range(4):
        runner.submit(lambda progress, i=i: i, made.append, cancelled=lambda i=i: dropped.append(i))
    release.set()
    qtbot.waitUntil(lambda: len(made) + len(dropped) == 5, timeout=30000)
    assert made == ["blocker", 3, 2] and sorted(dropped) == [0, 1]


def test_a_deleted_runner_gets_no_result(qtbot):
    owner = QObject()
    runner = TaskRunner(owner)
    release, results = threading.Event(), []
    runner.submit(lambda progress: release.wait(5) and "late", results.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(runner), timeout=5000)
    release.set()
    qtbot.wait(200)
    assert results == []


def _alive(obj) -> bool:
    from shiboken6 import isValid

    return isValid(obj)

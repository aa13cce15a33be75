"""Background tasks: work off the GUI thread; results, failures and cancels come back in the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QThread

from labbench.errors import DataError
from ui.tasks import BackgroundTask


def test_the_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(qtbot):
    seen = {}

    def work(progress):
        seen["work"] = threading.current_thread() is threading.main_thread()
        progress(1, 2)
        return 42

    task = BackgroundTask(work)
    task.progress.connect(lambda d, t: seen.setdefault("progress_gui", QThread.currentThread()
                                                        is QCoreApplication.instance().thread()))
    with qtbot.waitSignal(task.succeeded, timeout=30000) as blocker:
        task.start()
    assert blocker.args == [42]
    assert seen == {"work": False, "progress_gui": True}


def test_a_labbench_error_arrives_as_its_message(qtbot):
    def work(progress):
        raise DataError("/data/x.png: not an image")

    task = BackgroundTask(work)
    with qtbot.waitSignal(task.failed, timeout=30000) as blocker:
        task.start()
    assert blocker.args == ["/data/x.png: not an image"]


def test_cancel_reaches_the_work_through_progress(qtbot):
    release = threading.Event()

    def work(progress):
        release.wait(5)
        if not progress(1, 10):
            raise InterruptedError
        return "finished anyway"

    task = BackgroundTask(work)
    with qtbot.waitSignal(task.cancelled, timeout=30000):
        task.start()
        task.cancel()
        release.set()

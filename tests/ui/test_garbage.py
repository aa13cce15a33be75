"""Garbage is collected in the GUI thread only: a collection a worker thread would have triggered waits for the GUI's timer."""

from __future__ import annotations

import gc
import threading

from PySide6.QtWidgets import QWidget

from ui.garbage import collect_in_gui_thread


class Cycle:
    """A Qt widget kept alive only by a reference cycle: freed by the cycle collector alone."""

    def __init__(self) -> None:
        self.me = self
        self.widget = QWidget()
        self.widget.destroyed.connect(lambda: freed.append(threading.current_thread().name))


freed: list[str] = []


def test_a_cycle_holding_a_widget_is_freed_by_the_gui_thread_not_by_a_worker(qapp, qtbot):
    collector = collect_in_gui_thread(qapp)
    assert collect_in_gui_thread(qapp) is collector and not gc.isenabled()
    freed.clear()
    Cycle()  # now garbage, in a cycle

    kept: list = []

    def allocate() -> None:  # enough live allocations to trip every threshold of an automatic collector
        kept.append([[] for _ in range(50_000)])

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert freed == []  # the worker did not collect it
    qtbot.waitUntil(lambda: bool(freed), timeout=5000)
    assert freed == [threading.main_thread().name]
    kept.clear()

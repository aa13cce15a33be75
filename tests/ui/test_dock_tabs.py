"""Dock tab bars: after tabifying into nested layouts and restoring states, exactly one live bar per group."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QTabBar

from ui.widgets.dock_tabs import StaleTabBarSweeper

# The window's panels under one-letter titles (with these, Qt 6.12 reliably leaves a stale bar).
TITLES = {"browser": "A", "preview": "B", "plots": "C", "config": "D", "log": "E", "runs": "F",
          "i1": "G", "i2": "H", "i3": "I"}
GROUPS = [["C", "G", "H", "I"], ["E", "F"]]


def on_screen_bars(window: QMainWindow) -> list[QTabBar]:
    return [b for b in window.findChildren(QTabBar)
            if b.isVisible() and b.geometry().right() >= 0 and b.geometry().bottom() >= 0]


def tabs(bar: QTabBar) -> list[str]:
    return [bar.tabText(i) for i in range(bar.count())]


def nested_window(qtbot) -> tuple[QMainWindow, dict[str, QDockWidget], StaleTabBarSweeper]:
    """The window's own shape, which leaves a stale bar in Qt 6.12: a split left column, and on the right
    a big group (plots + inspect views) beside a side panel, over a small group (log + runs)."""
    window = QMainWindow()
    qtbot.addWidget(window)
    docks = {}
    for name in TITLES:
        dock = QDockWidget(TITLES[name], window)
        dock.setObjectName(name)
        dock.setWidget(QLabel(name))
        docks[name] = dock
    sweeper = StaleTabBarSweeper(window)
    for dock in docks.values():
        sweeper.watch(dock)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["browser"])
    window.splitDockWidget(docks["browser"], docks["preview"], Qt.Orientation.Vertical)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks["plots"])
    window.splitDockWidget(docks["plots"], docks["config"], Qt.Orientation.Horizontal)
    window.splitDockWidget(docks["plots"], docks["log"], Qt.Orientation.Vertical)
    window.tabifyDockWidget(docks["log"], docks["runs"])
    for name in ("i1", "i2", "i3"):
        window.tabifyDockWidget(docks["plots"], docks[name])
    window.resize(1200, 800)
    window.show()
    return window, docks, sweeper


def settle(sweeper: StaleTabBarSweeper) -> None:
    # Real time between event passes: the stale bar only shows once Qt's layout has settled.
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.01)
    sweeper.sweep()


def test_one_bar_per_tab_group_after_tabifying(qtbot):
    window, _, sweeper = nested_window(qtbot)
    settle(sweeper)
    assert sorted(tabs(b) for b in on_screen_bars(window)) == GROUPS


def test_one_bar_per_group_after_restoring_over_a_layout(qtbot):
    window, docks, sweeper = nested_window(qtbot)
    state = window.saveState()
    docks["i2"].setFloating(True)
    docks["log"].close()
    window.restoreState(state)
    settle(sweeper)
    assert sorted(tabs(b) for b in on_screen_bars(window)) == GROUPS


def test_the_remaining_bar_switches_tabs(qtbot):
    window, docks, sweeper = nested_window(qtbot)
    window.restoreState(window.saveState())
    settle(sweeper)
    bar = next(b for b in on_screen_bars(window) if tabs(b) == ["E", "F"])
    index = tabs(bar).index("E")
    point = bar.mapTo(window, bar.tabRect(index).center())
    assert window.childAt(point) is bar  # nothing stale lies on top of it
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    # a tabbed dock behind another stays "visible" to Qt; what the person sees is its visible region
    qtbot.waitUntil(lambda: not docks["log"].visibleRegion().isEmpty() and docks["runs"].visibleRegion().isEmpty(),
                    timeout=2000)

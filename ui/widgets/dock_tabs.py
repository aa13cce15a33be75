"""Work around stale dock tab bars in QMainWindow (seen with Qt 6.12).

After ``tabifyDockWidget`` into a nested layout, or ``restoreState`` over an existing layout,
QMainWindow can leave an old tab bar on screen: a strip of tabs drawn over another panel, or a
duplicate lying on top of the live bar so that clicks go nowhere. Qt parks bars it no longer uses
off-screen; the forgotten ones stay where they were. :class:`StaleTabBarSweeper` hides every
on-screen dock tab bar that does not belong, by its tabs and its place, to a tabbed group of the
current layout.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar


def _group_titles(window: QMainWindow, dock: QDockWidget) -> list[str]:
    """Titles of the docked, open members of ``dock``'s tab group (closed ones have no tab)."""
    members = [dock] + [d for d in window.tabifiedDockWidgets(dock)
                        if d.toggleViewAction().isChecked() and not d.isFloating()]
    return sorted(d.windowTitle() for d in members)


def _belongs(window: QMainWindow, bar: QTabBar, shown: list[QDockWidget]) -> bool:
    tabs = sorted(bar.tabText(i) for i in range(bar.count()))
    g = bar.geometry()
    for dock in shown:
        d = dock.geometry()
        if abs(d.x() - g.x()) <= 2 and abs(d.width() - g.width()) <= 2 and _group_titles(window, dock) == tabs:
            return True
    return False


def stale_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """On-screen dock tab bars that no current tab group owns (and duplicates of live ones)."""
    shown = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
    stale, seen = [], set()
    # Children are in creation order; where two bars claim the same place the newer one is live.
    for bar in reversed(window.findChildren(QTabBar)):
        if bar.metaObject().className() != "QMainWindowTabBar" or not bar.isVisible():
            continue
        g = bar.geometry()
        if g.right() < 0 or g.bottom() < 0:
            continue  # parked off-screen by Qt itself
        key = (tuple(sorted(bar.tabText(i) for i in range(bar.count()))), g.x(), g.y())
        if key in seen or not _belongs(window, bar, shown):
            stale.append(bar)
        seen.add(key)
    return stale


class StaleTabBarSweeper(QObject):
    """Hides stale tab bars of ``window`` shortly after any dock moves, floats, opens or closes."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # after Qt has finished laying out
        self._timer.timeout.connect(self.sweep)

    def watch(self, dock: QDockWidget) -> None:
        dock.dockLocationChanged.connect(self.schedule)
        dock.topLevelChanged.connect(self.schedule)
        dock.visibilityChanged.connect(self.schedule)

    @Slot()
    def schedule(self, *_args) -> None:
        self._timer.start()

    @Slot()
    def sweep(self) -> int:
        """Hide the stale bars now; returns how many there were."""
        bars = stale_tab_bars(self.window)
        for bar in bars:
            bar.hide()
        return len(bars)

"""The Studies panel: the lecture's claims run as studies, their table and plot, the verdict.

- ``session``: the study in a QThread, its events as GUI-thread signals
- ``plot``: bars, a line over a numeric axis, or a heat map for two axes; click a cell to open its run
- ``panel``: the dock — choose, plan, Start/Stop, the live table, the claim beside the measured figure
"""

from ui.studies.panel import StudiesPanel

__all__ = ["StudiesPanel"]

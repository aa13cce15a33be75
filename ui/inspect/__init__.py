"""Inspect views: looking inside a run (attention, reconstructions, embeddings, collapse, affinity,
evaluation) and the lecture's explainers (InfoNCE explorer, 2-D contrastive simulator).

Each view is a widget in its own module that draws arrays computed by :mod:`labbench.evaluate`;
this package registers one dock per view with the window (see
:func:`ui.main_window.register_inspect_view`), which lists them in the Inspect menu.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QWidget

from ui.inspect.affinity import AffinityViewer
from ui.inspect.attention import AttentionViewer
from ui.inspect.collapse import CollapseDashboard
from ui.inspect.contrastive_sim import ContrastiveSimulator
from ui.inspect.embeddings import EmbeddingViewer
from ui.inspect.evaluation import EvaluationView
from ui.inspect.infonce_explorer import InfoNCEExplorer
from ui.inspect.pretext_gallery import PretextGallery
from ui.inspect.reconstruction import ReconstructionViewer
from ui.inspect.run_picker import follow_window
from ui.inspect.run_viewer import RunViewer
from ui.main_window import MainWindow, register_inspect_view


def inspect_dock(title: str, widget: QWidget, window: MainWindow) -> QDockWidget:
    """A dock holding one inspect view."""
    dock = QDockWidget(title, window)
    dock.setObjectName("inspect_" + title.lower().replace(" ", "_").replace("-", "_"))
    dock.setWidget(widget)
    return dock


def run_view(title: str, viewer_class: type[RunViewer]) -> None:
    """Register an inspector of runs that follows the run the person selects or starts."""
    def make(window: MainWindow) -> QDockWidget:
        viewer = viewer_class(window.runs_root)
        follow_window(viewer.picker, window)
        window.session.probe.connect(viewer.on_probe)
        return inspect_dock(title, viewer, window)

    register_inspect_view(title, make)


def evaluation(window: MainWindow) -> QDockWidget:
    """The results table, re-read when a run ends; it selects the run selected in the Runs panel."""
    view = EvaluationView(window.runs_root)

    def follow_selection() -> None:
        path = window.run_list.selected_path()
        if path:
            view.select_run(path)

    window.session.finished.connect(lambda _event: view.refresh())
    window.run_list.tree.itemSelectionChanged.connect(follow_selection)
    return inspect_dock("Evaluation", view, window)


def pretext_gallery(window: MainWindow) -> QDockWidget:
    """The gallery follows the image selected in the dataset browser."""
    gallery = PretextGallery()
    window.browser.image_selected.connect(gallery.set_image)
    return inspect_dock("Pretext-task gallery", gallery, window)


run_view("Attention maps", AttentionViewer)
run_view("MAE reconstructions", ReconstructionViewer)
run_view("Embeddings", EmbeddingViewer)
run_view("Collapse", CollapseDashboard)
run_view("Affinity matrix", AffinityViewer)
register_inspect_view("Evaluation", evaluation)
register_inspect_view("Pretext-task gallery", pretext_gallery)
register_inspect_view("InfoNCE explorer", lambda w: inspect_dock("InfoNCE explorer", InfoNCEExplorer(), w))
register_inspect_view("Contrastive simulator",
                      lambda w: inspect_dock("Contrastive simulator", ContrastiveSimulator(), w))

"""Inspect views: looking inside a run (attention, reconstructions, embeddings, collapse, affinity,
evaluation) and the lecture's explainers (pretext-task gallery, InfoNCE explorer, 2-D contrastive
simulator).

Each view is a widget in its own module that draws arrays computed by :mod:`labbench.evaluate`;
this package registers them with the window (see :func:`ui.main_window.register_inspect_view`),
which shows them in its Inspect window and lists them in the Inspect menu.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.inspect.affinity import AffinityViewer
from ui.inspect.attention import AttentionViewer
from ui.inspect.collapse import CollapseDashboard
from ui.inspect.contrastive_sim import ContrastiveSimulator
from ui.inspect.embeddings import EmbeddingViewer
from ui.inspect.evaluation import EvaluationView
from ui.inspect.infonce_explorer import InfoNCEExplorer
from ui.inspect.pretext_gallery import PretextGallery
from ui.inspect.reconstruction import ReconstructionViewer
from ui.inspect.run_viewer import RunViewer
from ui.main_window import MainWindow, register_inspect_view


def run_view(title: str, viewer_class: type[RunViewer], icon: str) -> None:
    """Register an inspector of the run the Inspect window follows; it refreshes on each new probe file."""
    def make(window: MainWindow) -> QWidget:
        viewer = viewer_class()
        window.session.probe.connect(viewer.on_probe)
        return viewer

    register_inspect_view(title, make, icon, follows_run=True)


def evaluation(window: MainWindow) -> QWidget:
    """The results table of the window's runs, re-read when a run ends; a row chosen there is followed."""
    view = EvaluationView(window.runs)
    view.run_selected.connect(window.inspect.follow)
    return view


def pretext_gallery(window: MainWindow) -> QWidget:
    """The gallery follows the image selected in the dataset browser."""
    gallery = PretextGallery()
    window.browser.image_selected.connect(gallery.set_image)
    return gallery


run_view("Attention maps", AttentionViewer, "attention")
run_view("MAE reconstructions", ReconstructionViewer, "reconstruction")
run_view("Embeddings", EmbeddingViewer, "embeddings")
run_view("Collapse", CollapseDashboard, "collapse")
run_view("Affinity matrix", AffinityViewer, "affinity")
register_inspect_view("Evaluation", evaluation, "evaluation", follows_run=True)
register_inspect_view("Pretext-task gallery", pretext_gallery, "pretext")
register_inspect_view("InfoNCE explorer", lambda window: InfoNCEExplorer(), "infonce")
register_inspect_view("Contrastive simulator", lambda window: ContrastiveSimulator(), "simulator")

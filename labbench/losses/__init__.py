"""Self-supervised losses and embedding statistics: pure functions, tensors in, scalar tensor out.

One module per loss; each function names its paper and formula.
"""

from labbench.losses.barlow_twins import barlow_twins
from labbench.losses.byol import byol_loss, negative_cosine
from labbench.losses.collapse import alignment, effective_rank, embedding_std, uniformity
from labbench.losses.colorization import colorization_loss, rebalancing_weights
from labbench.losses.cpc import cpc_info_nce
from labbench.losses.dino import dino_loss, teacher_distribution, update_center
from labbench.losses.ibot import ibot_patch_loss
from labbench.losses.info_nce import info_nce, info_nce_from_similarities
from labbench.losses.mae import mae_loss
from labbench.losses.nt_xent import nt_xent
from labbench.losses.vicreg import vicreg, vicreg_terms

__all__ = [
    "alignment",
    "barlow_twins",
    "byol_loss",
    "colorization_loss",
    "cpc_info_nce",
    "dino_loss",
    "effective_rank",
    "embedding_std",
    "ibot_patch_loss",
    "info_nce",
    "info_nce_from_similarities",
    "mae_loss",
    "negative_cosine",
    "nt_xent",
    "rebalancing_weights",
    "teacher_distribution",
    "uniformity",
    "update_center",
    "vicreg",
    "vicreg_terms",
]

import math

import pytest
import torch

from labbench.losses import cpc_info_nce, info_nce_from_similarities


def test_cpc_scores_every_position_against_all_positions_of_all_images() -> None:
    g = torch.Generator().manual_seed(0)
    preds, targets = torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g)
    flat_p, flat_t = preds.reshape(6, 4), targets.reshape(6, 4)
    per_query = []
    for i in range(6):
        scores = flat_t @ flat_p[i]
        negatives = torch.cat([scores[:i], scores[i + 1:]])
        per_query.append(info_nce_from_similarities(scores[i], negatives, temperature=1.0))
    torch.testing.assert_close(cpc_info_nce(preds, targets), torch.stack(per_query).mean())


def test_cpc_loss_is_log_of_candidates_when_predictions_carry_no_information() -> None:
    targets = torch.randn(2, 5, 8)
    assert cpc_info_nce(torch.zeros(2, 5, 8), targets).item() == pytest.approx(math.log(10), rel=1e-6)

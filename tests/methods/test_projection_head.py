"""The projection head g between h and z, where a method has one: the input of the linear probe on z."""

import pytest
import torch
from torch import nn

from labbench import losses
from labbench.methods import METHODS
from labbench.methods.simclr import SimCLR, SimCLRConfig
from tests.methods.conftest import build_tiny, make_tiny, random_images

#: method -> its head's output-size key (small hidden sizes keep the models tiny)
WITH_HEAD = {
    "simclr": "projection_dim", "moco": "projection_dim", "memory_bank": "projection_dim",
    "byol": "projection_dim", "simsiam": "projection_dim", "moco_v3": "projection_dim",
    "barlow_twins": "projector_dim", "vicreg": "expander_dim",
}


@pytest.mark.parametrize("name", sorted(WITH_HEAD))
def test_the_head_maps_the_encoder_output_to_the_compared_embedding(name, one_thread):
    hidden = [f"method.{key}=32" for key in ("hidden_dim", "predictor_hidden_dim") if key in METHODS[name].Config.model_fields]
    method = build_tiny(name, 16, f"method.{WITH_HEAD[name]}=24", *hidden).eval()
    with torch.no_grad():
        z = method.projection_head(method.encoder(torch.randn(4, 3, 16, 16)))
    assert z.shape == (4, 24)


def test_a_pretext_method_has_no_such_head(one_thread):
    assert build_tiny("rotation", 16).projection_head is None


def test_simclr_without_a_head_compares_h_itself(one_thread):
    method = make_tiny(SimCLR, SimCLRConfig(head="none", temperature=0.5)).eval()
    images = random_images(6)
    loss, _ = method.training_step(images, torch.Generator().manual_seed(0))
    views = method.make_views(images, torch.Generator().manual_seed(0))
    h1, h2 = method.encoder(views["view_1"]), method.encoder(views["view_2"])
    assert isinstance(method.projection_head, nn.Identity)
    torch.testing.assert_close(loss, losses.nt_xent(h1, h2, 0.5))


def test_simclr_linear_head_is_one_layer(one_thread):
    method = make_tiny(SimCLR, SimCLRConfig(head="linear", projection_dim=12))
    assert isinstance(method.projection_head, nn.Linear) and method.projection_head.out_features == 12

import pytest
import torch

from labbench.errors import ConfigError
from labbench.models.vit import VisionTransformer, patchify, unpatchify


@pytest.fixture
def vit() -> VisionTransformer:
    torch.manual_seed(0)
    return VisionTransformer(image_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=3).eval()


def test_geometry_attributes_follow_image_and_patch_size(vit):
    assert (vit.patch_size, vit.grid_size, vit.num_patches) == (8, 4, 16)
    assert (vit.embed_dim, vit.num_heads, vit.feature_dim) == (48, 3, 48)


def test_last_attention_has_one_row_per_token_and_rows_sum_to_one(vit):
    with torch.no_grad():
        attn = vit.last_attention(torch.randn(2, 3, 32, 32))
    assert attn.shape == (2, 3, 17, 17)
    assert (attn >= 0).all()
    assert torch.allclose(attn.sum(-1), torch.ones(2, 3, 17), atol=1e-5)


def test_explicit_attention_path_computes_what_the_fused_path_trains(vit):
    x = torch.randn(2, 17, 48)
    attention = vit.blocks[0].attn
    with torch.no_grad():
        explicit, _ = attention.forward_with_attention(x)
        assert torch.allclose(explicit, attention(x), atol=1e-5)


def test_forward_is_the_normed_cls_token(vit):
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(vit(x), vit.forward_tokens(x)[:, 0])


def test_keeping_every_patch_equals_the_full_forward(vit):
    x = torch.randn(2, 3, 32, 32)
    keep_all = torch.arange(16).expand(2, -1)
    with torch.no_grad():
        assert torch.allclose(vit.forward_tokens(x, keep_all), vit.forward_tokens(x), atol=1e-5)


def test_kept_patches_carry_their_positions_in_any_order(vit):
    x = torch.randn(2, 3, 32, 32)
    order = torch.stack([torch.randperm(16) for _ in range(2)])
    with torch.no_grad():
        full = vit.forward_tokens(x)
        shuffled = vit.forward_tokens(x, order)
    assert torch.allclose(shuffled[:, 0], full[:, 0], atol=1e-5)
    assert torch.allclose(shuffled[:, 1:], full[:, 1:].gather(1, order[..., None].expand(-1, -1, 48)), atol=1e-5)


def test_mae_encoder_sees_only_the_kept_patches(vit):
    x = torch.randn(1, 3, 32, 32)
    keep = torch.tensor([[1, 2, 5, 6]])  # patch 0 (top-left 8×8) is dropped, patch 1 kept
    changed_dropped, changed_kept = x.clone(), x.clone()
    changed_dropped[..., :8, :8] += 1.0
    changed_kept[..., :8, 8:16] += 1.0
    with torch.no_grad():
        tokens = vit.forward_tokens(x, keep)
        assert tokens.shape == (1, 5, 48)
        assert torch.equal(vit.forward_tokens(changed_dropped, keep), tokens)
        assert not torch.allclose(vit.forward_tokens(changed_kept, keep), tokens)


def test_other_image_sizes_use_interpolated_position_embeddings(vit):
    with torch.no_grad():
        small = vit.forward_tokens(torch.randn(2, 3, 16, 16))  # a DINO local crop
        large = vit.last_attention(torch.randn(2, 3, 48, 48))
        wide = vit(torch.randn(2, 3, 32, 64))
    assert small.shape == (2, 1 + 4, 48)
    assert large.shape == (2, 3, 1 + 36, 1 + 36)
    assert wide.shape == (2, 48)


def test_patch_size_must_divide_the_image_size():
    with pytest.raises(ConfigError, match="backbone.patch_size"):
        VisionTransformer(image_size=30, patch_size=4)


def test_patchify_orders_patches_row_major_and_unpatchify_inverts_it():
    images = torch.randn(2, 3, 12, 12)
    patches = patchify(images, 4)
    assert patches.shape == (2, 9, 4 * 4 * 3)
    second = images[:, :, 0:4, 4:8].permute(0, 2, 3, 1).reshape(2, -1)  # row 0, column 1
    assert torch.equal(patches[:, 1], second)
    assert torch.equal(unpatchify(patches, 4), images)

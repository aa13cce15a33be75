"""MoCo's mechanics: a FIFO queue of keys, a key encoder moved only by EMA, shuffled BN, and real steps."""

import math

import pytest
import torch
import torch.nn.functional as F

from labbench.config import AugmentConfig
from labbench.engine import StepEvent, Trainer
from labbench.engine.checkpoint import load_checkpoint
from labbench.methods.moco import MoCo, MoCoConfig, shuffle_batch, unshuffle_batch
from labbench.run_config import RunConfig, apply_overrides
from tests.methods.conftest import GENTLE_VIEWS, TINY_RUN, make_tiny, random_images


def _moco(dataset_size=None, seed=0, **cfg) -> MoCo:
    return make_tiny(MoCo, MoCoConfig(**{"projection_dim": 4, **cfg}), seed, dataset_size=dataset_size)


def _gen(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _key_params(moco: MoCo) -> list[torch.Tensor]:
    return [*moco.key_encoder.parameters(), *moco.key_head.parameters()]


def _query_params(moco: MoCo) -> list[torch.Tensor]:
    return [*moco.encoder.parameters(), *moco.head.parameters()]


def test_moco_queue_is_fifo_and_the_pointer_wraps():
    moco = _moco(queue_size=6)
    a, b = F.normalize(torch.randn(4, 4), dim=1), F.normalize(torch.randn(4, 4), dim=1)
    moco.enqueue(a)
    assert torch.equal(moco.queue[:4], a) and moco.queue_ptr.item() == 4
    moco.enqueue(b)
    # b fills slots 4 and 5, then wraps round over the two oldest keys, a[0] and a[1]
    assert torch.equal(moco.queue, torch.cat([b[2:], a[2:], b[:2]]))
    assert moco.queue_ptr.item() == 2


def test_queue_is_clamped_to_the_training_set_size_while_the_config_keeps_the_paper_value():
    assert MoCoConfig().queue_size == 65536
    assert _moco(dataset_size=100).queue.shape == (100, 4)
    assert _moco(queue_size=50, dataset_size=100).queue.shape == (50, 4)


def test_keys_carry_no_gradient_and_the_key_encoder_is_never_trained():
    moco = _moco(dataset_size=64)
    loss, _ = moco(random_images(), _gen())
    loss.backward()
    assert all(not p.requires_grad and p.grad is None for p in _key_params(moco))
    assert all(p.grad is not None for p in _query_params(moco))
    trained = {id(p) for group in moco.param_groups(0.0) for p in group["params"]}
    assert not trained & {id(p) for p in _key_params(moco)}


def test_after_a_real_step_the_key_encoder_moves_by_ema_and_the_keys_are_enqueued():
    moco = _moco(dataset_size=64, momentum=0.9)
    optimizer = torch.optim.SGD(moco.parameters(), lr=0.5)
    queue_before = moco.queue.clone()
    loss, _ = moco(random_images(), _gen())
    assert torch.equal(moco.queue, queue_before)  # nothing is enqueued before the step
    loss.backward()
    optimizer.step()
    keys_before = [p.clone() for p in _key_params(moco)]
    moco.after_step(0, 10)
    for k, k0, q in zip(_key_params(moco), keys_before, _query_params(moco)):
        assert torch.allclose(k, 0.9 * k0 + 0.1 * q, atol=1e-6)
    assert not torch.allclose(_key_params(moco)[0], keys_before[0])
    # the 16 new keys sit at the pointer's old place, unit length; the rest of the queue is untouched
    assert moco.queue_ptr.item() == 16
    assert not torch.isclose(moco.queue[:16], queue_before[:16]).all(dim=1).any()
    assert torch.allclose(moco.queue[:16].norm(dim=1), torch.ones(16))
    assert torch.equal(moco.queue[16:], queue_before[16:])


def test_cosine_momentum_rises_to_one_when_asked():
    moco = _moco(momentum_cosine=True)
    moco.after_step(0, 100)
    assert moco.current_momentum() == pytest.approx(0.999)
    moco.after_step(99, 100)
    assert moco.current_momentum() == pytest.approx(1.0, abs=1e-6)
    assert _moco().current_momentum() == 0.999


def test_unshuffle_restores_the_order_of_a_shuffled_batch():
    x = torch.arange(24.0).reshape(12, 2)
    shuffled, unshuffle = shuffle_batch(x, _gen())
    assert not torch.equal(shuffled, x)
    assert torch.equal(shuffled[:, 0].sort().values, x[:, 0])
    assert torch.equal(unshuffle_batch(shuffled, unshuffle), x)


def test_shuffled_bn_changes_which_images_share_statistics_but_not_which_key_is_whose():
    moco = _moco(bn_group_size=4)
    x = torch.randn(16, 3, 16, 16)

    def keys(shuffle: bool) -> torch.Tensor:
        moco.cfg.shuffle_bn = shuffle
        return moco.keys(x, _gen())

    # batch statistics per group of 4: shuffling puts each key among other images
    assert not torch.allclose(keys(True), keys(False), atol=1e-4)
    # with the running statistics instead, keys depend on their own image only: unshuffle maps them back
    moco.eval()
    assert torch.allclose(keys(True), keys(False), atol=1e-5)


def test_v1_has_a_linear_head_and_no_blur_v2_an_mlp_head_blur_and_a_warmer_temperature():
    v1, v2 = _moco(version=1), _moco(version=2)
    assert isinstance(v1.head, torch.nn.Linear) and v1.temperature == 0.07 and v1.pipeline.blur_p == 0.0
    assert len([m for m in v2.head if isinstance(m, torch.nn.Linear)]) == 2
    assert v2.temperature == 0.2 and v2.pipeline.blur_p == AugmentConfig().blur_p


def test_preview_shows_the_query_and_key_views():
    panels = _moco().preview(random_images(1)[0], _gen())
    assert [(p.title, p.group) for p in panels] == [("query", "views"), ("key", "views")]
    assert all(p.image.shape == (16, 16, 3) and 0 <= p.image.min() and p.image.max() <= 1 for p in panels)


def test_state_dict_round_trip_keeps_the_queue_its_pointer_and_the_key_encoder():
    moco = _moco(dataset_size=64)
    moco.enqueue(F.normalize(torch.randn(5, 4), dim=1))
    other = _moco(dataset_size=64, seed=1)
    other.load_state_dict(moco.state_dict())
    assert torch.equal(other.queue, moco.queue) and other.queue_ptr.item() == 5
    assert all(torch.equal(a, b) for a, b in zip(_key_params(other), _key_params(moco)))


def test_a_short_run_learns_once_the_queue_is_full(tmp_path):
    cfg = apply_overrides(RunConfig(), [
        *TINY_RUN, "method.name=moco", "method.queue_size=64", "method.projection_dim=16", "method.bn_group_size=16",
        *GENTLE_VIEWS,
    ])
    events = []
    trainer = Trainer(cfg, [events.append], runs_root=tmp_path)
    assert trainer.fit().status == "completed"
    losses = [e.loss for e in events if isinstance(e, StepEvent)]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    # the first steps score against the random initial queue; once two batches of keys fill it, the loss falls
    assert sum(losses[-5:]) / 5 < sum(losses[2:7]) / 5
    assert trainer.method.queue.shape[0] == 64
    saved = load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")["model"]
    assert torch.equal(saved["queue"], trainer.method.queue) and saved["queue_ptr"].item() == 20 * 32 % 64

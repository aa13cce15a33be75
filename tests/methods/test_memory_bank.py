"""InstDisc's memory bank: one entry per training image, momentum updates, and the trainer's indices."""

import math

import pytest
import torch
import torch.nn.functional as F

from labbench.engine import Trainer
from labbench.errors import LabbenchError
from labbench.methods.memory_bank import MemoryBank, MemoryBankConfig
from labbench.run_config import RunConfig, apply_overrides
from tests.methods.conftest import TINY_RUN, make_tiny, random_images, short_run

BANK = ["method.name=memory_bank", "method.num_negatives=64", "method.projection_dim=16"]


def _bank(dataset_size=20, seed=0, **cfg) -> MemoryBank:
    cfg = MemoryBankConfig(**{"projection_dim": 4, "num_negatives": 8, **cfg})
    return make_tiny(MemoryBank, cfg, seed, dataset_size=dataset_size)


def test_paper_defaults():
    cfg = MemoryBankConfig()
    assert (cfg.num_negatives, cfg.bank_momentum, cfg.temperature, cfg.projection_dim) == (4096, 0.5, 0.07, 128)


def test_the_bank_holds_one_unit_feature_per_training_image():
    bank = _bank(dataset_size=20).bank
    assert bank.shape == (20, 4) and torch.allclose(bank.norm(dim=1), torch.ones(20))


def test_bank_entries_update_with_the_momentum_formula():
    method = _bank(bank_momentum=0.5)
    before = method.bank.clone()
    idx = torch.tensor([3, 7, 11])
    features = F.normalize(torch.randn(3, 4), dim=1)
    method.update_bank(features, idx)
    assert torch.allclose(method.bank[idx], F.normalize(0.5 * before[idx] + 0.5 * features, dim=1))
    others = torch.ones(20, dtype=torch.bool)
    others[idx] = False
    assert torch.equal(method.bank[others], before[others])


def test_a_step_updates_exactly_the_entries_of_its_images_after_the_optimiser_step():
    method = _bank()
    before = method.bank.clone()
    idx = torch.arange(8) * 2
    loss, metrics = method(random_images(8), torch.Generator().manual_seed(1), indices=idx)
    loss.backward()
    assert torch.equal(method.bank, before)
    method.after_step(0, 10)
    changed = (method.bank != before).any(dim=1)
    assert changed.nonzero().squeeze(1).tolist() == idx.tolist()
    assert -1 <= metrics["positive_similarity"] <= 1


def test_training_without_indices_is_refused_with_a_message():
    with pytest.raises(LabbenchError, match="index"):
        _bank()(random_images(8), torch.Generator().manual_seed(1))
    with pytest.raises(LabbenchError, match="index"):
        _bank(dataset_size=None)(random_images(8), torch.Generator().manual_seed(1), indices=torch.arange(8))


def test_state_dict_round_trip_keeps_the_bank():
    method = _bank()
    method.update_bank(torch.ones(2, 4), torch.tensor([0, 1]))
    other = _bank(seed=1)
    other.load_state_dict(method.state_dict())
    assert torch.equal(other.bank, method.bank)


def test_preview_shows_the_single_view():
    panels = _bank().preview(random_images(1)[0], torch.Generator().manual_seed(1))
    assert [(p.title, p.group) for p in panels] == [("view", "views")]


def test_the_trainer_hands_over_the_indices_of_the_images_in_each_batch(tmp_path, monkeypatch):
    seen = []
    original = MemoryBank.training_step

    def recording(self, images, g, indices=None):
        seen.append((images.clone(), indices.clone()))
        return original(self, images, g, indices=indices)

    monkeypatch.setattr(MemoryBank, "training_step", recording)
    cfg = apply_overrides(RunConfig(), [*TINY_RUN, *BANK, "train.epochs=1"])
    trainer = Trainer(cfg, runs_root=tmp_path)
    assert trainer.fit().status == "completed"
    assert trainer.method.bank.shape[0] == len(trainer.train_set) == 128
    assert len(seen) == 4
    for images, indices in seen:
        assert torch.equal(images, trainer.train_set.images[indices])
    # one epoch visits every image once
    assert sorted(torch.cat([i for _, i in seen]).tolist()) == list(range(128))


def test_a_short_run_learns_once_the_bank_holds_real_features(tmp_path):
    losses = [e.loss for e in short_run(tmp_path, *BANK)]
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    # the first epoch's positives are the bank's random init; afterwards they are the images' own features
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4

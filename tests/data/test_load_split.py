"""The single entry point: every source name is served, and every source returns the same kind of store."""

import pytest
import torch

from labbench.config import DataConfig
from labbench.data import LOADERS, load_split
from labbench.sources import SOURCES


def test_every_source_of_the_table_has_a_loader_and_nothing_else_does():
    assert set(LOADERS) == set(SOURCES)


@pytest.mark.parametrize("source", ["shapes", "digits", "photos", "folder"])
def test_sources_return_square_rgb_uint8_at_the_image_size(tmp_path, write_noise, source):
    for i in range(6):
        write_noise(tmp_path / f"{i}.png", size=(20 + i, 13), seed=i)
    cfg = DataConfig(source=source, root=str(tmp_path), image_size=24, num_images=140)
    split = load_split(cfg)
    for part in (split.train, split.eval):
        assert len(part) > 0
        assert part.images.dtype == torch.uint8 and part.images.shape[1:] == (3, 24, 24)
        assert part.labels is None or (part.labels.dtype == torch.int64 and len(part.labels) == len(part))


def test_repeated_loads_give_the_same_split():
    cfg = DataConfig(source="shapes", num_images=200, image_size=16, seed=3)
    a, b = load_split(cfg), load_split(cfg)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.eval.labels, b.eval.labels)

"""Sets that ship with scikit-learn and scikit-image: they must load with no network at all."""

import socket

import pytest
import torch

from labbench.config import DataConfig
from labbench.data.bundled import PHOTOS, load_digits, load_photos, photo_crops
from labbench.errors import DataError


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_digits_are_upscaled_rgb_with_ten_classes(no_network):
    split = load_digits(DataConfig(source="digits", image_size=32, num_images=0, eval_fraction=0.2))
    assert len(split.train) + len(split.eval) == 1797
    assert split.train.images.shape[1:] == (3, 32, 32)
    assert split.train.class_names == [str(d) for d in range(10)]
    assert set(split.eval.labels.tolist()) == set(range(10))
    assert split.train.images.max() > 200, "ink is bright on a dark ground"


def test_digits_respect_the_image_cap():
    split = load_digits(DataConfig(source="digits", num_images=100))
    assert len(split.train) + len(split.eval) == 100


def test_every_bundled_photo_loads_offline(no_network):
    data = photo_crops.__wrapped__(len(PHOTOS) * 2, 24, 0)
    assert data.images.shape == (len(PHOTOS) * 2, 3, 24, 24)
    assert torch.bincount(data.labels).tolist() == [2] * len(PHOTOS)


def test_photo_crops_differ_within_a_photo_and_repeat_by_seed():
    data = photo_crops(140, 32, 0)
    first = data.images[data.labels == 0].float()
    assert (first[0] - first[1]).abs().mean() > 5, "two crops of one photo look the same"
    assert torch.equal(photo_crops.__wrapped__(140, 32, 0).images, data.images)
    assert not torch.equal(photo_crops.__wrapped__(140, 32, 1).images, data.images)


def test_photos_split_keeps_every_photo_on_both_sides():
    split = load_photos(DataConfig(source="photos", num_images=280, image_size=16))
    assert split.train.class_names == list(PHOTOS)
    assert set(split.eval.labels.tolist()) == set(range(len(PHOTOS)))
    with pytest.raises(DataError, match="data.num_images"):
        load_photos(DataConfig(source="photos", num_images=0))

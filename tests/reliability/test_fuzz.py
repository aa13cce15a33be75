"""Random configs, TOML text, overrides and file bytes: the only exceptions that ever escape are the
project's own LabbenchError subclasses, whose messages a person can act on."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labbench.config import DataConfig
from labbench.data import load_split
from labbench.data.decode import decode_files, decode_image
from labbench.errors import ConfigError, DataError, LabbenchError
from labbench.run_config import RunConfig, apply_overrides, load_config, validate_config

# PIL warns about the damaged EXIF blocks random bytes make; the decode result is what is checked
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SECTIONS = ["data", "augment", "backbone", "method", "optim", "train", "eval"]
KEYS = SECTIONS + [
    "name", "source", "image_size", "num_images", "crop_scale", "flip_p", "width", "patch_size", "depth",
    "temperature", "projection_dim", "lr", "betas", "warmup_epochs", "epochs", "batch_size", "device",
    "max_steps", "knn_k", "probe_images", "simclr", "mae", "dino", "cnn", "vit_tiny",
]
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
           | st.sampled_from(KEYS) | st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5),
                      max_leaves=20)
configs = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), values, max_size=6)


@FUZZ
@given(configs)
def test_random_config_data_validates_or_raises_a_config_error(data):
    try:
        assert isinstance(validate_config(data), RunConfig)
    except ConfigError as err:
        assert str(err)


TOML_PIECES = st.sampled_from([
    "[train]\n", "[method]\n", "[data]\n", "epochs = 3\n", 'name = "mae"\n', "lr = nan\n", "batch_size = -1\n",
    "image_size = 1e9\n", "crop_scale = [0.5]\n", "[[x]]\n", "a.b.c = 1\n", '"\\u0000" = 1\n', "=\n", "[\n",
    "x = {a = 1}\n", "betas = [1, 'a']\n", "device = 'cuda'\n", "\xff", "\x00",
])


@FUZZ
@given(st.lists(TOML_PIECES | st.text(max_size=20), max_size=10).map("".join) | st.binary(max_size=64))
def test_random_toml_files_load_or_raise_a_config_error(text):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "preset.toml")
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            load_config(path)
        except ConfigError as err:
            assert str(err)


OVERRIDE_KEYS = ["train.epochs", "method.name", "method.temperature", "optim.lr", "data.source", "backbone.name",
                 "train", "nosuch.key", "method.name.x", "", ".", "augment.crop_scale", "eval.knn_k"]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(OVERRIDE_KEYS) | st.text(max_size=8),
                          st.sampled_from(["=", "", "=="]),
                          st.sampled_from(["1", "-1", "nan", "[1, 2]", "{a=1}", "'x'", "mae", "true", "[", "1e400"])
                          | st.text(max_size=8)).map("".join), max_size=4))
def test_random_overrides_apply_or_raise_a_config_error(overrides):
    try:
        apply_overrides(RunConfig(), overrides)
    except ConfigError as err:
        assert str(err)


MAGIC = st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00",
                         b"RIFF\x00\x00\x00\x00WEBPVP8 "])


@FUZZ
@given(st.tuples(MAGIC, st.binary(max_size=300)).map(b"".join),
       st.sampled_from([".png", ".jpg", ".gif", ".bmp", ".tif", ".webp"]))
def test_random_bytes_decode_or_raise_a_data_error(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "x" + suffix)
        with open(path, "wb") as f:
            f.write(content)
        try:
            pixels = decode_image(path, 8)
            assert pixels.shape == (3, 8, 8)
        except DataError as err:
            assert str(err).startswith(path)
        decoded = decode_files([path], 8)  # the batch decoder skips instead of raising
        assert len(decoded.kept) + len(decoded.skipped) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["a/", "b/", "", "train/", "test/"]),
                          st.tuples(MAGIC, st.binary(max_size=200)).map(b"".join)), max_size=6))
def test_random_folders_load_or_raise_a_labbench_error(files):
    with tempfile.TemporaryDirectory() as root:
        for i, (sub, content) in enumerate(files):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
            with open(os.path.join(root, sub, f"{i}.png"), "wb") as f:
                f.write(content)
        try:
            split = load_split(DataConfig(source="folder", root=root, image_size=8, num_images=0))
            assert len(split.train) > 0 and len(split.eval) > 0
        except LabbenchError as err:
            assert str(err)


FILE_MAGIC = st.sampled_from([b"", b"PK\x03\x04", b"\x80\x02", b"\x80\x04\x95", b"\x08\x00\x00\x00\x00\x00\x00\x00{",
                              b"\x08\x07\x12\x04", b"PK\x05\x06" + bytes(18)])


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(FILE_MAGIC, st.binary(max_size=200)).map(b"".join),
       st.sampled_from([".pt", ".safetensors", ".ts", ".onnx"]))
def test_random_checkpoint_and_encoder_files_raise_only_labbench_errors(content, suffix):
    from labbench.engine.checkpoint import load_checkpoint
    from labbench.export import load_encoder

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model" + suffix)
        with open(path, "wb") as f:
            f.write(content)
        for load in (load_checkpoint, load_encoder):
            try:
                load(path)
            except LabbenchError as err:
                assert path in str(err)

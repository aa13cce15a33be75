"""Decoding files into the uint8 store: any mode to RGB, square crops, and bad files skipped with a reason."""

import builtins

import numpy as np
import pytest
import torch
from PIL import Image

from labbench.data.decode import decode_files, decode_image


def _colour(path, size=8):
    """The mean RGB of the decoded image, rounded."""
    return decode_image(str(path), size).reshape(3, -1).mean(axis=1).round().astype(int).tolist()


@pytest.mark.parametrize("name", ["a.jpg", "b.JPEG", "c.png", "d.webp", "e.bmp", "f.tif", "g.TIFF"])
def test_common_formats_decode_to_rgb_squares(tmp_path, write_image, name):
    path = write_image(tmp_path / name, size=(20, 14), colour=(40, 160, 220))
    out = decode_image(str(path), 8)
    assert out.shape == (3, 8, 8) and out.dtype == np.uint8
    assert np.allclose(out.reshape(3, -1).mean(axis=1), (40, 160, 220), atol=6)


def test_cmyk_and_grey_and_palette_become_rgb(tmp_path, write_image):
    cmyk = write_image(tmp_path / "cmyk.jpg", colour=(250, 10, 10), mode="CMYK")
    assert _colour(cmyk) == pytest.approx([250, 10, 10], abs=8)
    assert _colour(write_image(tmp_path / "grey.png", colour=(90, 90, 90), mode="L")) == [90, 90, 90]
    assert _colour(write_image(tmp_path / "bw.png", colour=(255, 255, 255), mode="1")) == [255, 255, 255]
    palette = write_image(tmp_path / "pal.png", colour=(10, 200, 30), mode="P")
    assert _colour(palette) == pytest.approx([10, 200, 30], abs=3)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((6, 6), 32896, dtype=np.uint16)).save(path)  # 32896 = 128 × 257
    assert Image.open(path).mode.startswith("I")
    assert _colour(path) == [128, 128, 128]


def test_transparency_is_composited_on_white(tmp_path):
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (6, 6), (255, 0, 0, 0)).save(clear)
    half = tmp_path / "half.png"
    Image.new("RGBA", (6, 6), (0, 0, 255, 128)).save(half)
    grey_alpha = tmp_path / "la.png"
    Image.new("LA", (6, 6), (0, 0)).save(grey_alpha)
    palette = tmp_path / "pal.png"
    indexed = Image.new("P", (6, 6), 1)
    indexed.putpalette([0, 0, 0, 255, 0, 0])
    indexed.save(palette, transparency=1)  # every pixel is the transparent red entry
    assert _colour(clear) == [255, 255, 255]
    assert _colour(half) == pytest.approx([127, 127, 255], abs=2)
    assert _colour(grey_alpha) == [255, 255, 255]
    assert _colour(palette) == [255, 255, 255]


def test_wide_image_is_cropped_to_its_centre(tmp_path):
    pixels = np.zeros((10, 30, 3), dtype=np.uint8)
    pixels[:, 8:22] = 255  # white middle, black sides
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    assert decode_image(str(tmp_path / "wide.png"), 5).min() == 255


def test_small_image_is_upscaled(tmp_path, write_noise):
    out = decode_image(str(write_noise(tmp_path / "tiny.png", size=(4, 4))), 32)
    assert out.shape == (3, 32, 32)


def test_exif_rotation_is_applied(tmp_path):
    pixels = np.zeros((16, 16, 3), dtype=np.uint8)
    pixels[:, :8] = (255, 0, 0)
    pixels[:, 8:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 3  # stored upside down: shown turned by 180°
    Image.fromarray(pixels).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    out = decode_image(str(tmp_path / "turned.jpg"), 16)
    assert out[2, :, :4].mean() > 200 and out[0, :, :4].mean() < 60, "blue is on the left once turned"


def test_bad_files_are_skipped_with_a_reason(tmp_path, write_image, monkeypatch):
    good = write_image(tmp_path / "good.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "garbage.jpg").write_bytes(np.random.default_rng(0).bytes(500))
    whole = write_image(tmp_path / "whole.png", size=(64, 64)).read_bytes()
    (tmp_path / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "gone.png").symlink_to(tmp_path / "missing-target.png")
    locked = write_image(tmp_path / "locked.png")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # as for a file without read permission (tests may run as root)
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    paths = [str(p) for p in (good, tmp_path / "empty.png", tmp_path / "garbage.jpg", tmp_path / "truncated.png",
                              tmp_path / "gone.png", locked)]
    out = decode_files(paths, 8)
    assert out.kept.tolist() == [0]
    assert out.images.shape == (1, 3, 8, 8)
    reasons = dict(out.skipped)
    assert reasons[paths[1]] == "empty file (0 bytes)"
    assert "not an image" in reasons[paths[2]]
    assert "truncated" in reasons[paths[3]]
    assert "not found" in reasons[paths[4]]
    assert reasons[paths[5]] == "permission denied"


@pytest.mark.parametrize("pixels", [40 * 40, 60 * 60])  # past the limit (PIL warns), past twice it (PIL raises)
def test_decompression_bombs_are_skipped(tmp_path, write_image, monkeypatch, pixels):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    side = int(pixels**0.5)
    bomb = write_image(tmp_path / "bomb.png", size=(side, side))
    small = write_image(tmp_path / "small.png", size=(20, 20))
    out = decode_files([str(bomb), str(small)], 8)
    assert out.kept.tolist() == [1]
    assert "decompression bomb" in out.skipped[0][1]


def test_kept_images_stay_in_file_order_after_a_skip(tmp_path, write_image):
    paths = [str(write_image(tmp_path / f"{i}.png", colour=(i * 40, 0, 0))) for i in range(5)]
    (tmp_path / "2.png").write_bytes(b"broken")
    out = decode_files(paths, 4)
    assert out.kept.tolist() == [0, 1, 3, 4]
    assert out.images[:, 0, 0, 0].tolist() == [0, 40, 120, 160]


def test_repeated_decode_in_one_process_is_reused(tmp_path, write_noise):
    paths = [str(write_noise(tmp_path / f"{i}.png", seed=i)) for i in range(3)]
    first = decode_files(paths, 8)
    assert decode_files(paths, 8) is first
    write_noise(tmp_path / "1.png", size=(14, 10), seed=9)  # changed on disk: decoded again
    again = decode_files(paths, 8)
    assert again is not first and not torch.equal(again.images[1], first.images[1])

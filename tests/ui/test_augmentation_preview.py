"""The augmentation preview draws the method's own views and follows the config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labbench.methods import PreviewPanel
from ui.docks.augmentation_preview import AugmentationPreview, order_panels
from ui.state import ConfigState


def colourful_image(size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)


@pytest.fixture
def preview(qtbot, tiny_config):
    widget = AugmentationPreview(ConfigState(tiny_config))
    qtbot.addWidget(widget)
    widget.resize(500, 600)
    widget.show()
    return widget


def render(preview, qtbot, action) -> list[PreviewPanel]:
    with qtbot.waitSignal(preview.rendered, timeout=60000) as blocker:
        action()
    return blocker.args[0]


def test_selected_image_is_shown_as_the_methods_views(preview, qtbot):
    panels = render(preview, qtbot, lambda: preview.set_image(colourful_image(), "#0"))
    assert len(panels) == 2  # SimCLR: two views
    assert all(p.image.shape == (16, 16, 3) for p in panels)
    assert preview.canvas.findChildren(type(preview.caption))  # tiles were drawn


def test_changing_a_config_field_changes_the_preview(preview, qtbot):
    render(preview, qtbot, lambda: preview.set_image(colourful_image(), "#0"))
    state = preview.state
    panels = render(preview, qtbot, lambda: state.update("augment", {"grayscale_p": 1.0, "jitter_p": 0.0}))
    for p in panels:
        assert np.allclose(p.image[..., 0], p.image[..., 1], atol=1e-2)  # every view is grey now


def test_the_same_seed_redraws_the_same_views_and_reroll_draws_new_ones(preview, qtbot):
    first = render(preview, qtbot, lambda: preview.set_image(colourful_image(), "#0"))
    again = render(preview, qtbot, preview.redraw)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again, strict=True))
    rerolled = render(preview, qtbot, preview.reroll)
    assert not all(np.array_equal(a.image, b.image) for a, b in zip(first, rerolled, strict=True))


def test_sliders_edit_the_shared_augment_config(preview, qtbot):
    row = preview.sliders[("solarize_p", None)]
    row.slider.setValue(100)
    assert preview.state.config.augment.solarize_p == 1.0
    preview.state.update("augment", {"flip_p": 0.25})
    assert preview.sliders[("flip_p", None)].value() == 0.25


def test_the_crop_scale_slider_stops_short_of_a_crop_of_zero_area(preview):
    low = preview.sliders[("crop_scale", 0)]
    low.slider.setValue(0)
    assert low.value() == 0.01
    assert preview.state.config.augment.crop_scale[0] == 0.01 and preview.error.isHidden()


def test_an_invalid_slider_setting_says_why_and_keeps_the_config(preview):
    preview.sliders[("crop_scale", 1)].slider.setValue(50)
    before = preview.state.config.augment.crop_scale
    preview.sliders[("crop_scale", 0)].slider.setValue(90)  # the low end above the high end
    assert not preview.error.isHidden()
    assert "crop_scale" in preview.error.text()
    assert preview.state.config.augment.crop_scale == before


def test_groups_keep_their_order_and_put_larger_views_first():
    def panel(title, size, group):
        return PreviewPanel(title, np.zeros((size, size, 3)), group)

    panels = [panel("g1", 32, "global"), panel("l1", 12, "local"), panel("g2", 32, "global"), panel("l2", 16, "local")]
    ordered = order_panels(panels)
    assert [g for g, _ in ordered] == ["global", "local"]
    assert [p.title for p in ordered[1][1]] == ["l2", "l1"]

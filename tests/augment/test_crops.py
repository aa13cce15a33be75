"""Crops cut at decode time: from the full-resolution image, distributed and resampled as torchvision's
RandomResizedCrop; a method's crop plan read off its own views."""

import copy
import math

import pytest
import torch
from scipy.stats import ks_2samp
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from labbench.augment import CropSpec, DecodedCrops, ViewPipeline, sample_crop_boxes, take_crop
from labbench.augment.crops import crop_boxes, cut_crops, cut_crops_on_device
from labbench.config import AugmentConfig
from labbench.run_config import RunConfig
from labbench.methods import METHODS, build_method
from tests.conftest import tiny_method_config

HEIGHT, WIDTH = 300, 500  # a landscape photo: the store would keep only its centre 300×300
SPEC = CropSpec(64, (0.08, 1.0), (3 / 4, 4 / 3))


def _photo(seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, HEIGHT), torch.linspace(0, 1, WIDTH), indexing="ij")
    smooth = torch.stack([xx, yy, (xx + yy) / 2]) * 200
    return (smooth + torch.randn(3, HEIGHT, WIDTH, generator=g) * 15).clamp(0, 255).to(torch.uint8)


def _ours(n: int) -> torch.Tensor:
    """Boxes of ``n`` images of HEIGHT×WIDTH, drawn as a streamed batch draws them."""
    sizes = torch.full((n,), HEIGHT), torch.full((n,), WIDTH)
    return crop_boxes(*sizes, [SPEC], torch.Generator().manual_seed(0))[:, 0].double()


def _torchvision(n: int) -> torch.Tensor:
    crop = v2.RandomResizedCrop(SPEC.size, scale=SPEC.scale, ratio=SPEC.ratio)
    image = torch.empty(3, HEIGHT, WIDTH)
    torch.manual_seed(0)
    boxes = [crop.make_params([image]) for _ in range(n)]
    return torch.tensor([[b["top"], b["left"], b["height"], b["width"]] for b in boxes], dtype=torch.float64)


def test_crop_areas_shapes_and_places_follow_torchvisions_random_resized_crop():
    ours, theirs = _ours(3000), _torchvision(3000)

    def area(b):
        return (b[:, 2] * b[:, 3] / (HEIGHT * WIDTH)).numpy()

    def log_aspect(b):
        return (b[:, 3] / b[:, 2]).log().numpy()

    def centre_x(b):
        return ((b[:, 1] + b[:, 3] / 2) / WIDTH).numpy()

    for stat in (area, log_aspect, centre_x):
        assert ks_2samp(stat(ours), stat(theirs)).pvalue > 0.01, stat.__name__
    assert area(ours).min() >= 0.08 - 0.01 and area(ours).max() <= 1.0
    assert math.log(3 / 4) - 0.05 <= log_aspect(ours).min() and log_aspect(ours).max() <= math.log(4 / 3) + 0.05


def test_crops_reach_the_whole_image_not_only_its_centre_square():
    boxes = _ours(2000)
    left, right = boxes[:, 1], boxes[:, 1] + boxes[:, 3]
    margin = (WIDTH - HEIGHT) / 2
    assert left.min() == 0 and right.max() == WIDTH
    assert (left < margin).float().mean() > 0.3, "a centre-square store could never start a crop here"


def test_a_cut_crop_is_pixel_for_pixel_torchvisions_random_resized_crop_of_the_original():
    image = _photo()
    transform = v2.RandomResizedCrop(SPEC.size, scale=SPEC.scale, ratio=SPEC.ratio, antialias=True)
    for seed in range(5):
        torch.manual_seed(seed)
        expected = transform(image)
        torch.manual_seed(seed)
        p = transform.make_params([image])
        box = torch.tensor([[p["top"], p["left"], p["height"], p["width"]]])
        (crop,) = cut_crops(image, box, [SPEC])
        assert torch.equal(crop, expected)


def test_the_gpu_cutter_agrees_with_torchvisions_resampling_to_a_few_grey_levels():
    images = [_photo(0), _photo(1)[:, :200, :260].contiguous()]
    plan = [SPEC, CropSpec(24, (0.05, 0.4)), CropSpec(64, None), SPEC]
    heights, widths = torch.tensor([im.shape[1] for im in images]), torch.tensor([im.shape[2] for im in images])
    boxes = crop_boxes(heights, widths, plan, torch.Generator().manual_seed(3))
    batched = cut_crops_on_device(images, boxes, plan)
    for j, spec in enumerate(plan):
        assert batched[j].shape == (2, 3, spec.size, spec.size) and batched[j].dtype == torch.uint8
        for i, image in enumerate(images):
            exact = cut_crops(image, boxes[i, j : j + 1], [spec])[0]
            assert (batched[j][i].float() - exact.float()).abs().mean() < 2.0


def test_the_whole_image_spec_is_the_centre_square_at_the_crop_size():
    image = _photo()
    box = crop_boxes(torch.tensor([HEIGHT]), torch.tensor([WIDTH]), [CropSpec(50)], torch.Generator())[0]
    assert box.tolist() == [[0, 100, 300, 300]]
    (crop,) = cut_crops(image, box, [CropSpec(50)])
    assert torch.equal(crop, TF.resized_crop(image, 0, 100, 300, 300, [50, 50], antialias=True))


def test_decoded_crops_are_handed_out_in_plan_order_and_again_on_a_second_pass():
    plan = (CropSpec(8, (0.2, 1.0)), CropSpec(4, (0.05, 0.4)))
    crops = [torch.full((2, 3, 8, 8), 10, dtype=torch.uint8), torch.full((2, 3, 4, 4), 20, dtype=torch.uint8)]
    batch = DecodedCrops(crops, plan)
    g = torch.Generator()
    assert len(batch) == 2
    for _ in range(2):
        assert take_crop(batch, plan[0], g).mean() == pytest.approx(10 / 255)
        assert take_crop(batch, plan[1], g).mean() == pytest.approx(20 / 255)
    with pytest.raises(RuntimeError, match="crop plan"):
        take_crop(batch, plan[1], g)


def test_a_view_pipeline_on_decoded_crops_runs_from_the_flip_on():
    pipeline = ViewPipeline(AugmentConfig(jitter_p=0.0, grayscale_p=0.0, blur_p=0.0, flip_p=0.0), 8)
    crop = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    view = pipeline(DecodedCrops([crop], [pipeline.crop]), torch.Generator())
    expected = (crop.float() / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(view, expected)


def _tiny(name: str) -> RunConfig:
    return tiny_method_config(name, 32, *(["method.local_crops_number=3"] if name == "dino" else []))


def test_crop_plans_are_read_off_each_methods_own_views():
    dino = build_method(_tiny("dino")).crop_plan()
    assert [s.scale for s in dino] == [(0.4, 1.0)] * 2 + [(0.05, 0.4)] * 3
    assert [s.size for s in dino][:2] == [32, 32] and dino[2].size < 32
    byol = build_method(_tiny("byol"))
    assert byol.crop_plan() == (byol.pipelines[0].crop, byol.pipelines[1].crop), "asymmetry comes after the crop"
    assert build_method(_tiny("relative_patch")).crop_plan() == (CropSpec(32),), "the whole image, no crop"
    assert len(build_method(_tiny("memory_bank")).crop_plan()) == 1


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_has_a_crop_plan_and_reading_it_changes_nothing(name):
    method = build_method(_tiny(name), dataset_size=64)
    before = copy.deepcopy(method.state_dict())
    plan = method.crop_plan()
    assert plan and all(isinstance(s, CropSpec) for s in plan)
    after = method.state_dict()
    for key, value in before.items():
        assert torch.equal(value, after[key]) if isinstance(value, torch.Tensor) else value == after[key], key


def test_boxes_of_images_of_different_sizes_fit_each_image_and_follow_the_seed():
    heights, widths = torch.tensor([300, 40, 1000, 17]), torch.tensor([500, 400, 90, 17])
    a = crop_boxes(heights, widths, [SPEC, SPEC], torch.Generator().manual_seed(7))
    assert torch.equal(a, crop_boxes(heights, widths, [SPEC, SPEC], torch.Generator().manual_seed(7)))
    assert not torch.equal(a[:, 0], a[:, 1]), "each plan entry draws its own box"
    top, left, h, w = a.unbind(-1)
    assert (top >= 0).all() and (left >= 0).all() and (h > 0).all() and (w > 0).all()
    assert (top + h <= heights[:, None]).all() and (left + w <= widths[:, None]).all()
    one_size = sample_crop_boxes(4, 17, 17, SPEC.scale, SPEC.ratio, torch.Generator().manual_seed(1))
    many = sample_crop_boxes(4, torch.full((4,), 17), torch.full((4,), 17), SPEC.scale, SPEC.ratio,
                             torch.Generator().manual_seed(1))
    assert torch.equal(one_size, many), "one size for all and a size per box draw the same boxes"

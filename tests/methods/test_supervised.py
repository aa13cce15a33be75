"""The supervised baseline: the run's backbone and views, trained on the labels the trainer hands it."""

import torch
from PIL import Image

from labbench.run_config import RunConfig, apply_overrides
from labbench.data import UNLABELED
from labbench.engine import Trainer
from labbench.methods.supervised import Supervised, SupervisedConfig
from tests.methods.conftest import GENTLE_VIEWS, TINY_RUN, make_tiny, random_images, short_run


def test_supervised_fits_the_labels_of_a_fixed_batch(one_thread):
    method = make_tiny(Supervised, SupervisedConfig(num_classes=4))
    images, labels = random_images(16), torch.arange(16) % 4
    optimizer = torch.optim.SGD(method.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(30):
        loss, metrics = method.training_step(images, torch.Generator().manual_seed(0), labels=labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 1.2 and losses[-1] < 0.3 * losses[0]
    assert metrics["train_accuracy"] > 0.9


def test_images_without_a_class_take_no_part_in_the_loss(one_thread):
    method = make_tiny(Supervised, SupervisedConfig(num_classes=4)).eval()  # eval: batch norm per image
    images = random_images(8)
    labels = torch.tensor([0, 1, 2, 3, UNLABELED, UNLABELED, UNLABELED, UNLABELED])
    loss, _ = method.training_step(images, torch.Generator().manual_seed(0), labels=labels)
    views = method.make_views(images, torch.Generator().manual_seed(0))["view"]  # the same views
    logits = method.classifier(method.encoder(views))
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits[:4], labels[:4]))


def test_a_supervised_run_learns_its_labels(tmp_path, one_thread):
    steps = short_run(tmp_path, "method.name=supervised", *GENTLE_VIEWS)
    assert steps[-1].metrics["train_accuracy"] > steps[0].metrics["train_accuracy"]
    assert steps[-1].loss < steps[0].loss


def test_too_few_classes_fail_the_run_naming_the_field(tmp_path, one_thread):
    cfg = apply_overrides(RunConfig(), [*TINY_RUN, "method.name=supervised", "method.num_classes=3"])
    result = Trainer(cfg, runs_root=tmp_path).fit()
    assert result.status == "failed" and "method.num_classes" in result.message


def test_an_unlabelled_source_fails_the_run_saying_labels_are_needed(tmp_path, one_thread):
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(40):
        Image.new("RGB", (16, 16), (6 * i, 100, 50)).save(folder / f"{i}.png")
    cfg = apply_overrides(RunConfig(), [*TINY_RUN, "method.name=supervised", "data.source=folder",
                                        f"data.root={str(folder)!r}", "train.batch_size=8"])
    result = Trainer(cfg, runs_root=tmp_path / "runs").fit()
    assert result.status == "failed" and "labels" in result.message and "supervised" in result.message

"""Where a step's images come from: the uint8 store, or shards streamed and cut at decode time."""

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from labbench.augment import CropSpec, DecodedCrops
from labbench.augment.crops import crop_boxes
from labbench.run_config import RunConfig, apply_overrides
from labbench.data import load_split
from labbench.data.decode import decode_full
from labbench.data.shards import open_pack
from labbench.engine import LogEvent, Trainer
from labbench.engine.batches import StoreBatches, StreamBatches, StreamedEpoch, decode_on_device, step_seed
from labbench.methods import METHODS, build_method
from tests.conftest import assert_same_weights, stop_and_resume, tiny_method_config

PLAN = (CropSpec(32, (0.08, 1.0)), CropSpec(16, (0.05, 0.4)))


def _streaming(pack, batch_size: int = 8) -> list[str]:
    return ["data.source=shards", f"data.root={str(pack)!r}", "data.num_images=0", "data.store=stream",
            "data.workers=0", "data.image_size=32", f"train.batch_size={batch_size}"]


def _stream_config(pack, *overrides: str) -> RunConfig:
    """SimCLR on a width-8 CNN, streamed from ``pack`` at 32 px, 8 images a step, 2 epochs."""
    return apply_overrides(RunConfig(), [
        "method.name=simclr", "method.projection_dim=16", "backbone.name=cnn", "backbone.width=8", *_streaming(pack),
        "train.epochs=2", "train.log_every_steps=1", "train.device=cpu", "train.num_threads=1", "optim.name=sgd",
        "optim.lr=0.1", "optim.warmup_epochs=0", "eval.max_bank=16", "eval.max_eval=10", "eval.knn_k=3",
        "eval.probe_images=0", *overrides,
    ])


def _streamed_train(pack):
    return load_split(_stream_config(pack).data).train


def test_a_streamed_crop_is_torchvisions_resized_crop_of_the_original_file_at_full_resolution(packed_photos, tmp_path):
    train = _streamed_train(packed_photos(per_class=6))
    order = np.arange(8).reshape(2, 4)
    item, positions = StreamedEpoch(train.images, order, PLAN, seed=3, epoch=1, rank=0, decode_here=True)[1]
    heights, widths = train.images.full_sizes(positions.numpy())
    boxes = crop_boxes(heights, widths, PLAN, torch.Generator().manual_seed(step_seed(3, 1, 0, 1)))
    for i, position in enumerate(positions.tolist()):
        original = decode_full(str(tmp_path / "photos" / train.paths[position]))
        assert original.shape[:2] == (heights[i], widths[i]) and max(original.shape[:2]) > 32, "not the 32-px store"
        original = torch.from_numpy(original).permute(2, 0, 1)
        for j, spec in enumerate(PLAN):
            expected = TF.resized_crop(original, *boxes[i, j].tolist(), [spec.size, spec.size], antialias=True)
            assert torch.equal(item.crops[j][i], expected)


def test_the_gpu_path_decodes_and_cuts_what_the_worker_path_does(packed_photos):
    train = _streamed_train(packed_photos(per_class=6))
    order = np.arange(8).reshape(1, 8)
    on_cpu, where = StreamedEpoch(train.images, order, PLAN, 0, 0, 0, decode_here=True)[0]
    encoded, where_too = StreamedEpoch(train.images, order, PLAN, 0, 0, 0, decode_here=False)[0]
    assert torch.equal(where, where_too) and len(encoded.jpegs) == 8, "every photo is a JPEG nvJPEG can decode"
    on_device = decode_on_device(encoded, PLAN, torch.device("cpu"))  # the CUDA code path, run on the CPU here
    for a, b in zip(on_device.crops, on_cpu.crops):
        assert a.shape == b.shape and (a.float() - b.float()).abs().mean() < 3.0


def test_streamed_batches_do_not_depend_on_the_number_of_decoding_processes(packed_photos):
    pack = packed_photos(per_class=12)
    train = _streamed_train(pack)
    batches = []
    for workers in (0, 2):
        source = StreamBatches(train.images, _stream_config(pack, f"data.workers={workers}"), torch.device("cpu"), 1, 0)
        source.plan = PLAN
        batches.append(list(source.epoch(1, start=0)))
    assert len(batches[0]) == len(batches[1]) >= 2
    for (a, pa), (b, pb) in zip(*batches):
        assert torch.equal(pa, pb) and all(torch.equal(x, y) for x, y in zip(a.crops, b.crops))


def test_an_epoch_started_mid_way_continues_with_the_same_batches(packed_photos):
    pack = packed_photos(per_class=12)
    source = StreamBatches(_streamed_train(pack).images, _stream_config(pack), torch.device("cpu"), 1, 0)
    source.plan = PLAN
    whole, rest = list(source.epoch(0, 0)), list(source.epoch(0, 1))
    assert len(rest) == len(whole) - 1
    assert torch.equal(rest[0][1], whole[1][1]) and torch.equal(rest[0][0].crops[0], whole[1][0].crops[0])


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_takes_a_training_step_on_a_streamed_batch(packed_photos, name, one_thread):
    pack = packed_photos(per_class=4)
    cfg = tiny_method_config(name, 32, *_streaming(pack, batch_size=4))
    train = load_split(cfg.data).train
    method = build_method(cfg, dataset_size=len(train))
    source = StreamBatches(train.images, cfg, torch.device("cpu"), 1, 0)
    source.prepare(method)
    images, positions = next(source.epoch(0, 0))
    assert isinstance(images, DecodedCrops) and len(images) == 4
    extra = {"indices": positions} if method.needs_indices else {}
    if method.needs_labels:
        extra["labels"] = train.labels[positions]
    loss, _ = method.training_step(images, torch.Generator().manual_seed(0), **extra)
    loss.backward()
    assert torch.isfinite(loss)


def test_a_streamed_run_stops_and_resumes_to_the_same_weights(packed_photos, tmp_path):
    straight, resumed = stop_and_resume(_stream_config(packed_photos(per_class=12)), tmp_path, stop_at=3)
    assert resumed.step == straight.step == 4
    assert_same_weights(straight, resumed)


def test_a_run_on_a_damaged_pack_fails_with_a_message_naming_the_shard(packed_photos, tmp_path):
    pack = packed_photos(per_class=8)
    opened = open_pack(pack)
    for shard in opened.shards:  # every image's bytes zeroed: whichever a batch reads is damaged
        path = pack / shard
        data = bytearray(path.read_bytes())
        for row in np.flatnonzero(opened.columns["shard"] == opened.shards.index(shard)):
            start, length = int(opened.columns["offset"][row]), int(opened.columns["length"][row])
            data[start : start + length] = b"\0" * length
        path.write_bytes(bytes(data))
    logs = []
    result = Trainer(_stream_config(pack, "data.store=stream"), [logs.append], runs_root=tmp_path).fit()
    assert result.status == "failed"
    assert ".tar:" in result.message and "pack the folder again" in result.message


def test_the_run_log_says_where_batches_come_from(packed_photos, tiny_config, tmp_path):
    logs = []
    Trainer(apply_overrides(_stream_config(packed_photos(per_class=8)), ["train.max_steps=1"]),
            [lambda e: logs.append(e.message) if isinstance(e, LogEvent) else None], runs_root=tmp_path).fit()
    assert any("streamed from" in m and "full-resolution" in m and "0.08–1 area crop at 32 px" in m for m in logs)
    logs.clear()
    Trainer(apply_overrides(tiny_config, ["train.max_steps=1"]),
            [lambda e: logs.append(e.message) if isinstance(e, LogEvent) else None], runs_root=tmp_path).fit()
    assert any("gathered from the uint8 store" in m for m in logs)


def test_processes_of_the_store_together_see_the_one_process_batches(tiny_config):
    images = torch.zeros(40, 3, 4, 4, dtype=torch.uint8)
    one = StoreBatches(images, tiny_config, torch.device("cpu"), 1, 0).order(2)
    ranks = [StoreBatches(images, tiny_config, torch.device("cpu"), 2, r).order(2) for r in range(2)]
    together = torch.stack([ranks[0], ranks[1]], dim=2).flatten(1)
    assert torch.equal(together, one)


@pytest.mark.slow
def test_torchrun_streams_a_pack_with_each_process_reading_its_own_shards(packed_photos, tmp_path):
    from tests.engine.test_distributed import torchrun

    pack = packed_photos(per_class=16, shard_mb=0.01)
    runs = tmp_path / "runs"
    settings = [*_streaming(pack, batch_size=8), "data.workers=1", "method.projection_dim=16", "backbone.name=cnn",
                "backbone.width=8", "train.epochs=2", "train.log_every_steps=1", "optim.name=sgd",
                "optim.warmup_epochs=0", "eval.max_bank=20", "eval.max_eval=10", "eval.knn_k=3", "eval.probe_images=0"]
    done = torchrun(["-m", "labbench", "train", "--preset", "simclr", "--runs-dir", str(runs),
                     *(a for s in settings for a in ("--set", s))], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "per process" in done.stderr and "2 processes" in done.stderr
    (run,) = runs.iterdir()
    assert (run / "checkpoints" / "last.pt").is_file()

"""``labbench data pack FOLDER OUT``: a folder of images packed once into shards that training streams."""

from __future__ import annotations

import argparse
import sys

from labbench.cli.progress import percent_reporter

#: skipped files listed one by one; the rest are counted
LISTED_SKIPS = 20


def cmd_pack(args: argparse.Namespace) -> int:
    from labbench.data.pack import pack_folder

    report = pack_folder(args.folder, args.out, shard_mb=args.shard_mb, max_side=args.max_side, seed=args.seed,
                         threads=args.threads, progress=percent_reporter("packing"))
    for path, reason in report.skipped[:LISTED_SKIPS]:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if len(report.skipped) > LISTED_SKIPS:
        print(f"… and {len(report.skipped) - LISTED_SKIPS} more skipped (all are listed in "
              f"{report.out / 'index.json'})", file=sys.stderr)
    mib = 2**20
    print(f"packed {report.images:,} images ({report.source_bytes / mib:,.1f} MiB of files) into {report.shards} "
          f"shard{'s' if report.shards != 1 else ''} ({report.bytes / mib:,.1f} MiB) in {report.seconds:.1f} s: "
          f"{report.out}")
    print(f"train on it: labbench train --data {report.out}  (or --set data.source=shards "
          f"--set data.root={report.out})")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="prepare image sets (pack a folder into shards for streaming)")
    actions = p.add_subparsers(dest="action", required=True)
    pack = actions.add_parser(
        "pack", help="pack a folder of images into WebDataset tar shards, read once, streamed by training",
        description="Every image is decoded once to check it (unreadable files are skipped and listed) and "
                    "stored as it is, in a shuffled order, in tar shards with an index. Training streams the "
                    "shards (data.source = shards) and cuts its crops from the full-resolution images.")
    pack.add_argument("folder", metavar="FOLDER", help="images: class per subfolder, train/ + val/ (or test/), or loose")
    pack.add_argument("out", metavar="OUT", help="a new (or empty) folder for the shards")
    pack.add_argument("--shard-mb", type=float, default=256.0,
                      help="size of a shard in MiB (default: 256); under torchrun every process needs shards of its own")
    pack.add_argument("--max-side", type=int, default=0,
                      help="shrink larger images to this longer side in pixels, re-encoded (default: 0, keep them as they are)")
    pack.add_argument("--seed", type=int, default=0, help="seed of the shuffled order the images are written in")
    pack.add_argument("--threads", type=int, help="decoding threads (default: one per core)")
    pack.set_defaults(func=cmd_pack)

"""Create the synthetic image-to-video benchmark (skipped when an identical one exists).

Usage:
    python datasets/prepare_synthetic.py [--root DIR] [--seed N] [--force] [--workers N]
                                         [--v3] [--set FIELD=VALUE ...]
                                         [--no-pretrain | --pretrain-only] [--no-progress]

Default root: $DETECTRON2_DATASETS/i2v_synth, with DETECTRON2_DATASETS defaulting to ./datasets.
``--set`` overrides any SynthParams field (tuples comma-separated, e.g. video_speed=0.01,0.03).
``--v3`` (or ``--set version=3``) starts from generator version 3's defaults and rewrites v3's
benchmark byte for byte. The pretraining task's folder ($DETECTRON2_DATASETS/
i2v_synth_pretrain) is written too, unless ``--no-pretrain``.
"""

import argparse
import os
import sys
import time

from i2v_plugin.synth.generator import (
    generate_synthetic,
    is_up_to_date,
)
from i2v_plugin.synth.overrides import params_with_overrides, requested_version
from i2v_plugin.synth.params import default_params, num_videos, video_splits
from i2v_plugin.synth.pretrain import ensure_pretrain_dataset


def default_root() -> str:
    """$DETECTRON2_DATASETS/i2v_synth (DETECTRON2_DATASETS defaults to ./datasets)."""
    return os.path.join(
        os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets")), "i2v_synth"
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--root", default=None, help="output folder (default: $DETECTRON2_DATASETS/i2v_synth)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (SynthParams.seed)")
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 2)")
    parser.add_argument(
        "--v3", action="store_true", help="generator version 3 with its defaults (same files)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a SynthParams field; repeatable",
    )
    pretrain = parser.add_mutually_exclusive_group()
    pretrain.add_argument(
        "--no-pretrain", action="store_true", help="skip the pretraining task's folder"
    )
    pretrain.add_argument(
        "--pretrain-only", action="store_true", help="write only the pretraining task's folder"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


def resolve_params(args: argparse.Namespace):
    """The SynthParams the arguments ask for: the defaults of the requested version (--v3 or
    ``--set version=N``; 4 otherwise), then --seed, then the --set overrides in order.

    Raises:
        ValueError for a bad override or version, naming it.
    """
    overrides = ([f"seed={args.seed}"] if args.seed is not None else []) + args.overrides
    version = requested_version(overrides)
    if args.v3:
        if version not in (None, 3):
            raise ValueError(f"--v3 contradicts --set version={version}")
        version = 3
    return params_with_overrides(default_params(version or 4), overrides)


def _summary(params) -> str:
    videos = ", ".join(f"{s} {num_videos(params, s)}" for s in video_splits(params))
    return (
        f"version {params.version}: {params.num_train_images}+{params.num_val_images}+"
        f"{params.num_tune_images} train+val+tune images ({params.image_size} px); videos "
        f"({params.video_size} px, {params.fps:g} fps): {videos}"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    root = args.root or default_root()
    try:
        params = resolve_params(args)
    except ValueError as err:
        print(f"prepare_synthetic: {err}", file=sys.stderr)
        return 2
    progress = not args.no_progress
    if not args.no_pretrain:
        pretrain_root = os.path.join(os.path.dirname(os.path.abspath(root)), "i2v_synth_pretrain")
        start = time.perf_counter()
        workers = 2 if args.workers is None else args.workers
        ensure_pretrain_dataset(pretrain_root, workers=workers, progress=progress)
        print(f"{pretrain_root}: ready ({time.perf_counter() - start:.1f} s)")
    if args.pretrain_only:
        return 0
    if not args.force and is_up_to_date(root, params):
        print(f"{root}: up to date (same parameters); use --force to regenerate")
        return 0
    start = time.perf_counter()
    generate_synthetic(root, params, force=args.force, workers=args.workers, progress=progress)
    print(f"{root}: generated in {time.perf_counter() - start:.1f} s: {_summary(params)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

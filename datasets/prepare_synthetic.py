"""Create the synthetic image-to-video benchmark (skipped when an identical one exists).

Usage:
    python datasets/prepare_synthetic.py [--root DIR] [--seed N] [--force] [--workers N]
                                         [--set FIELD=VALUE ...]

Default root: $DETECTRON2_DATASETS/i2v_synth, with DETECTRON2_DATASETS defaulting to ./datasets.
``--set`` overrides any SynthParams field (tuples comma-separated, e.g. video_speed=0.01,0.03).
"""

import argparse
import os
import sys
import time

from i2v_plugin.synth.generator import (
    SynthParams,
    generate_synthetic,
    is_up_to_date,
    params_with_overrides,
)


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
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a SynthParams field; repeatable",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    root = args.root or default_root()
    params = SynthParams()
    overrides = ([f"seed={args.seed}"] if args.seed is not None else []) + args.overrides
    try:
        params = params_with_overrides(params, overrides)
    except ValueError as err:
        print(f"prepare_synthetic: {err}", file=sys.stderr)
        return 2
    if not args.force and is_up_to_date(root, params):
        print(f"{root}: up to date (same parameters); use --force to regenerate")
        return 0
    start = time.perf_counter()
    generate_synthetic(
        root, params, force=args.force, workers=args.workers, progress=not args.no_progress
    )
    print(
        f"{root}: generated in {time.perf_counter() - start:.1f} s: "
        f"{params.num_train_images}+{params.num_val_images}+{params.num_tune_images} "
        f"train+val+tune images ({params.image_size} px), "
        f"{params.num_train_videos}+{params.num_val_videos}+{params.num_tune_videos} videos "
        f"of {params.frames_per_video} frames ({params.video_size} px, {params.fps:g} fps)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

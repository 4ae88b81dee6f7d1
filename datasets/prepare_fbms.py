"""Convert FBMS-59 sparse ground truth (.pgm / .ppm region maps) into index PNGs.

Usage:
    python datasets/prepare_fbms.py [--fbms DIR] [--splits Trainingset,Testset]
        [--classes-json TABLE.json [--shared-classes CLASSES.json]] [--unknown-to-ignore]
        [--workers N] [--force]

Reads  FBMS/<split>/<seq>/GroundTruth/<seq>Def.dat and the *_gt.pgm / *_gt.ppm files it lists
       (*PROB_gt.ppm skipped).
Writes FBMS/<split>/<seq>/GroundTruth_semantic/<frame>.png ("L" PNGs of training ids) and
       FBMS/<split>/GroundTruth_semantic.json (the class list).
Labels: region 0 -> background 0, other regions -> foreground 1; with --classes-json
({"<seq>": {"<region index>": "<class name>"}}) each region -> its class's index in the shared
class list (--shared-classes, else $DETECTRON2_DATASETS/DAVIS/shared_classes.json if present,
else the built-in default), classes outside that list -> background.
"""

import argparse
import os
import sys

from i2v_plugin.data.datasets.classes import load_shared_classes, stored_or_default_classes
from i2v_plugin.data.datasets.fbms import FOREGROUND_CLASSES
from i2v_plugin.data.prepare.fbms_groundtruth import load_class_table, prepare_fbms_split


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fbms", default=None, help="FBMS folder (default $DETECTRON2_DATASETS/FBMS)"
    )
    parser.add_argument("--splits", default="Trainingset,Testset", help="comma-separated splits")
    parser.add_argument("--classes-json", default=None, help="per-sequence region -> class table")
    parser.add_argument(
        "--shared-classes", default=None, help="class list JSON (with --classes-json)"
    )
    parser.add_argument(
        "--unknown-to-ignore",
        action="store_true",
        help="label pixels that match no region of the Def.dat 255 instead of failing",
    )
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--force", action="store_true", help="rewrite existing outputs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    root = os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))
    fbms_root = args.fbms or os.path.join(root, "FBMS")
    try:
        if args.classes_json:
            class_table = load_class_table(args.classes_json)
            if args.shared_classes:
                classes = load_shared_classes(args.shared_classes)
            else:
                classes = stored_or_default_classes(
                    os.path.join(root, "DAVIS", "shared_classes.json")
                )
        else:
            class_table, classes = None, list(FOREGROUND_CLASSES)
        print(f"{len(classes)} classes: {', '.join(classes)}")
        for split in [s for s in args.splits.split(",") if s]:
            counts = prepare_fbms_split(
                os.path.join(fbms_root, split),
                classes,
                class_table,
                unknown_to_ignore=args.unknown_to_ignore,
                workers=args.workers,
                force=args.force,
                progress=not args.no_progress,
            )
            print(
                f"{split}: {counts['converted']} converted, {counts['reused']} already done, "
                f"{counts['total']} labeled frames"
            )
    except (FileNotFoundError, ValueError) as err:
        print(f"prepare_fbms: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Remap COCO-Stuff 164k label maps to the shared classes (resumable; rerun to continue).

Usage:
    python datasets/prepare_coco_stuff.py [--coco DIR] [--classes-json FILE] [--workers N]
                                          [--splits train2017,val2017] [--force]

Reads  coco/stuffthingmaps/{train2017,val2017}/*.png  (value = COCO category_id - 1)
Writes coco/stuffthingmaps_shared/{train2017,val2017}/*.png  (value = shared class index,
       every other labeled pixel 0 = background, 255 kept) and a manifest
       coco/stuffthingmaps_shared/<split>.json holding the class list.
Class list: --classes-json, else $DETECTRON2_DATASETS/DAVIS/shared_classes.json (written by
prepare_davis_semantic.py) if it exists, else the built-in default list.
"""

import argparse
import os
import sys

from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES, load_shared_classes
from i2v_plugin.data.datasets.coco_stuff import SPLITS
from i2v_plugin.data.prepare.coco_stuff import prepare_coco_stuff


def datasets_root() -> str:
    return os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--coco", default=None, help="coco folder (default $DETECTRON2_DATASETS/coco)"
    )
    parser.add_argument("--classes-json", default=None, help="shared class list JSON")
    parser.add_argument("--splits", default=",".join(SPLITS), help="comma-separated split folders")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--force", action="store_true", help="rewrite existing outputs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


def resolve_classes(classes_json: str | None) -> tuple[list[str], str]:
    """The class list to use and where it came from."""
    if classes_json:
        return load_shared_classes(classes_json), classes_json
    davis_json = os.path.join(datasets_root(), "DAVIS", "shared_classes.json")
    if os.path.isfile(davis_json):
        return load_shared_classes(davis_json), davis_json
    return list(DEFAULT_SHARED_CLASSES), "built-in default"


def main(argv=None) -> int:
    args = parse_args(argv)
    coco_root = args.coco or os.path.join(datasets_root(), "coco")
    try:
        classes, source = resolve_classes(args.classes_json)
        print(f"{len(classes)} classes from {source}: {', '.join(classes)}")
        summary = prepare_coco_stuff(
            coco_root,
            classes,
            splits=[s for s in args.splits.split(",") if s],
            workers=args.workers,
            force=args.force,
            progress=not args.no_progress,
        )
    except (FileNotFoundError, ValueError) as err:
        print(f"prepare_coco_stuff: {err}", file=sys.stderr)
        return 2
    for split, counts in summary.items():
        print(
            f"{split}: {counts['converted']} converted, {counts['reused']} already done, "
            f"{counts['total']} total -> {os.path.join(coco_root, 'stuffthingmaps_shared', split)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

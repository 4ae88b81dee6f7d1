"""Convert DAVIS 2017 instance masks into semantic masks of the shared classes.

Usage:
    python datasets/prepare_davis_semantic.py [--davis DIR] [--classes a,b,c]
        [--annotations Annotations|Annotations_unsupervised] [--semantics FILE]
        [--categories FILE] [--workers N] [--force]

Reads  DAVIS/davis_semantics.json, DAVIS/categories.json, DAVIS/ImageSets/2017/{train,val}.txt
       and DAVIS/<annotations>/480p/<seq>/*.png (palette PNGs of object ids, 255 = void).
Writes DAVIS/shared_classes.json (the class list: DAVIS train ∩ val ∩ COCO, or --classes),
       DAVIS/<annotations>_semantic/480p/<seq>/*.png (palette PNGs of class indices; objects of
       other classes -> background 0; 255 kept) and DAVIS/<annotations>_semantic/manifest.json.
Rerunning resumes an interrupted conversion; changed classes or semantics rewrite everything.
"""

import argparse
import os
import sys

from i2v_plugin.data.prepare.davis_semantic import parse_classes_option, prepare_davis_semantic


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--davis", default=None, help="DAVIS folder (default $DETECTRON2_DATASETS/DAVIS)"
    )
    parser.add_argument(
        "--classes", default=None, help="comma-separated class list overriding the computed one"
    )
    parser.add_argument(
        "--annotations",
        default="Annotations",
        help="instance annotation folder to convert (Annotations or Annotations_unsupervised)",
    )
    parser.add_argument("--semantics", default=None, help="davis_semantics.json path")
    parser.add_argument("--categories", default=None, help="categories.json path")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--force", action="store_true", help="rewrite existing outputs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    root = os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))
    davis_root = args.davis or os.path.join(root, "DAVIS")
    try:
        classes = parse_classes_option(args.classes) if args.classes else None
        result = prepare_davis_semantic(
            davis_root,
            classes=classes,
            annotations=args.annotations,
            semantics_path=args.semantics,
            categories_path=args.categories,
            workers=args.workers,
            force=args.force,
            progress=not args.no_progress,
        )
    except (FileNotFoundError, ValueError) as err:
        print(f"prepare_davis_semantic: {err}", file=sys.stderr)
        return 2
    print(f"{len(result['classes'])} shared classes: {', '.join(result['classes'])}")
    print(f"  stored in {os.path.join(davis_root, 'shared_classes.json')}")
    print(
        f"{args.annotations}: {result['converted']} masks converted, {result['reused']} already "
        f"done, {result['total']} total -> "
        f"{os.path.join(davis_root, args.annotations + '_semantic', '480p')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

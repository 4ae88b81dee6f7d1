"""List the YouTube-BoundingBoxes videos to download, from a YTBB detection CSV.

Usage:
    python datasets/list_ytbb_videos.py yt_bb_detection_train.csv [--classes person,dog]
        [--urls] > videos.txt

Prints one YouTube id (or, with --urls, one watch URL) per line; a per-class count goes to
stderr. Download the videos with any tool into $DETECTRON2_DATASETS/ytbb/videos (see
datasets/README.md).
"""

import argparse
import sys
from collections import Counter

from i2v_plugin.data.prepare.ytbb_csv import read_ytbb_videos


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", help="yt_bb_detection_train.csv or yt_bb_detection_validation.csv")
    parser.add_argument("--classes", default=None, help="comma-separated YTBB class names")
    parser.add_argument("--urls", action="store_true", help="print watch URLs instead of ids")
    args = parser.parse_args(argv)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    try:
        videos = read_ytbb_videos(args.csv, classes=classes)
    except (FileNotFoundError, ValueError) as err:
        print(f"list_ytbb_videos: {err}", file=sys.stderr)
        return 2
    for youtube_id in videos:
        print(f"https://www.youtube.com/watch?v={youtube_id}" if args.urls else youtube_id)
    per_class = Counter(name for names in videos.values() for name in names)
    print(f"{len(videos)} videos", file=sys.stderr)
    for name, count in per_class.most_common():
        print(f"  {name}: {count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

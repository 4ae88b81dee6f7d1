"""Index a folder tree of videos (mp4, webm, mkv, avi) for use as an unlabeled video dataset.

Usage:
    python datasets/prepare_video_index.py FOLDER [--workers N] [--index FILE]

Probes every video's metadata (no full decode), in parallel, appending one JSON line per video to
FOLDER/.i2v_video_index.jsonl as it goes: rerun after an interruption to continue, or after
adding videos to index only the new ones. Unreadable files are listed with their reason and
skipped. Prints a summary. Registration builds the index itself when it is missing; running
this first just moves the wait (and the progress bar) out of training start-up.
"""

import argparse
import logging
import sys

from i2v_plugin.data.video_index import build_video_index


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="root of the video tree")
    parser.add_argument(
        "--workers", type=int, default=None, help="probing threads (default min(8, CPUs))"
    )
    parser.add_argument("--index", default=None, help="index file (default inside FOLDER)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        summary = build_video_index(
            args.folder, workers=args.workers, index_path=args.index, progress=not args.no_progress
        )
    except (FileNotFoundError, OSError) as err:
        print(f"prepare_video_index: {err}", file=sys.stderr)
        return 2
    print(summary)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())

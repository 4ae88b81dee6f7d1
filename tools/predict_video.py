#!/usr/bin/env python
"""Segment a video, a folder of frames or a glob of images: palette PNG masks + overlay video.

python tools/predict_video.py --config-file configs/synthetic/swin_clustered.yaml \\
    --input datasets/i2v_synth/videos/mp4/val_0000.mp4 --output output/predict/val_0000 \\
    MODEL.WEIGHTS output/synthetic/swin_clustered/model_final.pth
python tools/predict_video.py --config-file CFG --input frames/ --fps 30 --output out/ \\
    --side-by-side --device cuda --batch-size 32 MODEL.WEIGHTS model_final.pth
python tools/predict_video.py --config-file CFG --input 'shots/*.jpg' --output out/ \\
    MODEL.WEIGHTS model_final.pth

Writes OUTPUT/masks/<frame>.png (mode "P", value = predicted class) and OUTPUT/overlay.mp4
(same frame count; a video keeps its frame rate, image inputs use --fps). Trailing KEY VALUE
pairs override the config, as in tools/train_net.py.
"""

import argparse
import sys

from detectron2.utils.logger import setup_logger

import i2v_plugin  # noqa: F401  (registers everything)
from i2v_plugin.data.video import VideoReadError
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.inference import FramePredictor, open_frame_source, predict_video


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True, metavar="FILE", help="model config")
    parser.add_argument(
        "--input", required=True, help="video file, folder of frames, or quoted glob of images"
    )
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--batch-size", type=int, default=8, help="frames per model call")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: MODEL.DEVICE)")
    parser.add_argument(
        "--fps", type=float, default=None, help="frame rate for frame folders and globs (24)"
    )
    parser.add_argument(
        "--side-by-side", action="store_true", help="write frame | overlay side by side"
    )
    parser.add_argument("--alpha", type=float, default=0.5, help="mask colour weight (0.5)")
    parser.add_argument(
        "--background-class",
        type=int,
        default=0,
        help="class left untinted in the overlay (0); -1 tints every class",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace masks left by an earlier run"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE pairs at the end"
    )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    setup_logger(name="detectron2")
    opts = list(args.opts) + (["MODEL.DEVICE", args.device] if args.device else [])
    cfg = build_cfg(args.config_file, opts)
    try:
        source = open_frame_source(args.input, fps=args.fps)
        predictor = FramePredictor(cfg)
        summary = predict_video(
            predictor,
            source,
            args.output,
            batch_size=args.batch_size,
            alpha=args.alpha,
            side_by_side=args.side_by_side,
            background=None if args.background_class < 0 else args.background_class,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (VideoReadError, FileNotFoundError, FileExistsError, ValueError) as err:
        # Bad input: one line naming the file, not a traceback.
        sys.exit(f"predict_video: error: {err}")
    print(
        f"{summary.num_frames} frames at {summary.fps:g} fps -> {summary.mask_dir}/, "
        f"{summary.video_path} ({summary.frames_per_s:.1f} frames/s end to end)"
    )
    return summary


if __name__ == "__main__":
    main()

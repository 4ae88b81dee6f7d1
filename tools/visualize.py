#!/usr/bin/env python
"""Figures for i2v_plugin runs: prediction grids, training curves, cluster inspection.

python tools/visualize.py grid --config-file configs/synthetic/swin_source_only.yaml \\
    --dataset i2v_synth_videos_val --num 4 --out docs/figures/grid.png \\
    --weights source_only=output/synthetic/swin_source_only/model_final.pth \\
              clustered=output/synthetic/swin_clustered/model_final.pth
python tools/visualize.py curves output/synthetic/swin_clustered/metrics.json \\
    --out docs/figures/curves.png
python tools/visualize.py clusters --config-file configs/synthetic/swin_clustered.yaml \\
    --out docs/figures/clusters.png MODEL.WEIGHTS output/synthetic/swin_clustered/model_0000999.pth

grid:     rows of (frame, ground truth, one prediction per --weights NAME=PATH) for --num frames
          spread over a labeled split; all checkpoints share --config-file.
curves:   one panel per group of metrics.json series (segmentation / adversarial losses,
          discriminator accuracies, gradient reversal coefficient, evaluation mIoU).
clusters: the clustered loss's K-means on one training batch (--iteration, default: the one
          after the checkpoint's), printed as a table and drawn as sizes, image/video mix and
          example maps per cluster.
Trailing KEY VALUE pairs override the config, as in tools/train_net.py.
"""

import argparse
import os

from detectron2.utils.logger import setup_logger
from tabulate import tabulate

import i2v_plugin  # noqa: F401  (registers everything)
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.visualization.clusters import ClusterInspection, inspect_clusters
from i2v_plugin.visualization.clusters_figure import cluster_figure
from i2v_plugin.visualization.curves import training_curves
from i2v_plugin.visualization.grid import prediction_grid


def split_weights(items: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split ``--weights`` items into {name: path} (order kept) and trailing config overrides.

    ``--weights`` takes every following word, so the first word without "=" starts the
    KEY VALUE overrides. ArgumentTypeError if no NAME=PATH item comes first.
    """
    weights, rest = {}, list(items)
    while rest and "=" in rest[0]:
        item = rest.pop(0)
        name, _, path = item.partition("=")
        if not name or not path:
            raise argparse.ArgumentTypeError(f"--weights expects NAME=PATH items, got {item!r}")
        weights[name] = path
    if not weights:
        raise argparse.ArgumentTypeError(f"--weights needs a NAME=PATH item first, got {items}")
    return weights, rest


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-file", required=True, metavar="FILE", help="model config")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: MODEL.DEVICE)")
    parser.add_argument(
        "opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE pairs at the end"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    grid = commands.add_parser("grid", help="qualitative grid of predictions")
    grid.add_argument("--dataset", default="i2v_synth_videos_val", help="labeled split")
    grid.add_argument("--num", type=int, default=4, help="number of frames (rows)")
    grid.add_argument(
        "--weights",
        nargs="+",
        required=True,
        metavar="NAME=PATH",
        help="checkpoints, one column each (config overrides may follow the last one)",
    )
    grid.add_argument("--out", required=True, help="PNG file to write")
    _add_config_args(grid)

    curves = commands.add_parser("curves", help="training curves from metrics.json")
    curves.add_argument("metrics", help="a run's metrics.json")
    curves.add_argument("--out", required=True, help="PNG file to write")

    clusters = commands.add_parser("clusters", help="K-means clusters of one training batch")
    clusters.add_argument(
        "--iteration", type=int, default=None, help="iteration to reproduce (seed)"
    )
    clusters.add_argument("--examples", type=int, default=6, help="example maps per cluster")
    clusters.add_argument("--out", required=True, help="PNG file to write")
    _add_config_args(clusters)
    return parser


def _cfg(args):
    opts = list(args.opts) + (["MODEL.DEVICE", args.device] if args.device else [])
    return build_cfg(args.config_file, opts)


def _save(fig, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logger(name="detectron2")
    try:
        if args.command == "grid":
            weights, extra_opts = split_weights(args.weights)
            args.opts = extra_opts + list(args.opts)
            _save(prediction_grid(_cfg(args), args.dataset, weights, args.num), args.out)
        elif args.command == "curves":
            _save(training_curves(args.metrics), args.out)
        else:
            inspection = inspect_clusters(_cfg(args), args.iteration)
            rows, header = inspection.table_rows(), ClusterInspection.table_header()
            print(tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True))
            _save(cluster_figure(inspection, args.examples), args.out)
            return inspection
    except (argparse.ArgumentTypeError, FileNotFoundError, ValueError) as err:
        # Bad input: one line naming the file, not a traceback.
        parser.exit(2, f"visualize {args.command}: error: {err}\n")


if __name__ == "__main__":
    main()

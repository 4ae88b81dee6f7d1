#!/usr/bin/env python
"""Diagnostics behind docs/RESULTS.md: the spread of each backbone map across samples, and the
self-training teacher's pseudo-labels.

python tools/diagnose.py spread --config-file configs/synthetic/swin_global.yaml \\
    --weights output/reproduce/source_only/seed0/model_final.pth \\
    --dataset i2v_synth_images_val i2v_synth_videos_val --num 16
python tools/diagnose.py pseudo-labels output/reproduce/self_training/seed*/metrics.json \\
    --last 200

spread:         per split and backbone stage, the across-sample standard deviation of the map
                relative to its mean (0: the map is the same for every input, so a discriminator
                there sees nothing; about 0.5-1 for a randomly initialised Swin). --weights takes
                a checkpoint, i2v-pretrained://<family>, or "" for random weights.
pseudo-labels:  per run, the mean over the last --last iterations of the logged pseudo-label
                figures: fraction of pixels kept, quality weight, temporal agreement (frame
                pairs) and the share of the kept pixels per class.
Trailing KEY VALUE pairs override the config, as in tools/train_net.py. Output: Markdown tables.
"""

import argparse
import os

from detectron2.utils.logger import setup_logger
from tabulate import tabulate

import i2v_plugin  # noqa: F401  (registers everything)
from i2v_plugin.diagnostics.feature_spread import feature_spread
from i2v_plugin.diagnostics.pseudo_labels import pseudo_label_summary
from i2v_plugin.engine.setup import build_cfg


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    spread = commands.add_parser("spread", help="across-sample spread of each backbone map")
    spread.add_argument("--config-file", required=True, metavar="FILE", help="model config")
    spread.add_argument("--weights", default=None, help="checkpoint (default: MODEL.WEIGHTS)")
    spread.add_argument("--dataset", nargs="+", default=["i2v_synth_videos_val"])
    spread.add_argument("--num", type=int, default=16, help="frames per split (>= 2)")
    spread.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")

    pseudo = commands.add_parser("pseudo-labels", help="pseudo-label figures of runs")
    pseudo.add_argument("metrics", nargs="+", help="metrics.json of self-training runs")
    pseudo.add_argument("--last", type=int, default=200, help="window in iterations")
    return parser


def spread_table(args) -> str:
    cfg = build_cfg(args.config_file, list(args.opts))
    rows = []
    for dataset in args.dataset:
        for stage, (shape, ratio) in feature_spread(cfg, args.weights, dataset, args.num).items():
            rows.append([dataset, stage, "x".join(map(str, shape[1:])), f"{ratio:.4f}"])
    header = ["split", "stage", "map (C x h x w)", "across-sample SD / mean"]
    return tabulate(rows, headers=header, tablefmt="github", disable_numparse=True)


def pseudo_table(args) -> str:
    summaries = {path: pseudo_label_summary(path, args.last) for path in args.metrics}
    classes = sorted(
        {k for s in summaries.values() for k in s if k.startswith("class_")},
        key=lambda k: int(k.split("_")[1]),
    )
    fixed = ["confident", "quality", "temporal_agreement"]
    header = ["run"] + fixed + [c.replace("class_", "c") for c in classes]
    rows = []
    for path, summary in summaries.items():
        run = os.path.relpath(os.path.dirname(os.path.abspath(path)))
        cells = [f"{summary[k]:.3f}" if k in summary else "–" for k in fixed + classes]
        rows.append([run] + cells)
    return tabulate(rows, headers=header, tablefmt="github", disable_numparse=True)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logger(name="i2v_plugin")
    try:
        table = spread_table(args) if args.command == "spread" else pseudo_table(args)
    except (FileNotFoundError, ValueError) as err:
        # Bad input: one line naming the file, not a traceback.
        parser.exit(2, f"diagnose {args.command}: error: {err}\n")
    print(table)
    return table


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Train (or inflate) the synthetic pretraining stage's weights ahead of time and cache them.

  python tools/pretrain_synthetic.py                   # swin, deeplab and video_swin
  python tools/pretrain_synthetic.py --family swin     # one family
  python tools/pretrain_synthetic.py --force           # train again

Synthetic configs start from "i2v-pretrained://<family>" and train it on first use anyway; this
command does it up front. The weights go to $DETECTRON2_DATASETS/i2v_synth_pretrained/ with a
key of their settings (i2v_plugin/engine/pretrained.py).
"""

import argparse

from i2v_plugin.engine.pretrained import FAMILIES, ensure_pretrained


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--family", choices=FAMILIES, action="append", help="default: all")
    parser.add_argument("--force", action="store_true", help="train again even when cached")
    args = parser.parse_args(argv)
    # FAMILIES lists swin before video_swin, which is inflated from it.
    for family in args.family or FAMILIES:
        path = ensure_pretrained(family, force=args.force)
        print(f"{family}: {path}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Convert local pretrained checkpoints into Detectron2-loadable checkpoints for i2v_plugin.

  # timm Swin ImageNet weights -> D2SwinTransformer (out_norms.res5 from timm's final norm)
  python tools/convert_weights.py --source timm-swin --input swin_tiny.pth --output swin_t_d2.pth
  # mmsegmentation UperNet-Swin-T ADE20k -> Swin + UperNet (150-class classifier dropped)
  python tools/convert_weights.py --source mmseg-upernet-swin --num-classes 11 \\
      --input upernet_swin_tiny_ade20k.pth --output weights/upernet_swin_tiny_ade20k_d2.pth
  # torchvision deeplabv3_resnet101 COCO -> D2DeepLabResNet + I2VDeepLabV3Head
  python tools/convert_weights.py --source torchvision-deeplabv3 --num-classes 11 \\
      --input deeplabv3_resnet101_coco.pth --output weights/deeplabv3_resnet101_coco_d2.pth
  # a 2D Swin checkpoint (converted above, or raw timm / mmseg) -> VideoSwin, inflated
  python tools/convert_weights.py --source inflate-video-swin --inflate centre \\
      --input weights/upernet_swin_tiny_ade20k_d2.pth \\
      --output weights/upernet_video_swin_tiny_ade20k_inflated_d2.pth

The output is {"model": state_dict, "__author__": "i2v_plugin convert_weights",
"matching_heuristics": False}; point MODEL.WEIGHTS at it. Nothing is downloaded.
"""

import argparse

from i2v_plugin.modeling.weights import (
    INFLATE_MODES,
    ImportOptions,
    import_checkpoint,
    import_sources,
    load_checkpoint_file,
    save_d2_checkpoint,
)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source",
        required=True,
        choices=list(import_sources()),
        help="checkpoint format (registered by i2v_plugin.modeling.weights)",
    )
    parser.add_argument("--input", required=True, help="local source checkpoint")
    parser.add_argument("--output", required=True, help="Detectron2 checkpoint to write (.pth)")
    parser.add_argument(
        "--inflate",
        choices=INFLATE_MODES,
        default="centre",
        help="2D->3D patch-kernel initialisation (inflate-video-swin)",
    )
    parser.add_argument(
        "--temporal-patch", type=int, default=1, help="MODEL.VIDEO_SWIN.PATCH_SIZE[0]"
    )
    parser.add_argument(
        "--temporal-window", type=int, default=4, help="MODEL.VIDEO_SWIN.WINDOW_SIZE[0]"
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help="the target model's class count; a classifier of another size is dropped",
    )
    args = parser.parse_args(argv)
    options = ImportOptions(
        num_classes=args.num_classes,
        temporal_patch=args.temporal_patch,
        temporal_window=args.temporal_window,
        inflate=args.inflate,
    )
    state_dict = load_checkpoint_file(args.input)
    converted, reports = import_checkpoint(args.source, state_dict, options)
    save_d2_checkpoint(args.output, converted)
    for report in reports:
        print(report.summary())
    print(f"Wrote {len(converted)} tensors to {args.output}")
    return converted, reports


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Export the adapted encoder of a trained i2v_plugin checkpoint in its home library's layout,
for use in another pipeline (e.g. a video segmentation or tracking method).

  python tools/export_backbone.py --config-file configs/swin_clustered.yaml \\
      --weights output/swin_clustered/model_final.pth --out encoder.pth [KEY VALUE ...]

The config must be the one the checkpoint was trained with (trailing KEY VALUE pairs override it,
as in train_net.py); its MODEL.BACKBONE.NAME picks the exporter registered in
i2v_plugin.modeling.weights (each backbone's module there says what it writes). Classifier
weights are not written. <out>.json records how to build the home model, what was left out, and
any difference that keeps the features from matching the plugin's exactly; Swin and VideoSwin
also get <out>.stage_norms.pth, the per-stage norms the home model lacks. The state dict is
loaded into the home model built without weights before anything is written. Nothing is
downloaded.
"""

import argparse
import sys

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import (
    ExportError,
    export_encoder,
    exporters,
    load_checkpoint_file,
    write_export,
)


def main(argv=None) -> int:
    epilog = "exporters (MODEL.BACKBONE.NAME: home layout):\n" + "\n".join(
        f"  {name}: {exporter.label}" for name, exporter in exporters().items()
    )
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True, help="the config of the trained model")
    parser.add_argument("--weights", required=True, help="the trained checkpoint (model_final.pth)")
    parser.add_argument("--out", required=True, help="encoder state dict to write (.pth)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE ...")
    args = parser.parse_args(argv)
    try:
        cfg = build_cfg(args.config_file, args.opts)
        state_dict = load_checkpoint_file(args.weights)
        export = export_encoder(cfg, state_dict, args.weights)
    except (ExportError, FileNotFoundError, ValueError) as err:
        print(f"export_backbone: {err}", file=sys.stderr)
        return 2
    record = export.record
    record["source"] = {"weights": args.weights, "config": args.config_file, "opts": args.opts}
    written = write_export(args.out, export)
    print(f"Wrote {len(export.state_dict)} tensors ({record['library']} layout) to {args.out}")
    print(f"  build: {record['build']}")
    for note in export.notes:
        print(f"  {note}")
    if record["not_exported"]:
        print(f"  not exported (classifier): {', '.join(record['not_exported'])}")
    for difference in record.get("differences", []):
        print(f"  WARNING, features will not match exactly: {difference}")
    for path in written[1:]:
        print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

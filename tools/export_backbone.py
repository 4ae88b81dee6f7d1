#!/usr/bin/env python
"""Export the adapted encoder of a trained i2v_plugin checkpoint in its home library's layout,
for use in another pipeline (e.g. a video segmentation or tracking method).

  python tools/export_backbone.py --config-file configs/swin_clustered.yaml \\
      --weights output/swin_clustered/model_final.pth --out encoder.pth [KEY VALUE ...]

The config must be the one the checkpoint was trained with (trailing KEY VALUE pairs override it,
as in train_net.py). What is written, by MODEL.BACKBONE.NAME:

- build_swin_backbone -> a timm ``SwinTransformer`` state dict (``swin_tiny_patch4_window7_224``
  for Swin-T). timm's final ``norm`` is the plugin's ``out_norms.res5`` (the norm of the
  encoder output; the classifier norm is unused in the plugin), so timm's ``forward_features``
  returns the plugin's res5 map (NHWC). The plugin's per-stage norms ``out_norms.res2..res5``
  have no timm counterpart and go to ``<out>.stage_norms.pth`` ("res2.weight", ...). A stage-k
  output of timm's ``layers[k]`` with that norm gives the plugin's res<k+2> map.
- build_video_swin_backbone -> a torchvision ``SwinTransformer3d`` state dict (the layout of
  ``torchvision.models.video.swin3d_t``). Build it with the kwargs in the JSON: the paper's
  VideoSwin-T uses patch (1, 4, 4) and window (4, 7, 7), whereas ``swin3d_t()`` fixes (2, 4, 4) and
  (8, 7, 7). ``norm`` and the stage norms are handled as for Swin.
- build_i2v_resnet_deeplab_backbone -> a torchvision ``resnet50/101/152`` state dict (the DeepLab
  encoder; the ASPP head is not part of it). The dilation to build it with
  (``replace_stride_with_dilation``) is in the JSON and printed.

Classifier weights (timm ``head``, torchvision ``head`` / ``fc``) are not written: build the timm
model with ``num_classes=0``, or load with ``strict=False`` / replace the classifier by
``nn.Identity()``. ``<out>.json`` records how to build the model, what was left out, and any
difference that keeps the features from matching the plugin's exactly. Before writing, the state
dict is loaded into the home model built without weights, so a file that does not load is never
written. Nothing is downloaded.
"""

import argparse
import json
import os
import sys

import torch
from detectron2.modeling import build_backbone

import i2v_plugin  # noqa: F401  (registers the backbones)
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import (
    convert_timm_swin,
    convert_torchvision_deeplabv3,
    load_checkpoint_file,
)
from i2v_plugin.utils.atomic import atomic_path, atomic_write

SWIN, VIDEO_SWIN, RESNET = (
    "build_swin_backbone",
    "build_video_swin_backbone",
    "build_i2v_resnet_deeplab_backbone",
)
# A key that only a checkpoint of each backbone holds, and the backbone's name in messages.
SIGNATURES = {
    SWIN: ("backbone.swin.layers.0.blocks.0.norm1.weight", "Swin (timm)"),
    VIDEO_SWIN: ("backbone.swin.features.0.0.norm1.weight", "VideoSwin (torchvision)"),
    RESNET: ("backbone.stem.conv1.weight", "DeepLab ResNet (Detectron2)"),
}
STAGE_NORMS = ("res2", "res3", "res4", "res5")
SWIN_T = {
    "patch_size": 4,
    "embed_dim": 96,
    "depths": [2, 2, 6, 2],
    "num_heads": [3, 6, 12, 24],
    "window_size": 7,
    "mlp_ratio": 4.0,
}
TIMM_SWIN_T = "swin_tiny_patch4_window7_224"


class ExportError(ValueError):
    """The checkpoint or the config cannot be exported; the message says why."""


def checkpoint_kind(state_dict: dict) -> str | None:
    """The backbone builder whose parameter names ``state_dict`` holds (None: none known)."""
    for name, (key, _) in SIGNATURES.items():
        if key in state_dict:
            return name
    return None


def load_plugin_backbone(cfg, state_dict: dict, weights: str):
    """The config's backbone with the checkpoint's ``backbone.*`` tensors, and every tensor it
    holds (parameters, persistent and non-persistent buffers) by name."""
    name = cfg.MODEL.BACKBONE.NAME
    if name not in SIGNATURES:
        raise ExportError(
            f"MODEL.BACKBONE.NAME {name!r} has no export layout; supported: {sorted(SIGNATURES)}"
        )
    found = checkpoint_kind(state_dict)
    if found is None:
        raise ExportError(
            f"{weights} holds no encoder of a known i2v backbone (none of "
            f"{[key for key, _ in SIGNATURES.values()]}); first keys: {sorted(state_dict)[:5]}"
        )
    if found != name:
        raise ExportError(
            f"{weights} holds a {SIGNATURES[found][1]} encoder, but the config builds a "
            f"{SIGNATURES[name][1]} one (MODEL.BACKBONE.NAME {name!r}); pass the config the "
            "checkpoint was trained with"
        )
    backbone = build_backbone(cfg).eval()
    tensors = {k[len("backbone.") :]: v for k, v in state_dict.items() if k.startswith("backbone.")}
    try:
        backbone.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise ExportError(
            f"{weights}: its encoder does not match the config's {SIGNATURES[name][1]} "
            f"architecture (check the config and its overrides):\n{err}"
        ) from None
    named = dict(backbone.named_buffers())
    named.update(backbone.state_dict())
    return backbone, named


def inverse_names(converter, home_state: dict) -> dict[str, str]:
    """Home-library name -> plugin backbone name, by running an import converter of
    ``modeling/weights`` on the home model's own tensors and seeing where each one lands."""
    converted, _ = converter(home_state)
    owner = {id(v): k for k, v in home_state.items()}
    return {
        owner[id(v)]: k[len("backbone.") :]
        for k, v in converted.items()
        if id(v) in owner and k.startswith("backbone.")
    }


def _swin_kwargs(cfg) -> dict:
    swin = cfg.MODEL.SWIN
    return {
        "patch_size": swin.PATCH_SIZE,
        "embed_dim": swin.EMBED_DIM,
        "depths": list(swin.DEPTHS),
        "num_heads": list(swin.NUM_HEADS),
        "window_size": swin.WINDOW_SIZE,
        "mlp_ratio": swin.MLP_RATIO,
    }


def swin_home(cfg):
    """(timm model without weights or classifier, record of how to build it, name table)."""
    import timm
    from timm.models.swin_transformer import SwinTransformer

    kwargs = _swin_kwargs(cfg)
    if kwargs == SWIN_T:
        model = timm.create_model(TIMM_SWIN_T, pretrained=False, num_classes=0)
        build = f'timm.create_model("{TIMM_SWIN_T}", pretrained=False, num_classes=0)'
    else:
        model = SwinTransformer(img_size=224, num_classes=0, **kwargs)
        build = (
            f"timm.models.swin_transformer.SwinTransformer(img_size=224, num_classes=0, **{kwargs})"
        )
    names = inverse_names(convert_timm_swin, model.state_dict())
    record = {
        "library": "timm",
        "model": TIMM_SWIN_T if kwargs == SWIN_T else None,
        "build": build,
        "kwargs": kwargs,
        "features": "forward_features(x): (B, H/32, W/32, C) NHWC = the plugin's res5 "
        "(its final norm is out_norms.res5)",
    }
    return model, record, names


def video_swin_home(cfg):
    """(torchvision SwinTransformer3d without weights, record, name table). The plugin's encoder
    is torchvision's own module, so names differ only by the ``swin.`` prefix, the final norm
    (= ``out_norms.res5``) and the relative position indices, which torchvision stores."""
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    swin = cfg.MODEL.VIDEO_SWIN
    kwargs = {
        "patch_size": list(swin.PATCH_SIZE),
        "embed_dim": swin.EMBED_DIM,
        "depths": list(swin.DEPTHS),
        "num_heads": list(swin.NUM_HEADS),
        "window_size": list(swin.WINDOW_SIZE),
        "mlp_ratio": swin.MLP_RATIO,
    }
    model = SwinTransformer3d(**kwargs)
    names = {}
    for key in model.state_dict():
        if key.startswith("norm."):
            names[key] = "out_norms.res5." + key[len("norm.") :]
        elif not key.startswith("head."):
            names[key] = "swin." + key
    record = {
        "library": "torchvision",
        "model": None,
        "layout": "torchvision.models.video.swin3d_t",
        "build": f"torchvision.models.video.swin_transformer.SwinTransformer3d(**{kwargs})",
        "kwargs": kwargs,
        "features": "norm(features(patch_embed(x))): (B, T', H/32, W/32, C) = the plugin's res5",
    }
    return model, record, names


def resnet_home(cfg):
    """(torchvision ResNet without weights, record, name table). Only the dilations torchvision
    can express are exact; the others are recorded as differences."""
    import torchvision

    res = cfg.MODEL.RESNETS
    depth = res.DEPTH
    if depth not in (50, 101, 152):
        raise ExportError(f"MODEL.RESNETS.DEPTH {depth}: torchvision has resnet50/101/152 only")
    dilations = (res.RES4_DILATION, res.RES5_DILATION)
    replace = {
        (1, 1): [False, False, False],
        (1, 2): [False, False, True],
        (2, 4): [False, True, True],
    }
    differences = []
    replace_stride = replace.get(dilations, [False, dilations[0] > 1, dilations[1] > 1])
    if dilations not in replace:
        differences.append(
            f"RES4_DILATION/RES5_DILATION {dilations}: torchvision dilates only as (1, 1), (1, 2) "
            f"or (2, 4); built with replace_stride_with_dilation={replace_stride}"
        )
    if any(grid != 1 for grid in res.RES5_MULTI_GRID):
        differences.append(f"RES5_MULTI_GRID {list(res.RES5_MULTI_GRID)}: torchvision has none")
    if res.STRIDE_IN_1X1:
        differences.append("STRIDE_IN_1X1: torchvision strides in the 3x3 conv")
    if cfg.MODEL.DEEPLAB.FIRST_BLOCK_DILATION != "previous":
        differences.append(
            "FIRST_BLOCK_DILATION 'stage': torchvision keeps the previous dilation in the first "
            "block of a dilated stage"
        )
    if res.STEM_TYPE != "basic":
        raise ExportError(
            f"MODEL.RESNETS.STEM_TYPE {res.STEM_TYPE!r}: torchvision's ResNet has the basic 7x7 "
            "stem only"
        )
    model = getattr(torchvision.models, f"resnet{depth}")(
        weights=None, replace_stride_with_dilation=replace_stride
    )
    names = inverse_names(
        lambda sd: convert_torchvision_deeplabv3({"backbone." + k: v for k, v in sd.items()}),
        model.state_dict(),
    )
    output_stride = 32 // (2 ** sum(replace_stride))
    record = {
        "library": "torchvision",
        "model": f"resnet{depth}",
        "build": f"torchvision.models.resnet{depth}(weights=None, "
        f"replace_stride_with_dilation={replace_stride})",
        "replace_stride_with_dilation": replace_stride,
        "dilations": {"layer3": res.RES4_DILATION, "layer4": res.RES5_DILATION},
        "output_stride": output_stride,
        "differences": differences,
        "features": "layer4(layer3(layer2(layer1(maxpool(relu(bn1(conv1(x)))))))): "
        f"(B, {model.fc.in_features}, H/{output_stride}, W/{output_stride}) = the plugin's res5",
    }
    return model, record, names


HOMES = {SWIN: swin_home, VIDEO_SWIN: video_swin_home, RESNET: resnet_home}


def export_encoder(cfg, state_dict: dict, weights: str = "checkpoint"):
    """The encoder of a trained checkpoint in its home library's layout.

    Args:
        cfg: the config the checkpoint was trained with.
        state_dict: the checkpoint's tensors (plugin names: ``backbone.*``, heads, ...).
        weights: the checkpoint's name, for messages.
    Returns:
        (home state dict, stage norms {"res2.weight": ...} or {} for ResNets, record dict for the
        JSON side file).
    Raises:
        ExportError when the checkpoint holds another backbone or does not fit the config.
    """
    name = cfg.MODEL.BACKBONE.NAME
    _, plugin = load_plugin_backbone(cfg, state_dict, weights)
    home, record, names = HOMES[name](cfg)
    home_state = home.state_dict()
    out, not_exported, used = {}, [], set()
    for key, target in home_state.items():
        source = names.get(key)
        if source in plugin:
            out[key] = plugin[source].detach().clone()
            used.add(source)
        elif key.endswith("num_batches_tracked"):
            # Detectron2's FrozenBatchNorm2d has no step counter; torchvision's BatchNorm does.
            out[key] = torch.zeros_like(target)
        elif key.startswith(("head.", "fc.")):
            not_exported.append(key)
        else:
            raise ExportError(f"{key} of the {record['library']} model has no plugin counterpart")
    missing, unexpected = home.load_state_dict(out, strict=False)
    if unexpected or sorted(missing) != sorted(not_exported):
        raise ExportError(f"export does not load: missing {missing}, unexpected {unexpected}")
    stage_norms = {}
    if name in (SWIN, VIDEO_SWIN):
        for stage in STAGE_NORMS:
            for param in ("weight", "bias"):
                stage_norms[f"{stage}.{param}"] = plugin[f"out_norms.{stage}.{param}"].clone()
                used.add(f"out_norms.{stage}.{param}")
    left = sorted(k for k in plugin if k not in used and not k.endswith(("attn_mask", "index")))
    if left:
        raise ExportError(f"plugin encoder tensors without a place in the export: {left[:10]}")
    record.update(
        backbone=name,
        not_exported=not_exported,
        exact=not record.get("differences"),
    )
    return out, stage_norms, record


def side_paths(out: str) -> tuple[str, str]:
    """(JSON record, stage norms) paths beside ``out``."""
    stem = out[: -len(".pth")] if out.endswith(".pth") else out
    return stem + ".json", stem + ".stage_norms.pth"


def write_export(out: str, state_dict: dict, stage_norms: dict, record: dict) -> list[str]:
    """Write the encoder, its stage norms (if any) and the JSON record; returns the paths."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    json_path, norms_path = side_paths(out)
    written = [out]
    with atomic_path(out) as tmp:
        torch.save(state_dict, tmp)
    if stage_norms:
        with atomic_path(norms_path) as tmp:
            torch.save(stage_norms, tmp)
        record["stage_norms"] = os.path.basename(norms_path)
        written.append(norms_path)
    with atomic_write(json_path) as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    written.append(json_path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True, help="the config of the trained model")
    parser.add_argument("--weights", required=True, help="the trained checkpoint (model_final.pth)")
    parser.add_argument("--out", required=True, help="encoder state dict to write (.pth)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE ...")
    args = parser.parse_args(argv)
    try:
        cfg = build_cfg(args.config_file, args.opts)
        state_dict = load_checkpoint_file(args.weights)
        exported, stage_norms, record = export_encoder(cfg, state_dict, args.weights)
    except (ExportError, FileNotFoundError, ValueError) as err:
        print(f"export_backbone: {err}", file=sys.stderr)
        return 2
    record["source"] = {"weights": args.weights, "config": args.config_file, "opts": args.opts}
    written = write_export(args.out, exported, stage_norms, record)
    print(f"Wrote {len(exported)} tensors ({record['library']} layout) to {args.out}")
    print(f"  build: {record['build']}")
    if "replace_stride_with_dilation" in record:
        print(
            f"  dilation: replace_stride_with_dilation={record['replace_stride_with_dilation']} "
            f"(layer3 {record['dilations']['layer3']}, layer4 {record['dilations']['layer4']}, "
            f"output stride {record['output_stride']})"
        )
    if record["not_exported"]:
        print(f"  not exported (classifier): {', '.join(record['not_exported'])}")
    for difference in record.get("differences", []):
        print(f"  WARNING, features will not match exactly: {difference}")
    for path in written[1:]:
        print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

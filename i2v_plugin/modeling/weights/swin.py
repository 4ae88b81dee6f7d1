"""Swin (``build_swin_backbone``, ``D2SwinTransformer``) <-> timm's ``SwinTransformer``.

Import ("timm-swin"): timm Swin ImageNet checkpoints (current timm layout, or the original
Microsoft layout where each stage ends with its patch merging) -> ``backbone.swin.*`` (timm's
layout) and ``backbone.out_norms.res2..res5``; timm's final ``norm`` initialises
``out_norms.res5``, the other stage norms start at identity. mmsegmentation checkpoints are
imported by ``mmseg_swin.py``.

Export: a timm ``SwinTransformer`` state dict (``swin_tiny_patch4_window7_224`` for Swin-T).
timm's final ``norm`` is the plugin's ``out_norms.res5`` (the norm of the encoder output), so
timm's ``forward_features`` returns the plugin's res5 map (NHWC). The per-stage norms
``out_norms.res2..res5`` have no timm counterpart and go to ``<out>.stage_norms.pth``
("res2.weight", ...): timm's ``layers[k]`` output with that norm is the plugin's res<k+2> map.
"""

import re

import torch

from .conversion import rename_tensors
from .export import inverse_names
from .registry import (
    BackboneExporter,
    HomeModel,
    one_step_importer,
    register_backbone_weights,
)
from .report import ConversionReport

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


def add_identity_out_norms(out: dict, embed_dim: int, report: ConversionReport) -> None:
    """Create the stage output norms the source lacks, at LayerNorm's initial values (identity
    affine), so the converted checkpoint covers every backbone parameter."""
    for i in range(4):
        prefix = f"backbone.out_norms.res{i + 2}"
        if f"{prefix}.weight" in out:
            continue
        width = embed_dim * 2**i
        out[f"{prefix}.weight"] = torch.ones(width)
        out[f"{prefix}.bias"] = torch.zeros(width)
        report.added[f"{prefix}.weight/bias"] = (
            "no counterpart in the source; LayerNorm's initial values (weight 1, bias 0)"
        )


def _timm_key(key: str, original_layout: bool) -> str | None:
    """timm (or original) Swin name -> ``D2SwinTransformer`` name (None: not in the backbone)."""
    if original_layout:
        key = re.sub(
            r"^layers\.(\d+)\.downsample", lambda m: f"layers.{int(m[1]) + 1}.downsample", key
        )
    if key.startswith("norm."):
        return "backbone.out_norms.res5." + key[len("norm.") :]
    if key.startswith(("patch_embed.", "layers.")):
        return "backbone.swin." + key
    return None


def convert_timm_swin(state_dict: dict) -> tuple[dict, ConversionReport]:
    """timm (or original Microsoft) Swin state dict -> ``D2SwinTransformer`` names.

    Args:
        state_dict: the source tensors (already unwrapped, see ``unwrap_state_dict``).
    Returns:
        (converted state dict with ``backbone.`` names, report). The classification head is
        dropped; ``out_norms.res2..res4`` get identity values (listed in the report).
    """
    report = ConversionReport("timm-swin")
    # Original checkpoints merge patches at the end of a stage (stage 0 has one); timm does so
    # at the start of the next stage.
    original_layout = "layers.0.downsample.reduction.weight" in state_dict
    if original_layout:
        report.notes.append("original Swin layout: patch merging moved to the next stage")
    out = rename_tensors(
        state_dict,
        lambda key: _timm_key(key, original_layout),
        report,
        unmatched="not part of the Swin backbone",
        drop=[("head.", "ImageNet classification head, unused by segmentation")],
    )
    embed = out.get("backbone.swin.patch_embed.proj.weight")
    if embed is None:
        raise ValueError(
            "Not a timm Swin checkpoint: 'patch_embed.proj.weight' is missing "
            f"(first keys: {sorted(state_dict)[:5]})"
        )
    add_identity_out_norms(out, embed.shape[0], report)
    return out, report


def timm_swin_home(cfg) -> HomeModel:
    """timm's ``SwinTransformer`` for ``cfg.MODEL.SWIN``, without weights or classifier."""
    import timm
    from timm.models.swin_transformer import SwinTransformer

    swin = cfg.MODEL.SWIN
    kwargs = {
        "patch_size": swin.PATCH_SIZE,
        "embed_dim": swin.EMBED_DIM,
        "depths": list(swin.DEPTHS),
        "num_heads": list(swin.NUM_HEADS),
        "window_size": swin.WINDOW_SIZE,
        "mlp_ratio": swin.MLP_RATIO,
    }
    if kwargs == SWIN_T:
        model = timm.create_model(TIMM_SWIN_T, pretrained=False, num_classes=0)
        build = f'timm.create_model("{TIMM_SWIN_T}", pretrained=False, num_classes=0)'
    else:
        model = SwinTransformer(img_size=224, num_classes=0, **kwargs)
        build = (
            f"timm.models.swin_transformer.SwinTransformer(img_size=224, num_classes=0, **{kwargs})"
        )
    record = {
        "library": "timm",
        "model": TIMM_SWIN_T if kwargs == SWIN_T else None,
        "build": build,
        "kwargs": kwargs,
        "features": "forward_features(x): (B, H/32, W/32, C) NHWC = the plugin's res5 "
        "(its final norm is out_norms.res5)",
    }
    return HomeModel(model, record, inverse_names(convert_timm_swin, model.state_dict()))


register_backbone_weights(
    "build_swin_backbone",
    importers={"timm-swin": one_step_importer(convert_timm_swin)},
    exporter=BackboneExporter(
        signature="backbone.swin.layers.0.blocks.0.norm1.weight",
        label="Swin (timm)",
        home=timm_swin_home,
        stage_norms=STAGE_NORMS,
    ),
)

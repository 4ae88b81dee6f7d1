"""Swin checkpoints -> ``D2SwinTransformer`` (+ ``UperNetHead``) parameter names.

Targets (Detectron2 model names): ``backbone.swin.*`` (timm's Swin layout),
``backbone.out_norms.res2..res5`` and, for UperNet, ``sem_seg_head.*``.

Sources:
- timm Swin ImageNet checkpoints (current timm layout, or the original Microsoft layout where each
  stage ends with its patch merging); timm's final ``norm`` initialises ``out_norms.res5``.
- mmsegmentation UperNet-Swin checkpoints (``backbone.*``, ``decode_head.*``,
  ``auxiliary_head.*``); mmseg's patch merging concatenates the 2x2 neighbours in
  ``nn.Unfold`` order, which is reordered to timm's.
"""

import re

import torch

from .report import ConversionReport

# Keys of constant buffers that the models rebuild at construction.
CONSTANT_BUFFERS = ("relative_position_index", "attn_mask")
HEAD_DROP_REASON = "auxiliary FCN head, not part of the model"


def _is_constant_buffer(key: str) -> bool:
    return key.endswith(CONSTANT_BUFFERS)


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
    out = {}
    for key, value in state_dict.items():
        if _is_constant_buffer(key):
            report.skipped_buffers += 1
            continue
        if key.startswith("head."):
            report.drop(key, "ImageNet classification head, unused by segmentation")
            continue
        new = key
        if original_layout:
            new = re.sub(
                r"^layers\.(\d+)\.downsample", lambda m: f"layers.{int(m[1]) + 1}.downsample", new
            )
        if new.startswith("norm."):
            new = "backbone.out_norms.res5." + new[len("norm.") :]
        elif new.startswith(("patch_embed.", "layers.")):
            new = "backbone.swin." + new
        else:
            report.drop(key, "not part of the Swin backbone")
            continue
        out[new] = value
        report.converted += 1
    embed = out.get("backbone.swin.patch_embed.proj.weight")
    if embed is None:
        raise ValueError(
            "Not a timm Swin checkpoint: 'patch_embed.proj.weight' is missing "
            f"(first keys: {sorted(state_dict)[:5]})"
        )
    add_identity_out_norms(out, embed.shape[0], report)
    return out, report


def _mmseg_unfold_to_timm(value: torch.Tensor) -> torch.Tensor:
    """Reorder the 4C axis of a patch-merging tensor from nn.Unfold order to timm's.

    Unfold flattens (channel c, row i, column j) as c*4 + i*2 + j; timm concatenates the
    neighbours as (j, i, c): j*2C + i*C + c. ``value`` is (out, 4C) or (4C,).
    """
    lead = value.shape[:-1]
    channels = value.shape[-1] // 4
    grouped = value.reshape(*lead, channels, 2, 2)  # (..., c, i, j)
    dims = list(range(len(lead)))
    return grouped.permute(*dims, -1, -2, -3).reshape(*lead, 4 * channels)


# mmseg block sub-key -> timm block sub-key
_MMSEG_BLOCK_KEYS = {
    "attn.w_msa.qkv.": "attn.qkv.",
    "attn.w_msa.proj.": "attn.proj.",
    "attn.w_msa.relative_position_bias_table": "attn.relative_position_bias_table",
    "ffn.layers.0.0.": "mlp.fc1.",
    "ffn.layers.1.": "mlp.fc2.",
    "norm1.": "norm1.",
    "norm2.": "norm2.",
}
# mmseg UPerHead module -> our UperNetHead module
_MMSEG_HEAD_MODULES = [
    (r"psp_modules\.(\d+)\.1", r"pool_branches.\1.1"),
    (r"bottleneck", "pool_bottleneck"),
    (r"lateral_convs\.(\d+)", r"lateral_convs.\1"),
    (r"fpn_convs\.(\d+)", r"fpn_convs.\1"),
    (r"fpn_bottleneck", "fuse"),
]


def _convert_mmseg_backbone_key(key: str) -> str | None:
    """``backbone.*`` of mmseg's Swin -> our name (None: no counterpart)."""
    rest = key[len("backbone.") :]
    if rest.startswith("patch_embed.projection."):
        return "backbone.swin.patch_embed.proj." + rest.split(".")[-1]
    if rest.startswith("patch_embed.norm."):
        return "backbone.swin." + rest
    match = re.match(r"norm(\d)\.(weight|bias)$", rest)
    if match:
        return f"backbone.out_norms.res{int(match[1]) + 2}.{match[2]}"
    match = re.match(r"stages\.(\d+)\.downsample\.(.+)$", rest)
    if match:
        return f"backbone.swin.layers.{int(match[1]) + 1}.downsample.{match[2]}"
    match = re.match(r"stages\.(\d+)\.blocks\.(\d+)\.(.+)$", rest)
    if match:
        for old, new in _MMSEG_BLOCK_KEYS.items():
            if match[3].startswith(old):
                sub = new + match[3][len(old) :]
                return f"backbone.swin.layers.{match[1]}.blocks.{match[2]}.{sub}"
    return None


def _convert_mmseg_head_key(key: str) -> str | None:
    """``decode_head.*`` of mmseg's UPerHead -> our ``sem_seg_head.*`` name."""
    rest = key[len("decode_head.") :]
    if rest.startswith("conv_seg."):
        return "sem_seg_head.predictor." + rest[len("conv_seg.") :]
    for pattern, replacement in _MMSEG_HEAD_MODULES:
        match = re.match(rf"({pattern})\.(conv|bn)\.(.+)$", rest)
        if match:
            module = re.sub(rf"^{pattern}$", replacement, match[1])
            kind, param = match[match.lastindex - 1], match[match.lastindex]
            return f"sem_seg_head.{module}.{'norm.' if kind == 'bn' else ''}{param}"
    return None


def convert_mmseg_upernet_swin(
    state_dict: dict, num_classes: int | None = None
) -> tuple[dict, ConversionReport]:
    """mmsegmentation UperNet-Swin state dict -> ``D2SwinTransformer`` + ``UperNetHead`` names.

    Args:
        state_dict: the source tensors (``backbone.*``, ``decode_head.*``, ``auxiliary_head.*``).
        num_classes: the target model's class count; a classifier (``decode_head.conv_seg``)
            with another count is dropped and reported. None keeps it whatever its size.
    Returns:
        (converted state dict, report). The auxiliary head is always dropped.
    """
    report = ConversionReport("mmseg-upernet-swin")
    out = {}
    for key, value in state_dict.items():
        if _is_constant_buffer(key):
            report.skipped_buffers += 1
            continue
        if key.startswith("auxiliary_head."):
            report.drop(key, HEAD_DROP_REASON)
            continue
        if key.startswith("backbone."):
            new = _convert_mmseg_backbone_key(key)
        elif key.startswith("decode_head."):
            new = _convert_mmseg_head_key(key)
        else:
            new = None
        if new is None:
            report.drop(key, "no counterpart in D2SwinTransformer + UperNetHead")
            continue
        if ".downsample." in new:
            value = _mmseg_unfold_to_timm(value)
        if new.startswith("sem_seg_head.predictor.") and num_classes is not None:
            if value.shape[0] != num_classes:
                report.drop(
                    key, f"classifier for {value.shape[0]} classes; the model has {num_classes}"
                )
                continue
        out[new] = value
        report.converted += 1
    if "backbone.swin.patch_embed.proj.weight" not in out:
        raise ValueError(
            "Not an mmsegmentation Swin checkpoint: 'backbone.patch_embed.projection.weight' is "
            f"missing (first keys: {sorted(state_dict)[:5]})"
        )
    add_identity_out_norms(out, out["backbone.swin.patch_embed.proj.weight"].shape[0], report)
    return out, report

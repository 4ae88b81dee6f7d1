"""mmsegmentation UperNet-Swin checkpoints -> ``D2SwinTransformer`` + ``UperNetHead`` names
(import source "mmseg-upernet-swin" of ``build_swin_backbone``; ``swin.py`` holds the rest).

The source holds ``backbone.*``, ``decode_head.*`` and ``auxiliary_head.*``. mmseg's patch merging
concatenates the 2x2 neighbours in ``nn.Unfold`` order, which is reordered to timm's; its stage
norms become ``backbone.out_norms.res2..res5`` and its UPerHead our ``sem_seg_head.*``.
"""

import re

import torch

from .conversion import rename_tensors
from .registry import one_step_importer, register_backbone_weights
from .report import ConversionReport
from .swin import add_identity_out_norms


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


def _convert_mmseg_key(key: str) -> str | None:
    """Any mmseg key -> our name (None: no counterpart)."""
    if key.startswith("backbone."):
        return _convert_mmseg_backbone_key(key)
    if key.startswith("decode_head."):
        return _convert_mmseg_head_key(key)
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
    out = rename_tensors(
        state_dict,
        _convert_mmseg_key,
        report,
        unmatched="no counterpart in D2SwinTransformer + UperNetHead",
        drop=[("auxiliary_head.", "auxiliary FCN head, not part of the model")],
        num_classes=num_classes,
        transform=lambda new, value: (
            _mmseg_unfold_to_timm(value) if ".downsample." in new else value
        ),
    )
    if "backbone.swin.patch_embed.proj.weight" not in out:
        raise ValueError(
            "Not an mmsegmentation Swin checkpoint: 'backbone.patch_embed.projection.weight' is "
            f"missing (first keys: {sorted(state_dict)[:5]})"
        )
    add_identity_out_norms(out, out["backbone.swin.patch_embed.proj.weight"].shape[0], report)
    return out, report


register_backbone_weights(
    "build_swin_backbone",
    importers={"mmseg-upernet-swin": one_step_importer(convert_mmseg_upernet_swin, "num_classes")},
)

"""2D -> 3D inflation: ``D2SwinTransformer`` (+ any head) weights -> ``D2VideoSwinTransformer``.

The 2D and 3D adapters share their map names and widths, so only the Swin body is renamed
(timm's ``layers.i.blocks.j`` / ``layers.i.downsample`` -> torchvision's ``features.2i.j`` /
``features.2i-1``) and two kinds of tensors change shape:

- The patch-embedding kernel gains a time axis of the temporal patch size ``pt``:
  "replicate" copies the 2D kernel to every time step divided by ``pt`` (a clip of identical
  frames then gives the 2D response); "centre" puts the 2D kernel on the centre time step
  (``pt // 2``) and zeros elsewhere (each token starts as the centre frame's 2D response). With
  the (1, 4, 4) patch of VideoSwin-T both give the same kernel.
- The relative position bias tables gain the temporal offsets: in both modes the 2D table is
  repeated for every offset ``dt`` in ``-(Wt-1)..Wt-1``. A query then scores a key the same at
  every time offset, so on a clip of identical frames each spatial key appears T times with the
  same weight and the attention output equals the 2D one.

Everything else (norms, attention and MLP weights, ``out_norms``, ``sem_seg_head.*``) is copied.
"""

import re

import torch

from .conversion import rename_tensors
from .report import ConversionReport

INFLATE_MODES = ("centre", "replicate")
# timm block sub-key -> torchvision block sub-key (the MLP is an ops.MLP Sequential there).
_BLOCK_KEYS = {"mlp.fc1.": "mlp.0.", "mlp.fc2.": "mlp.3."}


def inflate_patch_kernel(weight: torch.Tensor, temporal_patch: int, mode: str) -> torch.Tensor:
    """(C_out, C_in, kh, kw) -> (C_out, C_in, temporal_patch, kh, kw), see the module doc."""
    if mode not in INFLATE_MODES:
        raise ValueError(f"Unknown inflation mode {mode!r}; choose from {INFLATE_MODES}")
    if mode == "replicate":
        return weight.unsqueeze(2).repeat(1, 1, temporal_patch, 1, 1) / temporal_patch
    out = weight.new_zeros(weight.shape[0], weight.shape[1], temporal_patch, *weight.shape[2:])
    out[:, :, temporal_patch // 2] = weight
    return out


def inflate_bias_table(table: torch.Tensor, temporal_window: int) -> torch.Tensor:
    """((2Wh-1)(2Ww-1), heads) -> ((2Wt-1)(2Wh-1)(2Ww-1), heads): the 2D table for every dt.

    torchvision indexes the 3D table as dt * (2Wh-1)(2Ww-1) + (2D index), so stacking copies
    along the first axis puts the 2D table at every temporal offset.
    """
    return table.repeat(2 * temporal_window - 1, 1)


def _inflate_key(key: str) -> str | None:
    """2D ``D2SwinTransformer`` name -> ``D2VideoSwinTransformer`` name (None: no counterpart)."""
    if key.startswith(("backbone.swin.patch_embed.", "backbone.out_norms.", "sem_seg_head.")):
        return key
    match = re.match(r"backbone\.swin\.layers\.(\d+)\.blocks\.(\d+)\.(.+)$", key)
    if match:
        sub = match[3]
        for old, new in _BLOCK_KEYS.items():
            if sub.startswith(old):
                sub = new + sub[len(old) :]
        return f"backbone.swin.features.{2 * int(match[1])}.{match[2]}.{sub}"
    match = re.match(r"backbone\.swin\.layers\.(\d+)\.downsample\.(.+)$", key)
    if match and int(match[1]) > 0:
        return f"backbone.swin.features.{2 * int(match[1]) - 1}.{match[2]}"
    return None


def inflate_swin_to_video_swin(
    state_dict: dict,
    *,
    temporal_patch: int = 1,
    temporal_window: int = 4,
    mode: str = "centre",
) -> tuple[dict, ConversionReport]:
    """Inflate a 2D Swin checkpoint (``D2SwinTransformer`` names) for ``D2VideoSwinTransformer``.

    Args:
        state_dict: Detectron2-named 2D tensors (``backbone.swin.*``, ``backbone.out_norms.*``,
            optionally ``sem_seg_head.*``), e.g. the output of ``convert_timm_swin`` or
            ``convert_mmseg_upernet_swin``, or a trained 2D model.
        temporal_patch: temporal patch size of the 3D patch embedding (``PATCH_SIZE[0]``).
        temporal_window: temporal attention window (``MODEL.VIDEO_SWIN.WINDOW_SIZE[0]``).
        mode: "centre" or "replicate" (the patch-embedding kernel, see the module doc).
    Returns:
        (3D state dict, report). Keys without a 3D counterpart (e.g. ``adversarial.*``) are
        dropped and reported.
    """
    if mode not in INFLATE_MODES:
        raise ValueError(f"Unknown inflation mode {mode!r}; choose from {INFLATE_MODES}")
    if "backbone.swin.patch_embed.proj.weight" not in state_dict:
        raise ValueError(
            "Not a D2SwinTransformer checkpoint: 'backbone.swin.patch_embed.proj.weight' is "
            "missing; convert timm or mmseg checkpoints first (tools/convert_weights.py)"
        )
    report = ConversionReport(f"inflate-video-swin ({mode})")
    report.notes.append(
        f"patch kernel inflated to {temporal_patch} time step(s) ({mode}); relative position "
        f"tables repeated over {2 * temporal_window - 1} temporal offsets"
    )

    def inflate(new: str, value: torch.Tensor) -> torch.Tensor:
        if new == "backbone.swin.patch_embed.proj.weight":
            return inflate_patch_kernel(value, temporal_patch, mode)
        if new.endswith("relative_position_bias_table"):
            return inflate_bias_table(value, temporal_window)
        return value

    out = rename_tensors(
        state_dict,
        _inflate_key,
        report,
        unmatched="no counterpart in D2VideoSwinTransformer + its head",
        transform=inflate,
    )
    return out, report

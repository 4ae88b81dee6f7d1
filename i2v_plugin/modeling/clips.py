"""Clip helpers of the meta-architecture: time folded into the batch, and the 3D PatchGAN.

Inside the model a batch of B clips of T frames becomes B*T frames (clip-major: the frames of
clip 0, then clip 1, ...) for the per-frame head, the per-frame losses and the 2D
discriminators. ``ClipPatchGAN`` takes such per-frame maps, unfolds them into (B, C, T, h, w),
runs the 3D PatchGAN and folds its logits back to one map per frame, so the general adversarial
loss pairs them with per-frame domain labels (every frame carries its clip's domain).
"""

import torch
from torch import nn

from .adversarial.discriminators import PatchGANDiscriminator


def fold_time(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T, h, w) -> (B*T, C, h, w), clip-major."""
    return x.transpose(1, 2).flatten(0, 1)


def as_clip(x: torch.Tensor, frame_dims: int) -> torch.Tensor:
    """Add a time axis of length 1 to a single frame: ``frame_dims`` is 3 for an image
    (3, H, W) and 2 for a label map (H, W); a tensor with one more dim is already a clip."""
    if x.dim() == frame_dims:
        return x.unsqueeze(0)
    if x.dim() != frame_dims + 1:
        raise ValueError(
            f"Expected a frame with {frame_dims} dims or a clip with {frame_dims + 1}, got shape "
            f"{tuple(x.shape)}"
        )
    return x


class ClipPatchGAN(nn.Module):
    """The 3D PatchGAN (``PatchGANDiscriminator(dims=3)``) applied to per-frame maps of clips.

    Args:
        in_channels: channels C of the maps.
        clip_length: frames T per clip; the batch must hold whole clips, clip-major.
        base_channels: width of the PatchGAN's first layer.

    Input ``(B*T, C, h, w)`` -> logits ``(B*T, 1, h', w')`` (frame t of clip b at row b*T + t).
    """

    def __init__(self, in_channels: int, clip_length: int, base_channels: int = 64):
        super().__init__()
        if clip_length < 1:
            raise ValueError(f"ClipPatchGAN: clip_length must be >= 1, got {clip_length}")
        self.in_channels = int(in_channels)
        self.clip_length = int(clip_length)
        self.patchgan = PatchGANDiscriminator(in_channels, base_channels=base_channels, dims=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[0] % self.clip_length:
            raise ValueError(
                f"ClipPatchGAN: expected per-frame maps (B*T, C, h, w) with T = "
                f"{self.clip_length}, got shape {tuple(x.shape)}"
            )
        frames, channels, h, w = x.shape
        clips = x.view(frames // self.clip_length, self.clip_length, channels, h, w)
        logits = self.patchgan(clips.transpose(1, 2))  # (B, 1, T, h', w')
        return logits.transpose(1, 2).reshape(frames, 1, *logits.shape[-2:])


def use_clip_patchgans(branch: nn.Module, clip_length: int) -> list[str]:
    """Replace every 2D PatchGAN of a ``DomainAdversarialBranch`` by a ``ClipPatchGAN``.

    A clip backbone's general adversarial loss judges clips with the 3D PatchGAN; the branch
    builder only knows 2D maps, so the swap happens here. Returns the placements changed.
    """
    changed = []
    for name, loss in branch.placement_losses.items():
        disc = loss.discriminator
        if isinstance(disc, PatchGANDiscriminator) and disc.dims == 2:
            base = disc.net[0].out_channels
            loss.discriminator = ClipPatchGAN(disc.in_channels, clip_length, base_channels=base)
            changed.append(name)
    return changed


def check_clip_length(branch: nn.Module | None, clip_length: int) -> None:
    """Raise if a ``ClipPatchGAN`` of ``branch`` was built for another clip length."""
    if branch is None:
        return
    for module in branch.modules():
        if isinstance(module, ClipPatchGAN) and module.clip_length != clip_length:
            raise ValueError(
                f"The 3D PatchGAN was built for clips of {module.clip_length} frames "
                f"(INPUT.CLIP.LENGTH) but the batch has clips of {clip_length}"
            )

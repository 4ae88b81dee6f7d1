"""Clips as the model sees them: a still image (3, H, W) is a clip of length 1, a clip is
(T, 3, H, W); a batch of samples becomes normalised, padded clips (B, T, 3, H, W)."""

import torch
import torch.nn.functional as F
from detectron2.structures import ImageList


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


def normalized_clips(
    samples: list[dict], pixel_mean, pixel_std, size_divisibility: int
) -> ImageList:
    """Normalised clips of ``samples`` ("image" of each) padded together.

    Args:
        samples: mapper outputs.
        pixel_mean, pixel_std: (3, 1, 1) tensors on the model's device.
        size_divisibility: padded sides are multiples of it.
    Returns:
        ``ImageList``: tensor (B, T, 3, H, W), image_sizes per clip.
    """
    device = pixel_mean.device
    clips = [(as_clip(x["image"], 3).to(device) - pixel_mean) / pixel_std for x in samples]
    lengths = sorted({c.shape[0] for c in clips})
    if len(lengths) > 1:
        raise ValueError(
            f"Clips of one batch must have the same number of frames, got {lengths}; the "
            "mapper gives every sample INPUT.CLIP.LENGTH frames (still images as copies)"
        )
    return ImageList.from_tensors(clips, size_divisibility)


def valid_masks(samples: list[dict], size, device) -> torch.Tensor:
    """(N, H, W) bool for every frame of ``samples`` padded to ``size``: the mapper's "valid"
    (frame, not crop padding) where given, and False on the batch padding."""
    masks = []
    for x in samples:
        frames = as_clip(x["image"], 3)
        valid = x.get("valid")
        if valid is None:
            valid = torch.ones(frames.shape[-2:], dtype=torch.bool)
        valid = valid.to(device, torch.bool)
        pad = (0, size[1] - valid.shape[1], 0, size[0] - valid.shape[0])
        masks.append(F.pad(valid, pad, value=False).expand(frames.shape[0], *size))
    return torch.cat(masks)


def frame_logits(backbone, sem_seg_head, clips: torch.Tensor) -> torch.Tensor:
    """Per-frame logits at the input resolution.

    Args:
        backbone: a ``TappableBackbone``.
        sem_seg_head: a head with ``in_features`` and ``layers(features)`` (low-resolution
            logits), as ``UperNetHead`` and ``I2VDeepLabV3Head``.
        clips: (B, T, 3, H, W) normalised clips.
    Returns:
        (B*T, num_classes, H, W) logits (bilinear upsampling of the head's output).
    """
    features = backbone.forward_frames(clips, sem_seg_head.in_features)
    logits = sem_seg_head.layers(features)
    return F.interpolate(logits, size=clips.shape[-2:], mode="bilinear", align_corners=False)

"""Class maps from segmentation logits."""

import torch


def class_map(logits: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """The index of the largest logit along ``dim`` (the first one on ties), as int64.

    Equal to ``logits.argmax(dim)``, but computed with ``max``: on CPU, torch's ``argmax`` over
    a non-innermost dimension is an order of magnitude slower (about 1 ms for an 11 x 64 x 64
    frame against 0.06 ms), which is a fifth of a small model's forward pass.

    Args:
        logits: e.g. (C, H, W) for one frame or (N, C, H, W) with ``dim=1``.
        dim: the class dimension.
    Returns:
        ``logits`` without ``dim``, int64.
    """
    return logits.max(dim).indices

"""Per-pair weights of the clustered loss's BCE (``MODEL.I2V.CLUSTER.WEIGHTING``).

- "kinds" (default): the three kinds of pairs (``pairs.PAIR_KINDS``) carry equal total weight,
  as the balanced pair counts intend. With "balanced" pairing the counts are equal, so every
  weight is 1 and the loss is a plain mean; with "available" pairing a kind is weighted by
  1 / its count.
- "labels": "same domain" and "cross domain" carry equal total weight (the earlier rule: with
  balanced counts the cross kind weighs 1.5 and each same kind 0.75, i.e. 2 : 1 : 1).
- "none": every pair weighs 1.

Weights have mean 1 over the pairs, so the weighted mean BCE keeps the scale of a plain one.
"""

import torch
from torch import Tensor

PAIR_WEIGHTINGS = ("kinds", "labels", "none")


def label_balance_weights(targets: Tensor) -> Tensor:
    """Per-target weights (mean 1) giving both labels of {0, 1} ``targets`` equal total weight;
    all ones when only one label is present."""
    positive = targets > 0.5
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return torch.ones_like(targets)
    total = n_pos + n_neg
    return torch.where(positive, total / (2.0 * n_pos), total / (2.0 * n_neg)).to(targets.dtype)


def kind_balance_weights(kind: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """Per-pair weights (mean 1) giving every kind present in ``kind`` equal total weight.

    Args:
        kind: (P,) int64 kind index of every pair (``PairBatch.kind``).
        dtype: dtype of the weights.
    Returns:
        (P,) weights, ``P / (kinds present * pairs of its kind)`` each.
    """
    counts = torch.bincount(kind, minlength=3).to(dtype)
    present = int((counts > 0).sum())
    if present == 0:
        return torch.ones(0, dtype=dtype, device=kind.device)
    return (kind.numel() / present) / counts[kind]


def pair_weights(how: str, targets: Tensor, kind: Tensor) -> Tensor | None:
    """Weights of the pair BCE under rule ``how`` (see the module docstring).

    Args:
        how: one of ``PAIR_WEIGHTINGS``.
        targets: (P,) {0, 1} targets (1 = same domain).
        kind: (P,) int64 kind of every pair.
    Returns:
        (P,) weights of ``targets``' dtype, or None for "none" (unweighted).
    """
    if how == "kinds":
        return kind_balance_weights(kind, targets.dtype)
    if how == "labels":
        return label_balance_weights(targets)
    if how == "none":
        return None
    raise ValueError(f"pair_weights: how must be one of {PAIR_WEIGHTINGS}, got {how!r}")

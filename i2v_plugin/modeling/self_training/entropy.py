"""Entropy minimisation (ADVENT, Vu et al., 2019): the student's prediction entropy on
unlabeled frames, normalised by log C so that it lies in [0, 1]."""

import math

import torch


def normalized_entropy(logits: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) logits -> (N, H, W) entropy of the softmax divided by log C."""
    log_probs = logits.float().log_softmax(dim=1)
    entropy = -(log_probs.exp() * log_probs).sum(dim=1)
    return entropy / math.log(logits.shape[1])


def entropy_loss(logits: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean normalised entropy over the valid pixels (padding excluded).

    Args:
        logits: (N, C, H, W); valid: (N, H, W) bool.
    """
    entropy = normalized_entropy(logits)
    return (entropy * valid).sum() / valid.sum().clamp_min(1)

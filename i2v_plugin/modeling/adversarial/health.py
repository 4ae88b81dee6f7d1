"""Discriminator health: the figures that tell a learning discriminator from a dead one.

A domain discriminator can fail silently: its logits become a constant (e.g. every ReLU unit
dead) and its loss sits at the loss of a constant predictor, so the reversed gradient carries no
domain signal. Every discriminator therefore reports, each step:

- ``acc``: balanced accuracy (the mean of the per-label accuracies, each weighted as the loss
  weighs its targets; chance is 0.5 whatever the label mix);
- ``loss`` next to ``const_loss``, the loss of the best constant predictor for the same (weighted)
  label mix, i.e. the entropy of that mix: a discriminator is only useful below it;
- ``logit_std``: the spread of its logits (0 for a constant output);
- ``dead_units``: the fraction of hidden units whose activation input is never positive over the
  batch (``DeadUnitProbe``).
"""

import math

import torch
from torch import Tensor, nn

HEALTH_KEYS = ("acc", "loss", "const_loss", "logit_std", "dead_units")


class DeadUnitProbe:
    """Watches the ReLU / LeakyReLU layers of a module and counts units that never fire.

    A unit is a feature of a fully connected layer (last dim of an (N, D) input) or a channel of a
    convolution (dim 1 of (B, C, ...)). It is dead for a batch when its activation input is <= 0
    for every sample (and position). For LeakyReLU such a unit still passes a small gradient, but
    it carries no information about its input's sign.

    Call ``start()`` before the discriminator's forward, ``fraction()`` after it.
    """

    def __init__(self, module: nn.Module):
        self._alive: list[Tensor] = []
        self._recording = False
        for layer in module.modules():
            if isinstance(layer, (nn.ReLU, nn.LeakyReLU)):
                layer.register_forward_hook(self._record)

    def _record(self, layer, inputs, output) -> None:
        if not self._recording:
            return
        x = inputs[0].detach()
        if x.dim() == 2:
            alive = (x > 0).any(dim=0)
        else:
            alive = (x > 0).transpose(0, 1).flatten(1).any(dim=1)
        self._alive.append(alive)

    def start(self) -> None:
        """Forget the previous batch and record the next forward passes."""
        self._alive = []
        self._recording = True

    def fraction(self) -> float:
        """Dead units / all units seen since ``start`` (NaN if no activation layer ran)."""
        self._recording = False
        if not self._alive:
            return float("nan")
        alive = torch.cat(self._alive)
        return float((~alive).float().mean())


def constant_predictor_loss(targets: Tensor, weights: Tensor | None = None) -> float:
    """BCE of the best constant prediction for ``targets`` in {0, 1}: the entropy (nats) of their
    (weighted) mean. NaN for an empty tensor."""
    if targets.numel() == 0:
        return float("nan")
    t = targets.detach().float()
    w = torch.ones_like(t) if weights is None else weights.detach().float().expand_as(t)
    p = float((w * t).sum() / w.sum())
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def label_accuracy(
    logits: Tensor, targets: Tensor, label: int, weights: Tensor | None = None
) -> float:
    """Accuracy at logit 0 over the targets equal to ``label`` (0 or 1), each counted with its
    weight when ``weights`` are given; NaN when no target has that label."""
    mask = (targets > 0.5) if label else (targets <= 0.5)
    if not bool(mask.any()):
        return float("nan")
    correct = ((logits[mask] > 0) == bool(label)).float()
    if weights is None:
        return float(correct.mean())
    w = weights.detach().float().expand_as(targets)[mask]
    return float((w * correct).sum() / w.sum())


def balanced_accuracy(logits: Tensor, targets: Tensor, weights: Tensor | None = None) -> float:
    """Mean over the labels present of ``label_accuracy`` (so chance is 0.5 whatever the label
    mix; ``weights`` weigh the targets within a label); NaN for an empty tensor."""
    per_label = [label_accuracy(logits, targets, label, weights) for label in (1, 0)]
    per_label = [a for a in per_label if not math.isnan(a)]
    return sum(per_label) / len(per_label) if per_label else float("nan")


def health_figures(
    logits: Tensor,
    targets: Tensor,
    loss: Tensor,
    dead_units: float,
    weights: Tensor | None = None,
) -> dict[str, float]:
    """The ``HEALTH_KEYS`` figures of one discriminator step.

    Args:
        logits, targets: the discriminator's logits and their {0, 1} targets (same shape).
        loss: the (weighted) BCE it was trained with.
        dead_units: ``DeadUnitProbe.fraction()`` of that step.
        weights: per-target loss weights, if the loss used any: the balanced accuracy and the
            constant-predictor loss then weigh every target as the loss does.
    """
    logits = logits.detach().float()
    empty = logits.numel() == 0
    return {
        "acc": balanced_accuracy(logits, targets, weights),
        "loss": float("nan") if empty else float(loss.detach()),
        "const_loss": constant_predictor_loss(targets, weights),
        "logit_std": float("nan") if empty else float(logits.std(unbiased=False)),
        "dead_units": dead_units,
    }

"""Gradient reversal layer (GRL): identity forward, gradient scaled by ``-coeff`` backward.

Placing the GRL between the feature extractor and a domain discriminator lets one optimiser step
train the discriminator to tell domains apart while pushing the features to confuse it.
"""

import torch
from torch import Tensor


class _GradientReversal(torch.autograd.Function):
    """Autograd function behind :func:`grad_reverse`."""

    @staticmethod
    def forward(ctx, x: Tensor, coeff: float) -> Tensor:
        ctx.coeff = coeff
        # A view keeps the forward free of copies while still giving autograd a new node.
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:
        return grad_output * (-ctx.coeff), None


def grad_reverse(x: Tensor, coeff: float) -> Tensor:
    """Identity in the forward pass; multiplies the incoming gradient by ``-coeff`` backward.

    Args:
        x: tensor of any shape, dtype and device.
        coeff: non-negative scale of the reversed gradient (0 blocks the gradient to ``x``).

    Returns:
        A view of ``x`` (same shape, dtype, device, no copy) whose backward is ``-coeff * grad``.
    """
    coeff = float(coeff)
    if coeff != coeff or coeff in (float("inf"), float("-inf")):
        raise ValueError(f"grad_reverse: coeff must be a finite number, got {coeff}")
    return _GradientReversal.apply(x, coeff)

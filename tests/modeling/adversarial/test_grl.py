"""Gradient reversal layer: exact identity forward, exact ``-coeff * grad`` backward."""

import pytest
import torch

from i2v_plugin.modeling.adversarial.grl import grad_reverse


def test_forward_is_identity_view():
    x = torch.randn(3, 4, 5, requires_grad=True)
    y = grad_reverse(x, 0.7)
    assert torch.equal(y, x)
    assert y.data_ptr() == x.data_ptr()  # a view, no copy
    assert y.shape == x.shape and y.dtype == x.dtype


@pytest.mark.parametrize("coeff", [0.0, 0.1, 1.0, 2.5, 13.0])
def test_backward_is_exactly_negated_scaled_grad(coeff):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 7, generator=gen, requires_grad=True)
    upstream = torch.randn(6, 7, generator=gen)
    grad_reverse(x, coeff).backward(upstream)
    assert torch.equal(x.grad, -coeff * upstream)


def test_reversal_composes_with_later_ops():
    # The gradient of sum(w * grl(x)) w.r.t. x is -coeff * w; w's own gradient is unaffected.
    x = torch.randn(5, requires_grad=True)
    w = torch.randn(5, requires_grad=True)
    (w * grad_reverse(x, 0.5)).sum().backward()
    assert torch.allclose(x.grad, -0.5 * w.detach())
    assert torch.equal(w.grad, x.detach())


def test_non_finite_coeff_rejected():
    with pytest.raises(ValueError, match="coeff"):
        grad_reverse(torch.ones(2), float("nan"))

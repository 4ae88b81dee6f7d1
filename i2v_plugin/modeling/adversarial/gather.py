"""``all_gather_rows``: the rows of a tensor from every process, differentiably (a no-op in one
process).

A loss over the global batch of a distributed run (the clustered loss clusters and pairs the
maps of every process's samples) gathers its inputs with it. Every process then holds the same
global tensor and computes the same loss from it.

Gradients and DDP. Backward, each process receives the sum, over processes, of the gradients
that reached its own rows (an all-reduce of the gathered gradient; it works on gloo, which has
no reduce-scatter). When every process computes the same loss L from the gathered rows, that sum
is W * dL/d(own rows) for W processes, and DDP's averaging of parameter gradients divides by W
again: the encoder's gradient after DDP's all-reduce is dL/d(encoder), as in one process holding
the whole batch. Parameters used after the gather (a discriminator) get dL/d(parameter) on every
process, which DDP's average leaves unchanged. (A loss that differs between processes gets the
gradient of the mean of the processes' losses, the usual DDP meaning.)

Every process must call it at the same point of its forward pass, and, when the input needs a
gradient, reach it in its backward pass (the backward is a collective too). DDP already requires
both of every process.
"""

import torch
import torch.distributed as dist
from torch import Tensor


def world_size(group=None) -> int:
    """Processes of ``group`` (default: the default process group); 1 when torch.distributed is
    not initialised."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(group)
    return 1


def _gather(x: Tensor, group) -> tuple[Tensor, list[int]]:
    """Concatenation in rank order of every process's ``x`` (rows may differ in number), and
    the number of rows of each process."""
    count = world_size(group)
    shape = torch.tensor(x.shape, dtype=torch.long, device=x.device)
    shapes = [torch.empty_like(shape) for _ in range(count)]
    dist.all_gather(shapes, shape, group=group)
    shapes = [tuple(s.tolist()) for s in shapes]
    if any(s[1:] != tuple(x.shape[1:]) for s in shapes):
        raise ValueError(
            "all_gather_rows: every process must give tensors of the same shape after the first "
            f"dimension; got shapes {shapes} (one per rank)"
        )
    rows = [s[0] for s in shapes]
    padded = x.new_zeros((max(rows), *x.shape[1:]))
    padded[: x.shape[0]] = x
    chunks = [torch.empty_like(padded) for _ in rows]
    dist.all_gather(chunks, padded.contiguous(), group=group)
    return torch.cat([chunk[:n] for chunk, n in zip(chunks, rows)]), rows


class _AllGatherRows(torch.autograd.Function):
    """Autograd function behind ``all_gather_rows`` (summing backward)."""

    @staticmethod
    def forward(ctx, x: Tensor, group) -> Tensor:
        gathered, rows = _gather(x, group)
        rank = dist.get_rank(group)
        ctx.group = group
        ctx.span = (sum(rows[:rank]), sum(rows[: rank + 1]))
        return gathered

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        total = grad.contiguous().clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=ctx.group)
        start, end = ctx.span
        return total[start:end], None


def all_gather_rows(x: Tensor, group=None) -> Tensor:
    """Every process's ``x`` concatenated along dim 0, in rank order (rank 0's rows first, each
    process's rows in their own order).

    Args:
        x: (N_r, ...) tensor of this process; N_r may differ between processes, the other
            dimensions and the dtype may not. Any device the process group's backend takes.
        group: the process group (default: the default one).
    Returns:
        (sum of N_r, ...) tensor, the same on every process; ``x`` itself when not distributed.
        When ``x`` needs a gradient, the result carries one back to ``x``: the sum over
        processes of the gradients of its rows (see the module docstring for DDP).
    """
    if world_size(group) == 1:
        return x
    if torch.is_grad_enabled() and x.requires_grad:
        return _AllGatherRows.apply(x, group)
    return _gather(x, group)[0]

"""Norm-layer helpers shared by the heads: CPU-safe norm names and a conv-norm-ReLU block."""

from detectron2.layers import Conv2d, get_norm
from detectron2.utils import comm
from torch import nn


def resolve_norm(norm: str) -> str:
    """Return ``norm``, except "SyncBN" becomes "BN" when training is not distributed.

    SyncBatchNorm needs a process group (and CUDA); a single-process CPU run would fail.
    """
    if norm == "SyncBN" and comm.get_world_size() == 1:
        return "BN"
    return norm


def conv_norm_act(in_channels: int, out_channels: int, kernel_size: int, norm: str) -> Conv2d:
    """Conv (no bias when normalised) -> norm -> ReLU, as one Detectron2 ``Conv2d``."""
    return Conv2d(
        in_channels,
        out_channels,
        kernel_size=kernel_size,
        padding=kernel_size // 2,
        bias=not norm,
        norm=get_norm(norm, out_channels),
        activation=nn.ReLU(inplace=True),
    )

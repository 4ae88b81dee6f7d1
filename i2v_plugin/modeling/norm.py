"""A conv-norm-ReLU block shared by the heads.

Norm names are Detectron2's (``get_norm``). Configs use "naiveSyncBN" where the paper uses
synchronised BatchNorm: it is plain BatchNorm in a single process and all-reduces the batch
statistics across processes on any backend (gloo included), so one config runs everywhere.
"""

from detectron2.layers import Conv2d, get_norm
from torch import nn


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

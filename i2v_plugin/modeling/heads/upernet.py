"""``UperNetHead``: pyramid pooling on the deepest map + FPN fusion of all levels (UperNet).

Registered in ``SEM_SEG_HEADS_REGISTRY`` so ``MODEL.SEM_SEG_HEAD.NAME: UperNetHead`` selects it.
"""

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec
from detectron2.modeling import SEM_SEG_HEADS_REGISTRY
from torch import nn

from ..norm import conv_norm_act


@SEM_SEG_HEADS_REGISTRY.register()
class UperNetHead(nn.Module):
    """UperNet decoder.

    Input: dict of backbone maps named in ``in_features`` (increasing stride).
    Output: per-class logits at the stride of the first input map; upsampled to the input size
    (``common_stride``) at inference, or turned into the cross-entropy loss in training.
    """

    @configurable
    def __init__(
        self,
        input_shape: dict[str, ShapeSpec],
        *,
        num_classes: int,
        conv_dims: int,
        pool_scales=(1, 2, 3, 6),
        norm: str = "BN",
        dropout: float = 0.1,
        ignore_value: int = 255,
        loss_weight: float = 1.0,
    ):
        """
        Args:
            input_shape: name -> ShapeSpec of the maps the head consumes.
            num_classes: output classes (including background).
            conv_dims: channels of every decoder conv.
            pool_scales: output sizes of the pyramid pooling module.
            norm: Detectron2 norm name ("BN", "GN", "naiveSyncBN", "").
            dropout: dropout before the classifier.
            ignore_value: label ignored by the loss.
            loss_weight: multiplier of ``loss_sem_seg``.
        """
        super().__init__()
        shapes = sorted(input_shape.items(), key=lambda kv: kv[1].stride)
        self.in_features = [name for name, _ in shapes]
        channels = [s.channels for _, s in shapes]
        self.common_stride = shapes[0][1].stride
        self.ignore_value = ignore_value
        self.loss_weight = loss_weight

        self.pool_branches = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(scale), conv_norm_act(channels[-1], conv_dims, 1, norm)
            )
            for scale in pool_scales
        )
        self.pool_bottleneck = conv_norm_act(
            channels[-1] + len(pool_scales) * conv_dims, conv_dims, 3, norm
        )
        self.lateral_convs = nn.ModuleList(
            conv_norm_act(c, conv_dims, 1, norm) for c in channels[:-1]
        )
        self.fpn_convs = nn.ModuleList(
            conv_norm_act(conv_dims, conv_dims, 3, norm) for _ in channels[:-1]
        )
        self.fuse = conv_norm_act(len(channels) * conv_dims, conv_dims, 3, norm)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.predictor = Conv2d(conv_dims, num_classes, kernel_size=1)
        nn.init.normal_(self.predictor.weight, std=0.01)
        nn.init.zeros_(self.predictor.bias)

    @classmethod
    def from_config(cls, cfg, input_shape: dict[str, ShapeSpec]):
        head = cfg.MODEL.SEM_SEG_HEAD
        return {
            "input_shape": {k: v for k, v in input_shape.items() if k in head.IN_FEATURES},
            "num_classes": head.NUM_CLASSES,
            "conv_dims": head.CONVS_DIM,
            "pool_scales": tuple(cfg.MODEL.UPERNET.POOL_SCALES),
            "norm": head.NORM,
            "dropout": cfg.MODEL.UPERNET.DROPOUT,
            "ignore_value": head.IGNORE_VALUE,
            "loss_weight": head.LOSS_WEIGHT,
        }

    def layers(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Maps -> logits (B, num_classes, H / common_stride, W / common_stride)."""
        maps = [features[name] for name in self.in_features]
        top = maps[-1]
        pooled = [top] + [
            F.interpolate(branch(top), size=top.shape[-2:], mode="bilinear", align_corners=False)
            for branch in self.pool_branches
        ]
        laterals = [conv(m) for conv, m in zip(self.lateral_convs, maps[:-1])]
        laterals.append(self.pool_bottleneck(torch.cat(pooled, dim=1)))
        for i in range(len(laterals) - 1, 0, -1):  # top-down pathway
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[-2:], mode="bilinear", align_corners=False
            )
        outs = [conv(lat) for conv, lat in zip(self.fpn_convs, laterals[:-1])] + [laterals[-1]]
        size = outs[0].shape[-2:]
        outs = [outs[0]] + [
            F.interpolate(o, size=size, mode="bilinear", align_corners=False) for o in outs[1:]
        ]
        return self.predictor(self.dropout(self.fuse(torch.cat(outs, dim=1))))

    def forward(self, features: dict[str, torch.Tensor], targets: torch.Tensor | None = None):
        """
        Args:
            features: name -> (B, C, h, w) maps.
            targets: (B, H, W) long labels (training only), H = h * common_stride.
        Returns:
            training: ``(None, {"loss_sem_seg": weighted loss})``;
            inference: ``((B, num_classes, H, W) logits, {})``.
        """
        logits = self.layers(features)
        logits = F.interpolate(
            logits, scale_factor=self.common_stride, mode="bilinear", align_corners=False
        )
        if self.training:
            return None, self.losses(logits, targets)
        return logits, {}

    def losses(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """Pixel-wise cross entropy over labeled pixels, weighted by ``loss_weight``."""
        loss = F.cross_entropy(
            logits.float(), targets, reduction="mean", ignore_index=self.ignore_value
        )
        return {"loss_sem_seg": loss * self.loss_weight}

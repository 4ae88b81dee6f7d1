"""``I2VDeepLabV3Head``: Detectron2's DeepLabv3 ASPP head (``detectron2.projects.deeplab``)
with global image pooling and torchvision's optional 3x3 conv before the classifier.

Registered in ``SEM_SEG_HEADS_REGISTRY``; selected by ``MODEL.SEM_SEG_HEAD.NAME:
I2VDeepLabV3Head``.
"""

import torch
import torch.nn.functional as F
from detectron2.layers import ShapeSpec
from detectron2.modeling import SEM_SEG_HEADS_REGISTRY
from detectron2.projects.deeplab import DeepLabV3Head

from ..norm import conv_norm_act


@SEM_SEG_HEADS_REGISTRY.register()
class I2VDeepLabV3Head(DeepLabV3Head):
    """Detectron2's ``DeepLabV3Head`` (ASPP + 1x1 classifier) with two changes.

    - ASPP's image pooling is always global, so inference works at any input size (Detectron2
      pools over the training crop size instead, which breaks on other sizes).
    - ``MODEL.DEEPLAB.HEAD_CONV`` adds torchvision's 3x3 conv-norm-ReLU (ASPP_CHANNELS ->
      CONVS_DIM) before the classifier.

    Called as ``head(features, targets)``: training returns ``(None, {"loss_sem_seg"})``,
    inference ``((B, num_classes, H, W) logits, {})``; ``in_features`` names its input map.
    """

    def __init__(self, cfg, input_shape: dict[str, ShapeSpec]):
        head = cfg.MODEL.SEM_SEG_HEAD
        for name in head.IN_FEATURES:
            if name not in input_shape:
                raise ValueError(
                    f"MODEL.SEM_SEG_HEAD.IN_FEATURES names {name!r}, but the backbone gives "
                    f"{sorted(input_shape)}"
                )
            if input_shape[name].stride != head.COMMON_STRIDE:
                raise ValueError(
                    f"MODEL.SEM_SEG_HEAD.COMMON_STRIDE is {head.COMMON_STRIDE}, but the backbone "
                    f"map {name!r} has stride {input_shape[name].stride}; set COMMON_STRIDE to the "
                    "output stride (8 or 16, from MODEL.RESNETS.RES4_DILATION/RES5_DILATION)"
                )
        if not cfg.MODEL.DEEPLAB.HEAD_CONV and head.CONVS_DIM != head.ASPP_CHANNELS:
            raise ValueError(
                f"Without MODEL.DEEPLAB.HEAD_CONV the classifier reads ASPP's output, so "
                f"MODEL.SEM_SEG_HEAD.CONVS_DIM ({head.CONVS_DIM}) must equal ASPP_CHANNELS "
                f"({head.ASPP_CHANNELS})"
            )
        local = cfg.clone()
        local.defrost()
        # No crop size -> DeepLabV3Head builds ASPP with global (adaptive) image pooling.
        local.INPUT.CROP.ENABLED = False
        super().__init__(local, input_shape)
        self.head_conv = (
            conv_norm_act(head.ASPP_CHANNELS, head.CONVS_DIM, 3, head.NORM)
            if cfg.MODEL.DEEPLAB.HEAD_CONV
            else None
        )

    def layers(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Maps -> logits (B, num_classes, H / common_stride, W / common_stride)."""
        x = self.aspp(features[self.in_features[0]])
        if self.head_conv is not None:
            x = self.head_conv(x)
        return self.predictor(x)

    def forward(self, features: dict[str, torch.Tensor], targets: torch.Tensor | None = None):
        """
        Args:
            features: name -> (B, C, h, w); the head reads ``in_features[0]``.
            targets: (B, H, W) long labels (training only), H = h * common_stride.
        Returns:
            training: ``(None, {"loss_sem_seg": weighted loss})``;
            inference: ``((B, num_classes, H, W) logits, {})``.
        """
        logits = self.layers(features)
        if self.training:
            return None, self.losses(logits, targets)
        logits = F.interpolate(
            logits, scale_factor=self.common_stride, mode="bilinear", align_corners=False
        )
        return logits, {}

"""The DeepLabv3 encoder: Detectron2's DeepLab ResNet (``detectron2.projects.deeplab``) as a
``TappableBackbone``.

``D2DeepLabResNet`` wraps the ResNet built by Detectron2's ``build_resnet_deeplab_backbone``: it
keeps Detectron2's parameter names (``stem.*``, ``res2.*`` ... ``res5.*``) and adds the "stem" tap
(stride 4, the "spatial" placement of a CNN). Output stride 8 or 16 comes from
``MODEL.RESNETS.RES4_DILATION`` / ``RES5_DILATION`` (2/4 for stride 8, 1/2 for stride 16). The
ASPP head is ``heads/deeplab.py``.
"""

import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY
from detectron2.modeling.backbone.resnet import ResNet
from detectron2.projects.deeplab import build_resnet_deeplab_backbone

from .base import TappableBackbone

STAGE_NAMES = ("stem", "res2", "res3", "res4", "res5")
FIRST_BLOCK_DILATIONS = ("stage", "previous")


def keep_previous_dilation_in_first_blocks(resnet: ResNet) -> None:
    """Give the first block of every dilated stage the previous stage's dilation, in place.

    Detectron2 dilates every block of a dilated stage; torchvision's ResNet keeps the previous
    dilation in the first block (it replaces that block's stride). Matching torchvision is what
    lets converted ``deeplabv3_resnet101`` weights reproduce its outputs.
    """
    previous = 1
    for name in resnet.stage_names:
        first = getattr(resnet, name)[0]
        conv = first.conv2
        dilation = conv.dilation[0]
        if dilation > previous:
            conv.dilation = (previous, previous)
            conv.padding = (previous, previous)
        previous = dilation


class D2DeepLabResNet(TappableBackbone):
    """Detectron2's DeepLab ResNet with the plugin's backbone interface.

    Maps: "stem" (stride 4, the "spatial" placement of a CNN: the patch-embedding analogue),
    "res2".."res5" (res5 = encoder output, the "global" placement).
    """

    stage_names = STAGE_NAMES

    def __init__(self, resnet: ResNet, out_features=("res5",)):
        """
        Args:
            resnet: a Detectron2 ``ResNet`` with all four stages (res2..res5); its modules are
                adopted under their Detectron2 names.
            out_features: names returned by ``forward`` by default, among ``STAGE_NAMES``.
        """
        if tuple(resnet.stage_names) != STAGE_NAMES[1:]:
            raise ValueError(
                f"D2DeepLabResNet needs a ResNet with stages {STAGE_NAMES[1:]}, got "
                f"{tuple(resnet.stage_names)}; build it with every stage in OUT_FEATURES"
            )
        super().__init__(
            {k: resnet._out_feature_channels[k] for k in STAGE_NAMES},
            {k: resnet._out_feature_strides[k] for k in STAGE_NAMES},
            out_features,
        )
        for name in STAGE_NAMES:
            self.add_module(name, getattr(resnet, name))

    def run_stage(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) output of stage ``name`` (the stem or a residual stage)."""
        return getattr(self, name)(x)


@BACKBONE_REGISTRY.register()
def build_i2v_resnet_deeplab_backbone(cfg, input_shape: ShapeSpec) -> D2DeepLabResNet:
    """Build ``D2DeepLabResNet`` with Detectron2's ``build_resnet_deeplab_backbone``.

    Reads ``MODEL.RESNETS`` (depth, stem, dilations, norm) and
    ``MODEL.DEEPLAB.FIRST_BLOCK_DILATION``. All four stages are always built (the
    "global" placement taps res5); ``MODEL.RESNETS.OUT_FEATURES`` only sets the default outputs.
    Selected by ``MODEL.BACKBONE.NAME: build_i2v_resnet_deeplab_backbone``.
    """
    first_block = cfg.MODEL.DEEPLAB.FIRST_BLOCK_DILATION
    if first_block not in FIRST_BLOCK_DILATIONS:
        raise ValueError(
            f"MODEL.DEEPLAB.FIRST_BLOCK_DILATION must be one of {FIRST_BLOCK_DILATIONS}, "
            f"got {first_block!r}"
        )
    build_cfg = cfg.clone()
    build_cfg.defrost()
    build_cfg.MODEL.RESNETS.OUT_FEATURES = list(STAGE_NAMES[1:])
    resnet = build_resnet_deeplab_backbone(build_cfg, input_shape)
    if first_block == "previous":
        keep_previous_dilation_in_first_blocks(resnet)
    return D2DeepLabResNet(resnet, out_features=cfg.MODEL.RESNETS.OUT_FEATURES)

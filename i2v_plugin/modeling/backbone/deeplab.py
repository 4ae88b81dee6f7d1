"""DeepLabv3 pieces from ``detectron2.projects.deeplab``, adapted to the plugin's interfaces.

``D2DeepLabResNet`` wraps the ResNet built by Detectron2's ``build_resnet_deeplab_backbone``: it
keeps Detectron2's parameter names (``stem.*``, ``res2.*`` ... ``res5.*``), adds the "stem" tap
(stride 4, the "spatial" placement of a CNN), can stop after the deepest requested map, and
reports a non-zero ``size_divisibility``. ``I2VDeepLabV3Head`` is Detectron2's ``DeepLabV3Head``
with CPU-safe norms, global ASPP image pooling and an optional torchvision-style 3x3 conv before
the classifier. Output stride 8 or 16 comes from ``MODEL.RESNETS.RES4_DILATION`` /
``RES5_DILATION`` (2/4 for stride 8, 1/2 for stride 16).
"""

import torch
import torch.nn.functional as F
from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY, SEM_SEG_HEADS_REGISTRY, Backbone
from detectron2.modeling.backbone.resnet import ResNet
from detectron2.projects.deeplab import DeepLabV3Head, build_resnet_deeplab_backbone

from ..norm import conv_norm_act, resolve_norm

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


class D2DeepLabResNet(Backbone):
    """Detectron2's DeepLab ResNet with the plugin's backbone interface.

    Maps: "stem" (stride 4), "res2".."res5" (res5 = encoder output, the "global" placement).
    ``forward(x, out_features)`` runs only as deep as the deepest requested map.
    """

    # The "spatial" placement of a CNN is its stem output (the patch-embedding analogue).
    placement_features = {"spatial": "stem", "global": "res5"}

    def __init__(self, resnet: ResNet, out_features=("res5",)):
        """
        Args:
            resnet: a Detectron2 ``ResNet`` with all four stages (res2..res5); its modules are
                adopted under their Detectron2 names.
            out_features: names returned by ``forward`` by default, among ``STAGE_NAMES``.
        """
        super().__init__()
        if tuple(resnet.stage_names) != STAGE_NAMES[1:]:
            raise ValueError(
                f"D2DeepLabResNet needs a ResNet with stages {STAGE_NAMES[1:]}, got "
                f"{tuple(resnet.stage_names)}; build it with every stage in OUT_FEATURES"
            )
        unknown = set(out_features) - set(STAGE_NAMES)
        if unknown:
            raise ValueError(
                f"Unknown DeepLab ResNet out_features {sorted(unknown)}; choose from {STAGE_NAMES}"
            )
        self.stem = resnet.stem
        for name in STAGE_NAMES[1:]:
            self.add_module(name, getattr(resnet, name))
        self._feature_channels = {k: resnet._out_feature_channels[k] for k in STAGE_NAMES}
        self._feature_strides = {k: resnet._out_feature_strides[k] for k in STAGE_NAMES}
        self._out_features = list(out_features)
        self._out_feature_channels = {k: self._feature_channels[k] for k in out_features}
        self._out_feature_strides = {k: self._feature_strides[k] for k in out_features}

    @property
    def size_divisibility(self) -> int:
        # Sides that are multiples of the deepest stride give exact map sizes at every tap, so
        # the head's logits, upsampled by the output stride, cover the input exactly.
        return self._feature_strides["res5"]

    def feature_shapes(self) -> dict[str, ShapeSpec]:
        """Channels and stride of every tappable map (``STAGE_NAMES``), not only the outputs."""
        return {
            k: ShapeSpec(channels=self._feature_channels[k], stride=self._feature_strides[k])
            for k in STAGE_NAMES
        }

    def forward(self, x: torch.Tensor, out_features=None) -> dict[str, torch.Tensor]:
        """
        Args:
            x: (B, C, H, W) normalised images, H and W multiples of ``size_divisibility``.
            out_features: names to return (default: the configured ``out_features``).
        Returns:
            dict name -> (B, C_name, H / stride_name, W / stride_name).
        """
        if x.dim() != 4:
            raise ValueError(f"D2DeepLabResNet takes (B, C, H, W) images, got {tuple(x.shape)}")
        wanted = self._out_features if out_features is None else list(out_features)
        unknown = set(wanted) - set(STAGE_NAMES)
        if unknown:
            raise ValueError(f"Unknown DeepLab ResNet maps {sorted(unknown)}; have {STAGE_NAMES}")
        depth = max(STAGE_NAMES.index(name) for name in wanted)
        outputs = {}
        for name in STAGE_NAMES[: depth + 1]:
            x = getattr(self, name)(x)
            if name in wanted:
                outputs[name] = x
        return outputs


@BACKBONE_REGISTRY.register()
def build_i2v_resnet_deeplab_backbone(cfg, input_shape: ShapeSpec) -> D2DeepLabResNet:
    """Build ``D2DeepLabResNet`` with Detectron2's ``build_resnet_deeplab_backbone``.

    Reads ``MODEL.RESNETS`` (depth, stem, dilations, norm: "SyncBN" becomes "BN" when not
    distributed) and ``MODEL.DEEPLAB.FIRST_BLOCK_DILATION``. All four stages are always built (the
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
    build_cfg.MODEL.RESNETS.NORM = resolve_norm(cfg.MODEL.RESNETS.NORM)
    build_cfg.MODEL.RESNETS.OUT_FEATURES = list(STAGE_NAMES[1:])
    resnet = build_resnet_deeplab_backbone(build_cfg, input_shape)
    if first_block == "previous":
        keep_previous_dilation_in_first_blocks(resnet)
    return D2DeepLabResNet(resnet, out_features=cfg.MODEL.RESNETS.OUT_FEATURES)


@SEM_SEG_HEADS_REGISTRY.register()
class I2VDeepLabV3Head(DeepLabV3Head):
    """Detectron2's ``DeepLabV3Head`` (ASPP + 1x1 classifier) with three changes.

    - Norm names pass through ``resolve_norm`` (SyncBN -> BN in single-process runs).
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
        norm = resolve_norm(head.NORM)
        local = cfg.clone()
        local.defrost()
        local.MODEL.SEM_SEG_HEAD.NORM = norm
        # No crop size -> DeepLabV3Head builds ASPP with global (adaptive) image pooling.
        local.INPUT.CROP.ENABLED = False
        super().__init__(local, input_shape)
        self.head_conv = (
            conv_norm_act(head.ASPP_CHANNELS, head.CONVS_DIM, 3, norm)
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

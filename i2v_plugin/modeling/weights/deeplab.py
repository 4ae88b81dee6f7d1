"""DeepLab (``build_i2v_resnet_deeplab_backbone``, ``D2DeepLabResNet``) <-> torchvision.

Import ("torchvision-deeplabv3"): a torchvision ``deeplabv3_resnet101`` (or ``_resnet50``) state
dict -> the plugin's DeepLabv3 (``D2DeepLabResNet`` + ``I2VDeepLabV3Head``) with Detectron2
parameter names. The architectures coincide when the model is configured as in
``configs/Base-I2V-DeepLab-R101``: basic 7x7 stem with 64 channels, stride in the 3x3 convs
(``STRIDE_IN_1X1: False``), output stride 8 with torchvision's first-block dilation
(``MODEL.DEEPLAB.FIRST_BLOCK_DILATION: previous``), ASPP dilations 12/24/36, no multi-grid, and
the 3x3 head conv (``MODEL.DEEPLAB.HEAD_CONV``).
One difference remains: torchvision normalises ASPP's image-pooling conv with BatchNorm, which
Detectron2's ASPP lacks; that BatchNorm is folded into the conv (exact in inference).

Export: a torchvision ``resnet50/101/152`` state dict (the encoder; the ASPP head is not part of
it). The dilation to build it with (``replace_stride_with_dilation``) is in the JSON record;
dilations torchvision cannot express are recorded as differences.
"""

import re

import torch

from .conversion import rename_by_rules, rename_tensors
from .export import ExportError, inverse_names
from .registry import (
    BackboneExporter,
    HomeModel,
    one_step_importer,
    register_backbone_weights,
)
from .report import ConversionReport

# torchvision BatchNorm2d default epsilon (used when folding the image-pooling BatchNorm).
BN_EPS = 1e-5
_BN_PARAMS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# torchvision ResNet block sub-key -> Detectron2 block sub-key (under backbone.layer<i>.<j>.)
_BLOCK_RULES = [
    (r"conv(\d)\.weight", r"conv\1.weight"),
    (r"bn(\d)\.(\w+)", r"conv\1.norm.\2"),
    (r"downsample\.0\.weight", "shortcut.weight"),
    (r"downsample\.1\.(\w+)", r"shortcut.norm.\1"),
]
# Every other key. The ASPP image-pooling branch (convs.4) is folded by ``_fold_image_pooling``.
_RULES = [
    (r"backbone\.conv1\.weight", "backbone.stem.conv1.weight"),
    (r"backbone\.bn1\.(\w+)", r"backbone.stem.conv1.norm.\1"),
    (r"classifier\.0\.convs\.([0-3])\.0\.(\w+)", r"sem_seg_head.aspp.convs.\1.\2"),
    (r"classifier\.0\.convs\.([0-3])\.1\.(\w+)", r"sem_seg_head.aspp.convs.\1.norm.\2"),
    (r"classifier\.0\.project\.0\.(\w+)", r"sem_seg_head.aspp.project.\1"),
    (r"classifier\.0\.project\.1\.(\w+)", r"sem_seg_head.aspp.project.norm.\1"),
    (r"classifier\.1\.weight", "sem_seg_head.head_conv.weight"),
    (r"classifier\.2\.(\w+)", r"sem_seg_head.head_conv.norm.\1"),
    (r"classifier\.4\.(weight|bias)", r"sem_seg_head.predictor.\1"),
]


def _convert_key(key: str) -> str | None:
    """torchvision DeepLabv3 name -> Detectron2 name (None: no counterpart)."""
    block = re.fullmatch(r"backbone\.layer(\d)\.(\d+)\.(.+)", key)
    if block:
        sub = rename_by_rules(block[3], _BLOCK_RULES)
        return sub and f"backbone.res{int(block[1]) + 1}.{block[2]}.{sub}"
    return rename_by_rules(key, _RULES)


def _fold_image_pooling(state_dict: dict, out: dict, report: ConversionReport) -> set[str]:
    """Fold ASPP image pooling's conv + BatchNorm into one biased conv; returns the used keys."""
    conv_key = "classifier.0.convs.4.1.weight"
    bn = {p: f"classifier.0.convs.4.2.{p}" for p in _BN_PARAMS}
    needed = [conv_key] + [bn[p] for p in _BN_PARAMS[:4]]
    if not all(k in state_dict for k in needed):
        return set()
    scale = state_dict[bn["weight"]] / torch.sqrt(state_dict[bn["running_var"]] + BN_EPS)
    out["sem_seg_head.aspp.convs.4.1.weight"] = state_dict[conv_key] * scale.view(-1, 1, 1, 1)
    out["sem_seg_head.aspp.convs.4.1.bias"] = (
        state_dict[bn["bias"]] - state_dict[bn["running_mean"]] * scale
    )
    report.converted += 2
    report.notes.append(
        "ASPP image-pooling BatchNorm folded into its conv (Detectron2's ASPP has none there); "
        "exact at inference"
    )
    return {conv_key, *bn.values()}


def convert_torchvision_deeplabv3(
    state_dict: dict, num_classes: int | None = None
) -> tuple[dict, ConversionReport]:
    """torchvision DeepLabv3-ResNet state dict -> Detectron2 DeepLab names.

    Args:
        state_dict: ``deeplabv3_resnet101(...).state_dict()`` tensors (``backbone.*``,
            ``classifier.*``, optional ``aux_classifier.*``).
        num_classes: the target model's class count; a classifier with another count is
            dropped and reported. None keeps it whatever its size.
    Returns:
        (state dict with ``backbone.*`` / ``sem_seg_head.*`` names, report). The auxiliary FCN
        head is always dropped.
    """
    report = ConversionReport("torchvision-deeplabv3")
    folded = {}
    used = _fold_image_pooling(state_dict, folded, report)
    renamed = rename_tensors(
        {k: v for k, v in state_dict.items() if k not in used},
        _convert_key,
        report,
        unmatched="no counterpart in D2DeepLabResNet + I2VDeepLabV3Head",
        drop=[("aux_classifier.", "auxiliary FCN head on layer3, not part of the model")],
        num_classes=num_classes,
        skip=(),
    )
    out = {**folded, **renamed}
    if "backbone.stem.conv1.weight" not in out:
        raise ValueError(
            "Not a torchvision DeepLabv3-ResNet checkpoint: 'backbone.conv1.weight' is missing "
            f"(first keys: {sorted(state_dict)[:5]})"
        )
    return out, report


# (RES4_DILATION, RES5_DILATION) -> torchvision's replace_stride_with_dilation
_TORCHVISION_DILATIONS = {
    (1, 1): [False, False, False],
    (1, 2): [False, False, True],
    (2, 4): [False, True, True],
}


def _differences(cfg, replace_stride: list[bool]) -> list[str]:
    """What keeps torchvision's ResNet from computing the plugin's features exactly."""
    res = cfg.MODEL.RESNETS
    dilations = (res.RES4_DILATION, res.RES5_DILATION)
    differences = []
    if dilations not in _TORCHVISION_DILATIONS:
        differences.append(
            f"RES4_DILATION/RES5_DILATION {dilations}: torchvision dilates only as (1, 1), (1, 2) "
            f"or (2, 4); built with replace_stride_with_dilation={replace_stride}"
        )
    if any(grid != 1 for grid in res.RES5_MULTI_GRID):
        differences.append(f"RES5_MULTI_GRID {list(res.RES5_MULTI_GRID)}: torchvision has none")
    if res.STRIDE_IN_1X1:
        differences.append("STRIDE_IN_1X1: torchvision strides in the 3x3 conv")
    if cfg.MODEL.DEEPLAB.FIRST_BLOCK_DILATION != "previous":
        differences.append(
            "FIRST_BLOCK_DILATION 'stage': torchvision keeps the previous dilation in the first "
            "block of a dilated stage"
        )
    return differences


def torchvision_resnet_home(cfg) -> HomeModel:
    """torchvision's ResNet for ``cfg.MODEL.RESNETS``, without weights. Only the dilations
    torchvision can express are exact; the others are recorded as differences."""
    import torchvision

    res = cfg.MODEL.RESNETS
    depth = res.DEPTH
    if depth not in (50, 101, 152):
        raise ExportError(f"MODEL.RESNETS.DEPTH {depth}: torchvision has resnet50/101/152 only")
    if res.STEM_TYPE != "basic":
        raise ExportError(
            f"MODEL.RESNETS.STEM_TYPE {res.STEM_TYPE!r}: torchvision's ResNet has the basic 7x7 "
            "stem only"
        )
    dilations = (res.RES4_DILATION, res.RES5_DILATION)
    replace_stride = _TORCHVISION_DILATIONS.get(
        dilations, [False, dilations[0] > 1, dilations[1] > 1]
    )
    model = getattr(torchvision.models, f"resnet{depth}")(
        weights=None, replace_stride_with_dilation=replace_stride
    )
    names = inverse_names(
        lambda sd: convert_torchvision_deeplabv3({"backbone." + k: v for k, v in sd.items()}),
        model.state_dict(),
    )
    output_stride = 32 // (2 ** sum(replace_stride))
    record = {
        "library": "torchvision",
        "model": f"resnet{depth}",
        "build": f"torchvision.models.resnet{depth}(weights=None, "
        f"replace_stride_with_dilation={replace_stride})",
        "replace_stride_with_dilation": replace_stride,
        "dilations": {"layer3": res.RES4_DILATION, "layer4": res.RES5_DILATION},
        "output_stride": output_stride,
        "differences": _differences(cfg, replace_stride),
        "features": "layer4(layer3(layer2(layer1(maxpool(relu(bn1(conv1(x)))))))): "
        f"(B, {model.fc.in_features}, H/{output_stride}, W/{output_stride}) = the plugin's res5",
    }
    note = (
        f"dilation: replace_stride_with_dilation={replace_stride} (layer3 {res.RES4_DILATION}, "
        f"layer4 {res.RES5_DILATION}, output stride {output_stride})"
    )
    return HomeModel(model, record, names, (note,))


register_backbone_weights(
    "build_i2v_resnet_deeplab_backbone",
    importers={
        "torchvision-deeplabv3": one_step_importer(convert_torchvision_deeplabv3, "num_classes")
    },
    exporter=BackboneExporter(
        signature="backbone.stem.conv1.weight",
        label="DeepLab ResNet (Detectron2)",
        home=torchvision_resnet_home,
    ),
)

"""torchvision ``deeplabv3_resnet101`` (or ``_resnet50``) state dict -> the plugin's DeepLabv3
(``D2DeepLabResNet`` + ``I2VDeepLabV3Head``) with Detectron2 parameter names.

The architectures coincide when the model is configured as in ``configs/Base-I2V-DeepLab-R101``:
basic 7x7 stem with 64 channels, stride in the 3x3 convs (``STRIDE_IN_1X1: False``), output stride
8 with torchvision's first-block dilation (``MODEL.DEEPLAB.FIRST_BLOCK_DILATION: previous``),
ASPP dilations 12/24/36, no multi-grid, and the 3x3 head conv (``MODEL.DEEPLAB.HEAD_CONV``).
One difference remains: torchvision normalises ASPP's image-pooling conv with BatchNorm, which
Detectron2's ASPP lacks; that BatchNorm is folded into the conv (exact in inference).
"""

import re

import torch

from .report import ConversionReport

# torchvision BatchNorm2d default epsilon (used when folding the image-pooling BatchNorm).
BN_EPS = 1e-5
_BN_PARAMS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# torchvision ASPP module (under classifier.0.) -> Detectron2 ASPP module (under aspp.)
_ASPP_CONV_BN = [
    (r"convs\.([0-3])\.0", r"convs.\1", False),
    (r"convs\.([0-3])\.1", r"convs.\1", True),
    (r"project\.0", "project", False),
    (r"project\.1", "project", True),
]


def _convert_backbone_key(rest: str) -> str | None:
    """``backbone.*`` (torchvision ResNet) -> Detectron2 ResNet name, without prefix."""
    if rest == "conv1.weight":
        return "stem.conv1.weight"
    match = re.match(r"bn1\.(\w+)$", rest)
    if match:
        return f"stem.conv1.norm.{match[1]}"
    match = re.match(r"layer(\d)\.(\d+)\.(.+)$", rest)
    if not match:
        return None
    stage, block, sub = f"res{int(match[1]) + 1}", match[2], match[3]
    conv = re.match(r"conv(\d)\.weight$", sub)
    if conv:
        return f"{stage}.{block}.conv{conv[1]}.weight"
    norm = re.match(r"bn(\d)\.(\w+)$", sub)
    if norm:
        return f"{stage}.{block}.conv{norm[1]}.norm.{norm[2]}"
    if sub == "downsample.0.weight":
        return f"{stage}.{block}.shortcut.weight"
    shortcut_norm = re.match(r"downsample\.1\.(\w+)$", sub)
    if shortcut_norm:
        return f"{stage}.{block}.shortcut.norm.{shortcut_norm[1]}"
    return None


def _convert_head_key(rest: str) -> str | None:
    """``classifier.*`` (torchvision DeepLabHead) -> ``I2VDeepLabV3Head`` name, without prefix.

    The image-pooling branch (``0.convs.4``) is handled by ``_fold_image_pooling``.
    """
    match = re.match(r"0\.(.+)\.(\w+)$", rest)
    if match:
        for pattern, target, is_norm in _ASPP_CONV_BN:
            if re.fullmatch(pattern, match[1]):
                module = re.sub(pattern, target, match[1])
                return f"aspp.{module}.{'norm.' if is_norm else ''}{match[2]}"
        return None
    if rest == "1.weight":
        return "head_conv.weight"
    match = re.match(r"2\.(\w+)$", rest)
    if match:
        return f"head_conv.norm.{match[1]}"
    match = re.match(r"4\.(weight|bias)$", rest)
    if match:
        return f"predictor.{match[1]}"
    return None


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
    out = {}
    used = _fold_image_pooling(state_dict, out, report)
    for key, value in state_dict.items():
        if key in used:
            continue
        if key.startswith("aux_classifier."):
            report.drop(key, "auxiliary FCN head on layer3, not part of the model")
            continue
        new = None
        if key.startswith("backbone."):
            rest = _convert_backbone_key(key[len("backbone.") :])
            new = rest and "backbone." + rest
        elif key.startswith("classifier."):
            rest = _convert_head_key(key[len("classifier.") :])
            new = rest and "sem_seg_head." + rest
        if new is None:
            report.drop(key, "no counterpart in D2DeepLabResNet + I2VDeepLabV3Head")
            continue
        if new.startswith("sem_seg_head.predictor.") and num_classes is not None:
            if value.shape[0] != num_classes:
                report.drop(
                    key, f"classifier for {value.shape[0]} classes; the model has {num_classes}"
                )
                continue
        out[new] = value
        report.converted += 1
    if "backbone.stem.conv1.weight" not in out:
        raise ValueError(
            "Not a torchvision DeepLabv3-ResNet checkpoint: 'backbone.conv1.weight' is missing "
            f"(first keys: {sorted(state_dict)[:5]})"
        )
    return out, report

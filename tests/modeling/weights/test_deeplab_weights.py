"""DeepLab <-> torchvision (``modeling/weights/deeplab.py``): torchvision's deeplabv3_resnet101,
created without weights, converts and gives the same logits; a trained encoder exports to
torchvision's ResNet with the plugin's features at every stage."""

import os

import pytest
import torch
import torchvision
from detectron2.modeling import build_backbone, build_model
from torchvision.models.segmentation import deeplabv3_resnet101

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import convert_torchvision_deeplabv3, export_encoder
from tests.helpers import REPO_ROOT, tiny_cfg
from tests.helpers.weights import (
    STAGES,
    assert_close,
    convert_to_file,
    load_weights,
    randomise,
    randomise_norms,
)


@pytest.mark.slow
def test_torchvision_deeplabv3_round_trip_matches_torchvision_outputs(tmp_path):
    source = deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    randomise(source.eval())
    path, reports = convert_to_file(
        tmp_path, "torchvision-deeplabv3", source.state_dict(), num_classes=21
    )
    assert reports[0].dropped and all(k.startswith("aux_classifier.") for k in reports[0].dropped)
    cfg = tiny_cfg(
        "configs/Base-I2V-DeepLab-R101.yaml",
        "MODEL.DEVICE", "cpu",
        "MODEL.SEM_SEG_HEAD.NUM_CLASSES", "21",
        "MODEL.SEM_SEG_HEAD.CONVS_DIM", "256",  # the tiny test options shrink it
    )  # fmt: skip
    model = build_model(cfg).eval()
    assert load_weights(model, path) == ([], [])
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = source(x)["out"]
        logits, _ = model.sem_seg_head(model.backbone(x))
    scale = expected.abs().max()
    assert logits.shape == expected.shape and (logits - expected).abs().max() < 1e-4 * scale

    _, other = convert_torchvision_deeplabv3(source.state_dict(), num_classes=11)
    assert "21 classes" in other.dropped["classifier.4.weight"]
    with pytest.raises(ValueError, match="Not a torchvision DeepLabv3-ResNet checkpoint"):
        convert_torchvision_deeplabv3({"classifier.4.weight": torch.zeros(1)})


@pytest.mark.slow
@torch.no_grad()
@pytest.mark.parametrize(
    "opts, replace",
    [
        ([], [False, True, True]),
        # Output stride 16 with Detectron2's frozen BatchNorm (no step counter) on a ResNet-50.
        (
            ["MODEL.RESNETS.DEPTH", "50", "MODEL.RESNETS.NORM", "FrozenBN"]
            + ["MODEL.RESNETS.RES4_DILATION", "1", "MODEL.RESNETS.RES5_DILATION", "2"],
            [False, False, True],
        ),
    ],
    ids=["r101_os8", "r50_os16_frozen_bn"],
)
def test_deeplab_export_is_torchvision_resnet(opts, replace):
    cfg = build_cfg(os.path.join(REPO_ROOT, "configs/deeplab_r101_global_davis.yaml"), opts)
    backbone = build_backbone(cfg).eval()
    randomise_norms(backbone)
    state = {"backbone." + k: v for k, v in backbone.state_dict().items()}
    state["sem_seg_head.predictor.weight"] = torch.zeros(12, 256, 1, 1)

    export = export_encoder(cfg, state)
    record, output_stride = export.record, 8 if replace[1] else 16
    assert record["replace_stride_with_dilation"] == replace and record["exact"]
    assert record["output_stride"] == output_stride and not record["differences"]
    assert record["not_exported"] == ["fc.weight", "fc.bias"] and not export.stage_norms
    assert export.notes == (
        f"dilation: replace_stride_with_dilation={replace} (layer3 "
        f"{cfg.MODEL.RESNETS.RES4_DILATION}, layer4 {cfg.MODEL.RESNETS.RES5_DILATION}, output "
        f"stride {output_stride})",
    )
    resnet = getattr(torchvision.models, record["model"])(
        weights=None, replace_stride_with_dilation=replace
    )
    resnet.fc = torch.nn.Identity()
    resnet.load_state_dict(export.state_dict, strict=True)
    resnet.eval()

    x = torch.randn(1, 3, 96, 96)
    plugin = backbone(x, out_features=list(STAGES))
    y = resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(x))))
    for i, stage in enumerate(STAGES):
        y = getattr(resnet, f"layer{i + 1}")(y)
        assert_close(y, plugin[stage])


def test_dilations_torchvision_cannot_express_are_recorded_as_differences():
    opts = ["MODEL.RESNETS.DEPTH", "50", "MODEL.RESNETS.RES4_DILATION", "1"]
    cfg = build_cfg(os.path.join(REPO_ROOT, "configs/deeplab_r101_global_davis.yaml"), opts)
    state = {"backbone." + k: v for k, v in build_backbone(cfg).state_dict().items()}
    record = export_encoder(cfg, state).record
    assert not record["exact"] and record["replace_stride_with_dilation"] == [False, False, True]
    assert len(record["differences"]) == 1 and "(1, 4)" in record["differences"][0]

"""tools/export_backbone.py: each exported encoder loads into its home library's model, built
without weights, and gives the plugin backbone's features."""

import json
import os

import pytest
import timm
import torch
import torchvision
from conftest import REPO_ROOT
from detectron2.modeling import build_backbone, build_model
from tool_loading import load_tool
from torchvision.models.video.swin_transformer import SwinTransformer3d

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import side_paths

export_backbone = load_tool("export_backbone")

SWIN_CONFIG = "configs/swin_clustered.yaml"
DEEPLAB_CONFIG = "configs/deeplab_r101_global_davis.yaml"
VIDEO_SWIN_CONFIG = "configs/video_swin_spatial.yaml"
STAGES = ("res2", "res3", "res4", "res5")


def randomise_norms(module: torch.nn.Module, seed: int = 0) -> None:
    """Move every norm's affine parameters and running statistics off their initial values, so a
    swapped or dropped norm tensor changes the features (convs and linears are random already)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point() or "norm" not in name and ".bn" not in name:
                continue
            noise = torch.randn(tensor.shape, generator=gen)
            if name.endswith("running_var"):
                tensor.copy_(1 + 0.5 * noise.abs())
            elif name.endswith("weight") and tensor.dim() == 1:
                tensor.copy_(1 + 0.2 * noise)
            else:
                tensor.copy_(0.2 * noise)


def write_checkpoint(path, state_dict: dict) -> str:
    torch.save({"model": state_dict, "iteration": 2}, path)
    return str(path)


def export(tmp_path, config, weights, *opts):
    out = str(tmp_path / "encoder.pth")
    argv = ["--config-file", os.path.join(REPO_ROOT, config), "--weights", weights, "--out", out]
    assert export_backbone.main(argv + list(opts)) == 0
    json_path, norms_path = side_paths(out)
    with open(json_path) as f:
        record = json.load(f)
    norms = torch.load(norms_path) if record.get("stage_norms") else {}
    state = torch.load(out)
    # Full-size files: do not keep them in pytest's retained temp folders.
    for path in (out, weights):
        os.remove(path)
    return state, norms, record


def layer_norm(tokens, norms, stage):
    return torch.nn.functional.layer_norm(
        tokens, tokens.shape[-1:], norms[f"{stage}.weight"], norms[f"{stage}.bias"]
    )


def assert_close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_swin_export_is_timm_swin_tiny(tmp_path):
    # A whole trained-model checkpoint (backbone, UperNet head, discriminators) at full size.
    cfg = build_cfg(os.path.join(REPO_ROOT, SWIN_CONFIG), ["MODEL.DEVICE", "cpu"])
    model = build_model(cfg).eval()
    randomise_norms(model.backbone)
    weights = write_checkpoint(tmp_path / "model_final.pth", model.state_dict())

    state, norms, record = export(tmp_path, SWIN_CONFIG, weights)
    assert record["model"] == "swin_tiny_patch4_window7_224" and record["exact"]
    assert sorted(norms) == [f"{s}.{p}" for s in STAGES for p in ("bias", "weight")]
    timm_model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, num_classes=0)
    timm_model.load_state_dict(state, strict=True)
    timm_model.eval()

    x = torch.randn(1, 3, 224, 224)
    plugin = model.backbone(x, out_features=list(STAGES))
    assert_close(timm_model.forward_features(x).permute(0, 3, 1, 2), plugin["res5"])
    tokens = timm_model.patch_embed(x)
    for i, stage in enumerate(STAGES):
        tokens = timm_model.layers[i](tokens)
        assert_close(layer_norm(tokens, norms, stage).permute(0, 3, 1, 2), plugin[stage])


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
def test_deeplab_export_is_torchvision_resnet(tmp_path, opts, replace):
    cfg = build_cfg(os.path.join(REPO_ROOT, DEEPLAB_CONFIG), opts)
    backbone = build_backbone(cfg).eval()
    randomise_norms(backbone)
    state = {"backbone." + k: v for k, v in backbone.state_dict().items()}
    state["sem_seg_head.predictor.weight"] = torch.zeros(12, 256, 1, 1)
    weights = write_checkpoint(tmp_path / "model_final.pth", state)

    exported, norms, record = export(tmp_path, DEEPLAB_CONFIG, weights, *opts)
    assert record["replace_stride_with_dilation"] == replace and record["exact"]
    assert record["output_stride"] == (8 if replace[1] else 16)
    assert record["not_exported"] == ["fc.weight", "fc.bias"] and not norms
    resnet = getattr(torchvision.models, record["model"])(
        weights=None, replace_stride_with_dilation=replace
    )
    resnet.fc = torch.nn.Identity()
    resnet.load_state_dict(exported, strict=True)
    resnet.eval()

    x = torch.randn(1, 3, 96, 96)
    plugin = backbone(x, out_features=list(STAGES))
    y = resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(x))))
    for i, stage in enumerate(STAGES):
        y = getattr(resnet, f"layer{i + 1}")(y)
        assert_close(y, plugin[stage])


@torch.no_grad()
def test_video_swin_export_is_torchvision_swin3d(tmp_path):
    cfg = build_cfg(os.path.join(REPO_ROOT, VIDEO_SWIN_CONFIG))
    backbone = build_backbone(cfg).eval()
    randomise_norms(backbone)
    weights = write_checkpoint(
        tmp_path / "model_final.pth", {"backbone." + k: v for k, v in backbone.state_dict().items()}
    )

    state, norms, record = export(tmp_path, VIDEO_SWIN_CONFIG, weights)
    assert record["layout"] == "torchvision.models.video.swin3d_t"
    assert record["not_exported"] == ["head.weight", "head.bias"]
    # swin3d_t's keys; the paper's patch (1, 4, 4) and window (4, 7, 7) are constructor arguments.
    reference = torchvision.models.video.swin3d_t(weights=None).state_dict()
    assert set(state) == set(reference) - {"head.weight", "head.bias"}
    video_swin = SwinTransformer3d(**record["kwargs"])
    video_swin.head = torch.nn.Identity()
    video_swin.load_state_dict(state, strict=True)
    video_swin.eval()

    # Sides at least one window at every stage (4 frames, 224 px: 7 x 7 tokens at res5).
    clip = torch.randn(1, 3, 4, 224, 224)
    plugin = backbone(clip, out_features=list(STAGES))
    tokens = video_swin.pos_drop(video_swin.patch_embed(clip))
    for i, stage in enumerate(STAGES):
        if i:
            tokens = video_swin.features[2 * i - 1](tokens)
        tokens = video_swin.features[2 * i](tokens)
        assert_close(layer_norm(tokens, norms, stage).permute(0, 4, 1, 2, 3), plugin[stage])
    assert_close(video_swin.norm(tokens).permute(0, 4, 1, 2, 3), plugin["res5"])


def test_checkpoint_of_another_backbone_is_refused(tmp_path, capsys):
    weights = write_checkpoint(
        tmp_path / "deeplab.pth", {"backbone.stem.conv1.weight": torch.zeros(64, 3, 7, 7)}
    )
    out = str(tmp_path / "encoder.pth")
    argv = ["--config-file", os.path.join(REPO_ROOT, SWIN_CONFIG), "--weights", weights]
    assert export_backbone.main(argv + ["--out", out]) == 2
    message = capsys.readouterr().err
    assert "DeepLab ResNet" in message and "Swin (timm)" in message and "trained with" in message
    assert not os.path.exists(out)

    unknown = write_checkpoint(tmp_path / "other.pth", {"encoder.weight": torch.zeros(1)})
    argv = ["--config-file", os.path.join(REPO_ROOT, SWIN_CONFIG), "--weights", unknown]
    assert export_backbone.main(argv + ["--out", out]) == 2
    assert "no encoder of a known i2v backbone" in capsys.readouterr().err

"""Swin <-> timm (``modeling/weights/swin.py``): a timm Swin checkpoint, created without weights,
converts and loads with zero missing backbone keys and the same outputs; a trained checkpoint
exports to timm's ``swin_tiny_patch4_window7_224`` with the plugin's features."""

import os
import re

import pytest
import timm
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import convert_timm_swin, export_encoder
from tests.helpers import REPO_ROOT
from tests.helpers.weights import (
    STAGES,
    SWIN_ARGS,
    assert_close,
    convert_to_file,
    layer_norm,
    load_weights,
    randomise,
    randomise_norms,
    swin_segmentor,
)


def original_swin_layout(state_dict):
    """timm names -> the original Microsoft layout (patch merging at the end of a stage)."""
    out = {}
    for key, value in state_dict.items():
        key = re.sub(
            r"^layers\.(\d+)\.downsample", lambda m: f"layers.{int(m[1]) - 1}.downsample", key
        )
        out[key.replace("head.fc.", "head.")] = value
    return {"model": out}


def test_timm_swin_round_trip_matches_timm_outputs(tmp_path):
    source = timm.models.swin_transformer.SwinTransformer(img_size=224, **SWIN_ARGS).eval()
    randomise(source)
    path, reports = convert_to_file(tmp_path, "timm-swin", source.state_dict())
    assert set(reports[0].dropped) == {"head.fc.weight", "head.fc.bias"}
    model = swin_segmentor()
    missing, unexpected = load_weights(model, path)
    assert [k for k in missing if k.startswith("backbone.")] == [] and unexpected == []
    # DetectionCheckpointer (MODEL.WEIGHTS) reads the same file name by name.
    fresh = swin_segmentor()
    DetectionCheckpointer(fresh).load(path)
    assert torch.equal(fresh.backbone.out_norms.res5.weight, source.norm.weight)

    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        ours = model.backbone(x, out_features=["patch_embed", "res5"])
        assert torch.allclose(ours["patch_embed"].permute(0, 2, 3, 1), source.patch_embed(x))
        # timm's final norm initialised out_norms.res5: the encoder outputs coincide.
        expected = source.forward_features(x)
        assert torch.allclose(ours["res5"].permute(0, 2, 3, 1), expected, atol=1e-5)

    original, _ = convert_timm_swin(original_swin_layout(source.state_dict())["model"])
    converted, _ = convert_timm_swin(source.state_dict())
    assert original.keys() == converted.keys()
    assert all(torch.equal(original[k], converted[k]) for k in converted)


def test_a_checkpoint_of_the_wrong_kind_is_named():
    with pytest.raises(ValueError, match="Not a timm Swin checkpoint"):
        convert_timm_swin({"backbone.conv1.weight": torch.zeros(1)})


@pytest.mark.slow
@torch.no_grad()
def test_swin_export_is_timm_swin_tiny():
    # A whole trained model (backbone, UperNet head, discriminators) at full size.
    cfg = build_cfg(os.path.join(REPO_ROOT, "configs/swin_clustered.yaml"), ["MODEL.DEVICE", "cpu"])
    model = build_model(cfg).eval()
    randomise_norms(model.backbone)

    export = export_encoder(cfg, model.state_dict())
    record, norms = export.record, export.stage_norms
    assert record["model"] == "swin_tiny_patch4_window7_224" and record["exact"]
    assert record["backbone"] == "build_swin_backbone" and record["library"] == "timm"
    assert sorted(norms) == [f"{s}.{p}" for s in STAGES for p in ("bias", "weight")]
    timm_model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, num_classes=0)
    timm_model.load_state_dict(export.state_dict, strict=True)
    timm_model.eval()

    x = torch.randn(1, 3, 224, 224)
    plugin = model.backbone(x, out_features=list(STAGES))
    assert_close(timm_model.forward_features(x).permute(0, 3, 1, 2), plugin["res5"])
    tokens = timm_model.patch_embed(x)
    for i, stage in enumerate(STAGES):
        tokens = timm_model.layers[i](tokens)
        assert_close(layer_norm(tokens, norms, stage).permute(0, 3, 1, 2), plugin[stage])

"""Weight conversion round trips through tools/convert_weights.py: timm Swin, an mmsegmentation
UperNet-Swin state dict, torchvision deeplabv3_resnet101 (each created without weights, saved in
its source format, converted, loaded with zero missing backbone keys, same outputs), 2D -> 3D
inflation (identical frames give the 2D features). Converted files are loaded by name, as
``MODEL.WEIGHTS`` loads them."""

import re

import convert_weights  # tools/ is on the path (tests/conftest.py)
import pytest
import timm
import torch
import torch.nn.functional as F
from conftest import tiny_cfg
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model
from timm.models.swin_transformer import PatchMerging
from torchvision.models.segmentation import deeplabv3_resnet101

from i2v_plugin.modeling.backbone.swin import STAGE_NAMES, D2SwinTransformer
from i2v_plugin.modeling.backbone.video_swin import D2VideoSwinTransformer
from i2v_plugin.modeling.heads.upernet import UperNetHead
from i2v_plugin.modeling.meta_arch import I2VSemanticSegmentor
from i2v_plugin.modeling.weights import (
    convert_mmseg_upernet_swin,
    convert_timm_swin,
    convert_torchvision_deeplabv3,
    inflate_swin_to_video_swin,
)
from i2v_plugin.modeling.weights.inflate import inflate_patch_kernel

SWIN_ARGS = dict(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=7)


def randomise(module: torch.nn.Module, seed: int = 0) -> None:
    """Give every parameter and norm statistic a distinct random value, so that any tensor that
    lands under the wrong name changes the outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.copy_(torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:  # norm affine and biases
                base = 1.0 if name.endswith("weight") and "norm" in name else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) / p[0].numel() ** 0.5)
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=generator))
                m.running_var.uniform_(0.5, 1.5, generator=generator)


def convert_file(tmp_path, source, state_dict, *args):
    src, out = tmp_path / f"{source}-src.pth", tmp_path / f"{source}-d2.pth"
    torch.save(state_dict, src)
    argv = ["--source", source, "--input", str(src), "--output", str(out), *args]
    _, reports = convert_weights.main(argv)
    return str(out), reports


def swin_segmentor(num_classes=11, **swin_kw):
    backbone = D2SwinTransformer(**{**SWIN_ARGS, **swin_kw, "out_features": STAGE_NAMES[1:]})
    head = UperNetHead(backbone.output_shape(), num_classes=num_classes, conv_dims=16, norm="BN")
    return I2VSemanticSegmentor(
        backbone=backbone, sem_seg_head=head, pixel_mean=[0.0] * 3, pixel_std=[1.0] * 3
    ).eval()


def load_weights(model, path) -> tuple[list[str], list[str]]:
    """Load a converted checkpoint into ``model`` by name (the file says
    ``matching_heuristics: False``, so Detectron2's checkpointer does the same); returns the
    sorted (missing, unexpected) keys. A tensor of the wrong shape raises."""
    state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    result = model.load_state_dict(state, strict=False)
    return sorted(result.missing_keys), sorted(result.unexpected_keys)


def backbone_keys(keys):
    return [k for k in keys if k.startswith("backbone.")]


# ---- timm Swin ------------------------------------------------------------------------------


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
    path, reports = convert_file(tmp_path, "timm-swin", source.state_dict())
    assert set(reports[0].dropped) == {"head.fc.weight", "head.fc.bias"}
    model = swin_segmentor()
    missing, unexpected = load_weights(model, path)
    assert backbone_keys(missing) == [] and unexpected == []
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


# ---- mmsegmentation UperNet-Swin --------------------------------------------------------------

MMSEG_BLOCK = {
    "attn.qkv.": "attn.w_msa.qkv.",
    "attn.proj.": "attn.w_msa.proj.",
    "attn.relative_position_bias_table": "attn.w_msa.relative_position_bias_table",
    "mlp.fc1.": "ffn.layers.0.0.",
    "mlp.fc2.": "ffn.layers.1.",
}
MMSEG_HEAD = {
    "pool_branches.{i}.1": "psp_modules.{i}.1",
    "pool_bottleneck": "bottleneck",
    "lateral_convs.{i}": "lateral_convs.{i}",
    "fpn_convs.{i}": "fpn_convs.{i}",
    "fuse": "fpn_bottleneck",
}


def timm_to_unfold(value):
    """timm's neighbour order (col j, row i, channel c) -> nn.Unfold's (c, i, j) on the 4C axis."""
    lead, c4 = value.shape[:-1], value.shape[-1]
    grouped = value.reshape(*lead, 2, 2, c4 // 4)  # (..., j, i, c)
    dims = list(range(len(lead)))
    return grouped.permute(*dims, -1, -2, -3).reshape(*lead, c4)


def to_mmseg_layout(state_dict, conv_seg_classes=None):
    """Our 2D Swin + UperNet names -> mmsegmentation's UperNet-Swin checkpoint layout."""
    out = {}
    for key, value in state_dict.items():
        rest = key.split(".", 1)[1]
        if key.startswith("backbone.swin.patch_embed.proj."):
            out["backbone.patch_embed.projection." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("backbone.swin.patch_embed.norm."):
            out["backbone.patch_embed.norm." + key.rsplit(".", 1)[1]] = value
        elif m := re.match(r"backbone\.swin\.layers\.(\d+)\.blocks\.(\d+)\.(.+)$", key):
            sub = m[3]
            for ours, theirs in MMSEG_BLOCK.items():
                sub = sub.replace(ours, theirs)
            out[f"backbone.stages.{m[1]}.blocks.{m[2]}.{sub}"] = value
        elif m := re.match(r"backbone\.swin\.layers\.(\d+)\.downsample\.(.+)$", key):
            out[f"backbone.stages.{int(m[1]) - 1}.downsample.{m[2]}"] = timm_to_unfold(value)
        elif m := re.match(r"backbone\.out_norms\.res(\d)\.(.+)$", key):
            out[f"backbone.norm{int(m[1]) - 2}.{m[2]}"] = value
        elif rest.startswith("predictor."):
            out["decode_head.conv_seg." + rest.split(".", 1)[1]] = value
        elif key.startswith("sem_seg_head."):
            m = re.match(r"([a-z_]+(?:\.\d+)?(?:\.1)?)\.(norm\.)?(\w+)$", rest)
            module, is_norm, param = m[1], m[2], m[3]
            index = re.search(r"\.(\d+)", module)
            pattern = re.sub(r"\.\d+", ".{i}", module, count=1) if index else module
            theirs = MMSEG_HEAD[pattern].format(i=index[1] if index else "")
            out[f"decode_head.{theirs}.{'bn' if is_norm else 'conv'}.{param}"] = value
    # mmseg also stores the constant index buffers and an auxiliary FCN head.
    out["backbone.stages.0.blocks.0.attn.w_msa.relative_position_index"] = torch.zeros(49, 49)
    out["auxiliary_head.conv_seg.weight"] = torch.randn(150, 16, 1, 1)
    out["auxiliary_head.convs.0.conv.weight"] = torch.randn(16, 64, 3, 3)
    if conv_seg_classes is not None:
        out["decode_head.conv_seg.weight"] = torch.randn(conv_seg_classes, 16, 1, 1)
        out["decode_head.conv_seg.bias"] = torch.randn(conv_seg_classes)
    return {"meta": {"CLASSES": ("wall", "floor")}, "state_dict": out}


def test_mmseg_upernet_swin_round_trip_matches_source_outputs(tmp_path):
    source = swin_segmentor()
    randomise(source)
    mmseg = to_mmseg_layout(source.state_dict())
    assert "decode_head.psp_modules.3.1.bn.running_var" in mmseg["state_dict"]
    path, reports = convert_file(tmp_path, "mmseg-upernet-swin", mmseg, "--num-classes", "11")
    assert all(k.startswith("auxiliary_head.") for k in reports[0].dropped)
    model = swin_segmentor()
    assert load_weights(model, path) == ([], [])
    image = torch.randint(0, 256, (3, 64, 96), dtype=torch.uint8)
    with torch.no_grad():
        expected = source([{"image": image}])[0]["sem_seg"]
        assert torch.allclose(model([{"image": image}])[0]["sem_seg"], expected, atol=1e-5)


def test_mmseg_classifier_of_another_class_count_is_dropped_and_reported(tmp_path):
    source = swin_segmentor()
    mmseg = to_mmseg_layout(source.state_dict(), conv_seg_classes=150)
    path, reports = convert_file(tmp_path, "mmseg-upernet-swin", mmseg, "--num-classes", "11")
    dropped = reports[0].dropped
    assert (
        "150 classes" in dropped["decode_head.conv_seg.weight"]
        and "11" in dropped["decode_head.conv_seg.weight"]
    )
    assert "auxiliary_head.conv_seg.weight" in dropped
    missing, unexpected = load_weights(swin_segmentor(), path)
    assert missing == ["sem_seg_head.predictor.bias", "sem_seg_head.predictor.weight"]
    assert unexpected == []


def test_mmseg_patch_merging_order_is_converted_to_timm_order():
    """mmseg merges 2x2 neighbours with nn.Unfold; with converted weights timm's PatchMerging
    must compute the same thing (checked against Unfold itself, not against our exporter)."""
    channels = 4
    x = torch.randn(1, channels, 6, 8)
    reduction = torch.randn(2 * channels, 4 * channels)
    norm_w, norm_b = torch.rand(4 * channels) + 0.5, torch.randn(4 * channels)
    unfolded = F.unfold(x, kernel_size=2, stride=2).transpose(1, 2)  # (1, L, 4C), Unfold order
    expected = F.linear(F.layer_norm(unfolded, (4 * channels,), norm_w, norm_b), reduction)

    converted, _ = convert_mmseg_upernet_swin(
        {
            "backbone.patch_embed.projection.weight": torch.zeros(channels, 3, 4, 4),
            "backbone.stages.0.downsample.reduction.weight": reduction,
            "backbone.stages.0.downsample.norm.weight": norm_w,
            "backbone.stages.0.downsample.norm.bias": norm_b,
        }
    )
    merging = PatchMerging(dim=channels)
    prefix = "backbone.swin.layers.1.downsample."
    merging.load_state_dict({k[len(prefix) :]: v for k, v in converted.items() if prefix in k})
    with torch.no_grad():
        out = merging(x.permute(0, 2, 3, 1))  # (1, 3, 4, 2C)
    assert torch.allclose(out.reshape(1, -1, 2 * channels), expected, atol=1e-5)


# ---- torchvision DeepLabv3 ------------------------------------------------------------------


def test_torchvision_deeplabv3_round_trip_matches_torchvision_outputs(tmp_path):
    source = deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    randomise(source.eval())
    path, reports = convert_file(
        tmp_path, "torchvision-deeplabv3", source.state_dict(), "--num-classes", "21"
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


# ---- 2D -> 3D inflation ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["centre", "replicate"])
def test_inflated_video_swin_on_identical_frames_equals_the_2d_model(tmp_path, mode):
    # Window 2 and 128-pixel inputs: every stage map (32..4) is a multiple of the window and
    # larger than it, so timm and torchvision partition and shift alike.
    swin = dict(SWIN_ARGS, window_size=2)
    source = swin_segmentor(**swin)
    randomise(source)
    d2_path = tmp_path / "swin_2d_d2.pth"
    torch.save({"model": source.state_dict()}, d2_path)
    out = tmp_path / "video_swin.pth"
    argv = ["--source", "inflate-video-swin", "--input", str(d2_path), "--output", str(out)]
    convert_weights.main([*argv, "--inflate", mode, "--temporal-window", "4"])

    backbone = D2VideoSwinTransformer(
        embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=(4, 2, 2)
    )
    head = UperNetHead(backbone.output_shape(), num_classes=11, conv_dims=16, norm="BN")
    video = I2VSemanticSegmentor(
        backbone=backbone, sem_seg_head=head, pixel_mean=[0.0] * 3, pixel_std=[1.0] * 3
    ).eval()
    assert load_weights(video, str(out)) == ([], [])

    image = torch.randint(0, 256, (3, 128, 128), dtype=torch.uint8)
    clip = image.unsqueeze(0).repeat(4, 1, 1, 1)  # T = 4 identical frames
    with torch.no_grad():
        flat = source.backbone(image[None].float(), out_features=STAGE_NAMES)
        maps = video.backbone(clip.transpose(0, 1)[None].float(), out_features=STAGE_NAMES)
        for name in STAGE_NAMES:
            for t in range(4):
                assert torch.allclose(maps[name][:, :, t], flat[name], atol=1e-4), (name, t)
        expected = source([{"image": image}])[0]["sem_seg"]
        frames = video([{"image": clip}])[0]["clip_sem_seg"]
    assert torch.allclose(frames, expected.expand_as(frames), atol=1e-4)


def test_inflation_modes_differ_only_for_temporal_kernels():
    kernel = torch.randn(8, 3, 4, 4)
    centre = inflate_patch_kernel(kernel, 3, "centre")
    replicate = inflate_patch_kernel(kernel, 3, "replicate")
    assert torch.equal(centre[:, :, 1], kernel) and not centre[:, :, [0, 2]].any()
    assert all(torch.allclose(replicate[:, :, t], kernel / 3) for t in range(3))
    assert torch.equal(inflate_patch_kernel(kernel, 1, "centre")[:, :, 0], kernel)
    assert torch.equal(inflate_patch_kernel(kernel, 1, "replicate")[:, :, 0], kernel)
    state = {"backbone.swin.patch_embed.proj.weight": kernel, "adversarial.x.weight": kernel}
    inflated, report = inflate_swin_to_video_swin(state, temporal_patch=2, mode="centre")
    assert inflated["backbone.swin.patch_embed.proj.weight"].shape == (8, 3, 2, 4, 4)
    assert "adversarial.x.weight" in report.dropped
    with pytest.raises(ValueError, match="Unknown inflation mode"):
        inflate_swin_to_video_swin(state, mode="middle")


# ---- errors ----------------------------------------------------------------------------------


def test_a_checkpoint_of_the_wrong_kind_is_named():
    with pytest.raises(ValueError, match="Not a timm Swin checkpoint"):
        convert_timm_swin({"backbone.conv1.weight": torch.zeros(1)})
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        convert_weights.main(["--source", "timm-swin", "--input", "nope.pth", "--output", "x.pth"])

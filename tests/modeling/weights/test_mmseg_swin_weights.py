"""mmsegmentation UperNet-Swin -> Swin + UperNet (``modeling/weights/mmseg_swin.py``): a plugin
model written in mmseg's layout converts back with the same outputs; the classifier of another
class count is dropped and reported; patch merging is reordered from nn.Unfold's order."""

import re

import torch
import torch.nn.functional as F
from timm.models.swin_transformer import PatchMerging

from i2v_plugin.modeling.weights import convert_mmseg_upernet_swin
from tests.helpers.weights import convert_to_file, load_weights, randomise, swin_segmentor

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
    mmseg = to_mmseg_layout(source.state_dict())["state_dict"]
    assert "decode_head.psp_modules.3.1.bn.running_var" in mmseg
    path, reports = convert_to_file(tmp_path, "mmseg-upernet-swin", mmseg, num_classes=11)
    assert all(k.startswith("auxiliary_head.") for k in reports[0].dropped)
    assert reports[0].skipped_buffers == 1
    model = swin_segmentor()
    assert load_weights(model, path) == ([], [])
    image = torch.randint(0, 256, (3, 64, 96), dtype=torch.uint8)
    with torch.no_grad():
        expected = source([{"image": image}])[0]["sem_seg"]
        assert torch.allclose(model([{"image": image}])[0]["sem_seg"], expected, atol=1e-5)


def test_mmseg_classifier_of_another_class_count_is_dropped_and_reported(tmp_path):
    mmseg = to_mmseg_layout(swin_segmentor().state_dict(), conv_seg_classes=150)["state_dict"]
    path, reports = convert_to_file(tmp_path, "mmseg-upernet-swin", mmseg, num_classes=11)
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

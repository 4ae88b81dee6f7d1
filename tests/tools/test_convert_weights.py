"""tools/convert_weights.py, the CLI over the registered importers: it reads a local checkpoint
(nested under "model" or "state_dict" too), passes its options to the importer, writes a
Detectron2 checkpoint and prints the reports; a source registered from a test file is one of its
``--source`` choices. (Each converter's round trip: tests/modeling/weights/.)"""

import pytest
import timm
import torch

from i2v_plugin.modeling.weights import CHECKPOINT_AUTHOR, convert_timm_swin
from tests.helpers.tools import load_tool
from tests.helpers.toy_backbone import TOY_SOURCE, ToyBackbone, ToyHome

convert_weights = load_tool("convert_weights")
SWIN_ARGS = dict(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=7)


def convert(tmp_path, checkpoint, source, *options):
    """Save ``checkpoint``, run the tool on it; returns (written checkpoint, reports)."""
    src, out = tmp_path / "source.pth", tmp_path / "converted.pth"
    torch.save(checkpoint, src)
    argv = ["--source", source, "--input", str(src), "--output", str(out), *options]
    _, reports = convert_weights.main(argv)
    return torch.load(out, weights_only=True), reports


def test_writes_the_converted_checkpoint_and_prints_the_reports(tmp_path, capsys):
    swin = timm.models.swin_transformer.SwinTransformer(img_size=224, **SWIN_ARGS).state_dict()
    written, reports = convert(tmp_path, {"model": swin}, "timm-swin")
    expected, _ = convert_timm_swin(swin)
    assert written["__author__"] == CHECKPOINT_AUTHOR and written["matching_heuristics"] is False
    assert list(written["model"]) == list(expected)
    assert all(torch.equal(written["model"][k], expected[k]) for k in expected)
    printed = capsys.readouterr().out
    assert printed.startswith(reports[0].summary())
    assert printed.endswith(f"Wrote {len(expected)} tensors to {tmp_path / 'converted.pth'}\n")


def test_options_reach_the_importers(tmp_path):
    mmseg = {
        "meta": {"CLASSES": ("wall", "floor")},
        "state_dict": {
            "backbone.patch_embed.projection.weight": torch.zeros(4, 3, 4, 4),
            "decode_head.conv_seg.weight": torch.zeros(150, 16, 1, 1),
        },
    }
    written, reports = convert(tmp_path, mmseg, "mmseg-upernet-swin", "--num-classes", "11")
    assert "150 classes" in reports[0].dropped["decode_head.conv_seg.weight"]
    assert "sem_seg_head.predictor.weight" not in written["model"]

    swin = timm.models.swin_transformer.SwinTransformer(img_size=224, **SWIN_ARGS).state_dict()
    options = ["--inflate", "replicate", "--temporal-patch", "2", "--temporal-window", "3"]
    written, reports = convert(tmp_path, swin, "inflate-video-swin", *options)
    assert reports[-1].source == "inflate-video-swin (replicate)"
    assert written["model"]["backbone.swin.patch_embed.proj.weight"].shape == (16, 3, 2, 4, 4)
    table = written["model"]["backbone.swin.features.0.0.attn.relative_position_bias_table"]
    assert (
        table.shape[0] == 5 * swin["layers.0.blocks.0.attn.relative_position_bias_table"].shape[0]
    )


@torch.no_grad()
def test_a_source_registered_by_a_test_file_converts_without_editing_the_tool(tmp_path):
    home = ToyHome().eval()
    for tensor in home.state_dict().values():
        if tensor.is_floating_point():
            tensor.copy_(0.5 + torch.rand(tensor.shape))
    written, reports = convert(tmp_path, home.state_dict(), TOY_SOURCE)
    assert set(reports[0].dropped) == {"head.weight", "head.bias"}
    toy = ToyBackbone().eval()
    model = torch.nn.Module()
    model.backbone = toy
    model.load_state_dict(written["model"], strict=True)  # every toy tensor, nothing else
    x = torch.randn(1, 3, 8, 8)
    torch.testing.assert_close(toy(x)["res2"], home.forward_features(x))


def test_missing_input_and_unknown_source_are_errors(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        convert_weights.main(["--source", "timm-swin", "--input", "nope.pth", "--output", "x.pth"])
    with pytest.raises(SystemExit):
        convert_weights.main(["--source", "nope", "--input", "a.pth", "--output", "x.pth"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err

"""tools/export_backbone.py, the CLI over ``modeling.weights.export``: a backbone registered from
a test file alone exports through it, loads into its home model and gives the plugin's features;
the files and messages it writes; checkpoints and configs it cannot export are refused with
exit code 2. (Each plugin backbone's export: tests/modeling/weights/.)"""

import json
import os

import torch
from detectron2.modeling import build_backbone

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import side_paths
from tests.helpers import REPO_ROOT
from tests.helpers.tools import load_tool
from tests.helpers.toy_backbone import TOY_BUILDER, ToyBackbone, ToyHome

export_backbone = load_tool("export_backbone")

SWIN_CONFIG = os.path.join(REPO_ROOT, "configs/swin_clustered.yaml")
DEEPLAB_CONFIG = os.path.join(REPO_ROOT, "configs/deeplab_r101_global_davis.yaml")


def write_checkpoint(path, state_dict: dict) -> str:
    torch.save({"model": state_dict, "iteration": 2}, path)
    return str(path)


def run(config, weights, out, *opts) -> int:
    return export_backbone.main(
        ["--config-file", config, "--weights", weights, "--out", out, *opts]
    )


@torch.no_grad()
def test_toy_backbone_registered_by_a_test_file_exports_without_editing_the_tool(tmp_path, capsys):
    toy = ToyBackbone().eval()
    generator = torch.Generator().manual_seed(0)
    for tensor in toy.state_dict().values():
        if tensor.is_floating_point():
            tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
    state = {"backbone." + k: v for k, v in toy.state_dict().items()}
    state["sem_seg_head.predictor.weight"] = torch.zeros(3, 8, 1, 1)
    weights = write_checkpoint(tmp_path / "model_final.pth", state)
    out = str(tmp_path / "encoder.pth")

    assert run(SWIN_CONFIG, weights, out, "MODEL.BACKBONE.NAME", TOY_BUILDER) == 0
    json_path, norms_path = side_paths(out)
    assert capsys.readouterr().out.splitlines() == [
        f"Wrote 11 tensors (toy layout) to {out}",
        "  build: ToyHome()",
        "  not exported (classifier): head.weight, head.bias",
        f"  wrote {norms_path}",
        f"  wrote {json_path}",
    ]
    with open(json_path) as f:
        record = json.load(f)
    assert record["backbone"] == TOY_BUILDER and record["exact"]
    assert record["stage_norms"] == "encoder.stage_norms.pth"
    assert record["source"] == {
        "weights": weights,
        "config": SWIN_CONFIG,
        "opts": ["MODEL.BACKBONE.NAME", TOY_BUILDER],
    }
    home = ToyHome().eval()
    missing, unexpected = home.load_state_dict(torch.load(out), strict=False)
    assert sorted(missing) == ["head.bias", "head.weight"] and not unexpected
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(home.forward_features(x), toy(x)["res2"])
    norms = torch.load(norms_path)
    assert torch.equal(norms["res2.weight"], toy.out_norms.res2.weight)
    assert torch.equal(norms["res2.bias"], toy.out_norms.res2.bias)


def test_cli_prints_the_dilation_and_writes_no_stage_norms_for_a_resnet(tmp_path, capsys):
    opts = ["MODEL.RESNETS.DEPTH", "50", "MODEL.RESNETS.RES4_DILATION", "1"]
    opts += ["MODEL.RESNETS.RES5_DILATION", "2"]
    backbone = build_backbone(build_cfg(DEEPLAB_CONFIG, opts))
    weights = write_checkpoint(
        tmp_path / "model_final.pth", {"backbone." + k: v for k, v in backbone.state_dict().items()}
    )
    out = str(tmp_path / "resnet")  # no .pth: the side files are named after it all the same
    assert run(DEEPLAB_CONFIG, weights, out, *opts) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "  build: torchvision.models.resnet50(weights=None, "
        "replace_stride_with_dilation=[False, False, True])",
        "  dilation: replace_stride_with_dilation=[False, False, True] (layer3 1, layer4 2, "
        "output stride 16)",
        "  not exported (classifier): fc.weight, fc.bias",
        f"  wrote {out}.json",
    ]
    assert sorted(os.listdir(tmp_path)) == ["model_final.pth", "resnet", "resnet.json"]


def test_checkpoint_of_another_backbone_is_refused(tmp_path, capsys):
    weights = write_checkpoint(
        tmp_path / "deeplab.pth", {"backbone.stem.conv1.weight": torch.zeros(64, 3, 7, 7)}
    )
    out = str(tmp_path / "encoder.pth")
    assert run(SWIN_CONFIG, weights, out) == 2
    message = capsys.readouterr().err
    assert "DeepLab ResNet" in message and "Swin (timm)" in message and "trained with" in message
    assert not os.path.exists(out)

    unknown = write_checkpoint(tmp_path / "other.pth", {"encoder.weight": torch.zeros(1)})
    assert run(SWIN_CONFIG, unknown, out) == 2
    assert "no encoder of a known i2v backbone" in capsys.readouterr().err

    assert run(SWIN_CONFIG, weights, out, "MODEL.BACKBONE.NAME", "build_resnet_backbone") == 2
    assert "'build_resnet_backbone' has no export layout" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["deeplab.pth", "other.pth"]

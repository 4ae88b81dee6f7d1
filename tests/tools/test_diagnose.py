"""tools/diagnose.py and i2v_plugin.diagnostics: the across-sample spread of backbone maps (a
map made constant reads 0, random weights do not) and the pseudo-label summary of a
hand-written metrics.json."""

import json

import pytest
import torch
from detectron2.modeling import build_model

from i2v_plugin.diagnostics.feature_spread import feature_spread, spread_ratio
from i2v_plugin.diagnostics.pseudo_labels import pseudo_label_summary
from tests.helpers import tiny_cfg
from tests.helpers.tools import load_tool

CONFIG = "configs/synthetic/swin_source_only.yaml"


@pytest.fixture(scope="module")
def diagnose_tool():
    return load_tool("diagnose")


def test_spread_ratio_is_zero_for_a_constant_map_and_scales_with_the_noise():
    torch.manual_seed(0)
    base = torch.randn(1, 8, 4, 4) + 3.0
    noise = torch.randn(64, 8, 4, 4)
    assert spread_ratio(base.expand(64, -1, -1, -1)) == 0.0
    small, large = spread_ratio(base + 0.01 * noise), spread_ratio(base + 0.1 * noise)
    assert 0 < small < large
    assert large / small == pytest.approx(10.0, rel=0.05)
    with pytest.raises(ValueError, match="at least 2 samples"):
        spread_ratio(base)


def test_feature_spread_sees_a_constant_stage(synth_root, tmp_path):
    """Random tiny weights: every stage varies. With the res5 output norm's weight set to 0 the
    encoder output is its bias for every input, and only res5 reads 0."""
    torch.manual_seed(0)
    state = build_model(tiny_cfg(CONFIG)).state_dict()
    random_path = tmp_path / "random.pth"
    torch.save({"model": state}, random_path)
    spread = feature_spread(tiny_cfg(CONFIG), str(random_path), "i2v_synth_videos_val", 4)
    assert list(spread) == ["patch_embed", "res2", "res3", "res4", "res5"]
    assert all(ratio > 0.05 for _, ratio in spread.values()), spread
    assert spread["res5"][0][0] == 4

    state["backbone.out_norms.res5.weight"].zero_()
    state["backbone.out_norms.res5.bias"].fill_(0.5)
    constant_path = tmp_path / "constant_res5.pth"
    torch.save({"model": state}, constant_path)
    spread = feature_spread(tiny_cfg(CONFIG), str(constant_path), "i2v_synth_videos_val", 4)
    assert spread["res5"][1] == pytest.approx(0.0, abs=1e-6)
    assert spread["res4"][1] > 0.05


def write_metrics(path, pairs=True):
    lines = []
    for it in range(0, 100):
        record = {"iteration": it, "loss_sem_seg": 1.0}
        if it % 2 == 1:
            record |= {
                "i2v/pseudo/confident": it / 100,
                "i2v/pseudo/quality": 0.5,
                "i2v/pseudo/class_0": 0.9,
                "i2v/pseudo/class_10": 0.1,
            }
            if pairs:
                record["i2v/pseudo/temporal_agreement"] = 0.8
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_pseudo_label_summary_averages_the_last_window(tmp_path):
    summary = pseudo_label_summary(write_metrics(tmp_path / "metrics.json"), last=10)
    # Iterations 90-99 that log the series: 91, 93, ..., 99 -> mean confident 0.95.
    assert summary["confident"] == pytest.approx(0.95)
    assert summary["class_0"] == pytest.approx(0.9)
    assert summary["temporal_agreement"] == pytest.approx(0.8)
    empty = tmp_path / "source_only.json"
    empty.write_text(json.dumps({"iteration": 5, "loss_sem_seg": 1.0}) + "\n")
    with pytest.raises(ValueError, match="source_only.json: no i2v/pseudo"):
        pseudo_label_summary(str(empty))


def test_cli_pseudo_labels_table_and_clear_errors(tmp_path, diagnose_tool, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_metrics(tmp_path / "a" / "metrics.json")
    b = write_metrics(tmp_path / "b" / "metrics.json", pairs=False)
    table = diagnose_tool.main(["pseudo-labels", a, b, "--last", "10"])
    header, _, row_a, row_b = table.splitlines()
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "run", "confident", "quality", "temporal_agreement", "c0", "c10",
    ]  # fmt: skip
    assert "0.950" in row_a and "0.800" in row_a and "–" in row_b
    with pytest.raises(SystemExit) as exit_info:
        diagnose_tool.main(["pseudo-labels", str(tmp_path / "missing.json")])
    assert exit_info.value.code == 2
    assert "missing.json" in capsys.readouterr().err

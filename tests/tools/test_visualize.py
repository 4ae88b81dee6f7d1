"""tools/visualize.py and i2v_plugin.visualization: training curves from a hand-written
metrics.json, a prediction grid and the cluster inspection on the tiny synthetic set (the
latter checked against what the clustered loss itself reports during a training step)."""

import json
import os

import pytest
import torch
from detectron2.modeling import build_model
from PIL import Image

from i2v_plugin.visualization.curves import collect_series, group_series, load_metrics
from i2v_plugin.visualization.grid import prediction_grid
from tests.helpers import REPO_ROOT, TINY_MODEL_OPTS, tiny_cfg
from tests.helpers.tools import load_tool

SOURCE_ONLY = "configs/synthetic/swin_source_only.yaml"
CLUSTERED = "configs/synthetic/swin_clustered.yaml"
EMBED_DIM = 16  # TINY_MODEL_OPTS' MODEL.SWIN.EMBED_DIM: channels of the patch embedding


@pytest.fixture(scope="module")
def visualize_tool():
    return load_tool("visualize")


def save_weights(config: str, seed: int, path) -> str:
    torch.manual_seed(seed)
    torch.save({"model": build_model(tiny_cfg(config)).state_dict(), "iteration": 4}, path)
    return str(path)


def assert_png(path, min_size=(200, 150)) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        return image.size


def metrics_lines() -> list[str]:
    lines = []
    for it in range(19, 200, 20):
        record = {
            "iteration": it,
            "loss_sem_seg": 2.0 / (1 + it / 50),
            "loss_adv_spatial": 0.69,
            "loss_adv_cluster": 0.7 - it / 1000,
            "i2v/disc/spatial/acc": 0.5 + it / 1000,
            "i2v/disc/cluster/acc": 0.55,
            "i2v/disc/spatial/loss": 0.69,
            "i2v/disc/spatial/const_loss": 0.6931,
            "i2v/disc/spatial/logit_std": 0.1,
            "i2v/disc/spatial/dead_units": 0.0,
            "i2v/grl_coeff": it / 200,
            "lr": 0.001,
        }
        lines.append(json.dumps(record))
    lines.append(json.dumps({"iteration": 199, "i2v_synth_videos_val/sem_seg/mIoU": 41.5}))
    lines.append('{"iteration": 219, "loss_sem_')  # a line cut short by a running job
    return lines


def test_curves_one_panel_per_group(tmp_path, visualize_tool):
    metrics = tmp_path / "metrics.json"
    metrics.write_text("\n".join(metrics_lines()) + "\n")
    groups = group_series(collect_series(load_metrics(str(metrics))))
    assert [(title, keys) for title, keys, _ in groups] == [
        ("Segmentation loss", ["loss_sem_seg"]),
        ("Adversarial losses", ["loss_adv_cluster", "loss_adv_spatial"]),
        ("Discriminator balanced accuracy", ["i2v/disc/cluster/acc", "i2v/disc/spatial/acc"]),
        (
            "Discriminator loss vs constant predictor (dashed)",
            ["i2v/disc/spatial/loss", "i2v/disc/spatial/const_loss"],
        ),
        ("Discriminator logit std", ["i2v/disc/spatial/logit_std"]),
        ("Discriminator dead hidden units", ["i2v/disc/spatial/dead_units"]),
        ("Gradient reversal coefficient", ["i2v/grl_coeff"]),
        ("Evaluation mIoU", ["i2v_synth_videos_val/sem_seg/mIoU"]),
    ]
    out = tmp_path / "figs" / "curves.png"
    visualize_tool.main(["curves", str(metrics), "--out", str(out)])
    wide = assert_png(out)

    # Missing series are skipped: a source-only run logs total_loss only -> one panel.
    source_only = tmp_path / "source_only.json"
    source_only.write_text(json.dumps({"iteration": 19, "total_loss": 2.3}) + "\n")
    assert [g[0] for g in group_series(collect_series(load_metrics(str(source_only))))] == [
        "Segmentation loss"
    ]
    visualize_tool.main(["curves", str(source_only), "--out", str(tmp_path / "one.png")])
    assert assert_png(tmp_path / "one.png")[1] < wide[1]


def test_curves_bad_files_are_clear_errors(tmp_path, visualize_tool):
    unrelated = tmp_path / "metrics.json"
    unrelated.write_text(json.dumps({"iteration": 1, "data_time": 0.1}) + "\n")
    with pytest.raises(SystemExit):
        visualize_tool.main(["curves", str(unrelated), "--out", str(tmp_path / "x.png")])
    with pytest.raises(ValueError, match="no metrics record"):
        (tmp_path / "junk.json").write_text("not json\n")
        load_metrics(str(tmp_path / "junk.json"))
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        load_metrics(str(tmp_path / "nowhere.json"))


def test_grid_rows_and_columns(synth_root, tmp_path, visualize_tool):
    first = save_weights(SOURCE_ONLY, 0, tmp_path / "a.pth")
    second = save_weights(SOURCE_ONLY, 1, tmp_path / "b.pth")
    fig = prediction_grid(tiny_cfg(SOURCE_ONLY), "i2v_synth_videos_val", {"a": first}, num=3)
    assert len(fig.axes) == 3 * 3  # frame, ground truth, one prediction per row

    out = tmp_path / "grid.png"
    visualize_tool.main([
        "grid", "--config-file", os.path.join(REPO_ROOT, SOURCE_ONLY),
        "--dataset", "i2v_synth_videos_val", "--num", "2", "--out", str(out),
        "--weights", f"a={first}", f"b={second}", *TINY_MODEL_OPTS,
    ])  # fmt: skip
    width, height = assert_png(out)
    assert width > height  # 4 columns, 2 rows
    with pytest.raises(SystemExit):
        visualize_tool.main(["grid", "--config-file", SOURCE_ONLY, "--out", str(out),
                             "--weights", "no-equals-sign"])  # fmt: skip


def test_clusters_cli_prints_table_and_writes_png(synth_root, tmp_path, visualize_tool, capsys):
    weights = save_weights(CLUSTERED, 0, tmp_path / "clustered.pth")
    out = tmp_path / "clusters.png"
    visualize_tool.main([
        "clusters", "--config-file", os.path.join(REPO_ROOT, CLUSTERED), "--iteration", "2",
        "--examples", "3", "--out", str(out), *TINY_MODEL_OPTS, "MODEL.WEIGHTS", weights,
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert "pairs image_video" in printed and "wrote" in printed
    assert len([line for line in printed.splitlines() if line[:1].isdigit()]) == 4  # K rows
    assert_png(out)

    with pytest.raises(SystemExit):  # a config without the clustered loss
        visualize_tool.main([
            "clusters", "--config-file", os.path.join(REPO_ROOT, SOURCE_ONLY),
            "--out", str(out), *TINY_MODEL_OPTS,
        ])  # fmt: skip
    assert "MODEL.I2V.CLUSTER.ENABLED" in capsys.readouterr().err

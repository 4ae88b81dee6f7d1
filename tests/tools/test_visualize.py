"""tools/visualize.py and i2v_plugin.visualization: training curves from a hand-written
metrics.json, a prediction grid and the cluster inspection on the tiny synthetic set (the
latter checked against what the clustered loss itself reports during a training step)."""

import json
import os

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, TINY_MODEL_OPTS, tiny_cfg
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage
from PIL import Image
from tool_loading import load_tool

from i2v_plugin.visualization.clusters import inspect_clusters, training_batch
from i2v_plugin.visualization.curves import collect_series, group_series, load_metrics
from i2v_plugin.visualization.grid import prediction_grid

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


def test_clusters_match_the_clustered_loss_of_that_training_step(synth_root, tmp_path):
    weights = save_weights(CLUSTERED, 0, tmp_path / "clustered.pth")
    cfg = tiny_cfg(CLUSTERED, "MODEL.WEIGHTS", weights)
    iteration = 3
    inspection = inspect_clusters(cfg, iteration)

    num_maps = 4 * EMBED_DIM  # 2 labeled + 2 unlabeled samples per batch
    assert inspection.maps.shape == (num_maps, 16, 16)  # 64 x 64 crops, patch size 4
    counts = inspection.domain_counts()
    assert counts.shape == (4, 2) and counts.sum() == num_maps
    assert counts[:, 1].sum() == int(inspection.domains.sum())
    assert set(np.unique(inspection.labels)) <= set(range(4))

    # The real training step at that iteration logs the loss's own cluster sizes and pairs.
    model = build_model(cfg)
    model.load_state_dict(torch.load(weights, weights_only=False)["model"])
    model.train()
    batch = training_batch(cfg, iteration)
    with EventStorage(iteration) as storage:
        model(batch)
    logged = {k: v[0] for k, v in storage.latest().items()}
    sizes = counts.sum(1)
    assert logged["i2v/cluster_size_min"] == sizes.min()
    assert logged["i2v/cluster_size_max"] == sizes.max()
    totals = inspection.pair_counts.sum(0)
    for column, kind in enumerate(("image_video", "image_image", "video_video")):
        assert logged[f"i2v/pairs_{kind}"] == totals[column]
    # Without a checkpoint iteration the default is the one after the checkpoint's (4 + 1).
    assert inspect_clusters(cfg).iteration == 5
    tapped, domains = model.eval().tapped_features(batch, ["patch_embed"])
    assert tapped["patch_embed"].shape[:2] == (4, EMBED_DIM) and domains.tolist() == [0, 0, 1, 1]


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

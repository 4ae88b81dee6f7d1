"""The cluster inspection is exactly the clustered loss's clusters and pairs at that step."""

import numpy as np
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.visualization.clusters import inspect_clusters, training_batch
from tests.helpers import tiny_cfg

CLUSTERED = "configs/synthetic/swin_clustered.yaml"
EMBED_DIM = 16  # TINY_MODEL_OPTS' MODEL.SWIN.EMBED_DIM: channels of the patch embedding


def save_weights(config: str, seed: int, path) -> str:
    torch.manual_seed(seed)
    torch.save({"model": build_model(tiny_cfg(config)).state_dict(), "iteration": 4}, path)
    return str(path)


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

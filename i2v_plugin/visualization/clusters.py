"""Cluster inspection of the clustered adversarial loss on one training batch.

Shows what ``ClusteredAdversarialLoss`` sees at a given iteration: the trainer's mixed batch of
that iteration (the loader is resumable, so ``set_start_iter`` gives exactly that batch), the
tapped maps of all samples from the model's own ``tapped_features``, and the clusters and pairs
from the loss's own ``assign`` with the training step's seed. Nothing here re-implements either.
"""

from dataclasses import dataclass

import numpy as np
import torch

from ..data import build_i2v_train_loader
from ..inference.frame_predictor import load_model
from ..modeling.adversarial.pairs import PAIR_KINDS
from ..modeling.objectives import required_inputs
from ..modeling.objectives.clustered import cluster_seed
from ..utils.domains import DOMAINS

DOMAIN_NAMES = DOMAINS  # index = domain_index(name)


@dataclass
class ClusterInspection:
    """Per-channel maps of one batch and their clusters.

    Attributes:
        iteration: the training iteration reproduced (its K-means and pair seed).
        feature: backbone map clustered (e.g. "patch_embed").
        num_clusters: K.
        maps: (N, H, W) float32, N = batch size x channels.
        labels: (N,) int64 cluster of every map.
        domains: (N,) int64, 0 image, 1 video.
        samples, channels: (N,) int64 batch sample and channel of every map.
        pair_counts: (K, 3) pairs drawn per cluster, columns as ``PAIR_KINDS``.
        inertia: K-means inertia.
    """

    iteration: int
    feature: str
    num_clusters: int
    maps: np.ndarray
    labels: np.ndarray
    domains: np.ndarray
    samples: np.ndarray
    channels: np.ndarray
    pair_counts: np.ndarray
    inertia: float

    def domain_counts(self) -> np.ndarray:
        """(K, 2) maps per cluster from images (column 0) and videos (column 1)."""
        counts = np.zeros((self.num_clusters, 2), dtype=np.int64)
        np.add.at(counts, (self.labels, self.domains), 1)
        return counts

    def table_rows(self) -> list[tuple]:
        """One row per cluster: id, size, image maps, video maps, video %, pairs per kind."""
        rows = []
        for k, (images, videos) in enumerate(self.domain_counts()):
            size = images + videos
            share = f"{100 * videos / size:.0f}" if size else "-"
            rows.append((k, size, images, videos, share, *self.pair_counts[k].tolist()))
        return rows

    @staticmethod
    def table_header() -> tuple:
        return ("cluster", "maps", "image", "video", "video %", *(f"pairs {k}" for k in PAIR_KINDS))


def _require_clustered(cfg) -> None:
    if not cfg.MODEL.I2V.CLUSTER.ENABLED:
        raise ValueError(
            "Cluster inspection needs a config with the clustered loss "
            "(MODEL.I2V.CLUSTER.ENABLED True, e.g. configs/synthetic/swin_clustered.yaml)"
        )


def training_batch(cfg, iteration: int) -> list[dict]:
    """The mixed batch the trainer's loader yields at ``iteration``."""
    loader = build_i2v_train_loader(cfg, required_inputs(cfg))
    loader.set_start_iter(iteration)
    return next(iter(loader))


def inspect_clusters(cfg, iteration: int | None = None) -> ClusterInspection:
    """Cluster the tapped maps of one training batch exactly like the clustered loss.

    Args:
        cfg: a config with the clustered loss; ``MODEL.WEIGHTS`` (optional) is loaded.
        iteration: the training iteration to reproduce; None takes the one after the
            checkpoint's (0 without a checkpoint).
    """
    _require_clustered(cfg)
    model, checkpoint = load_model(cfg)
    model.eval()  # the patch embedding has no dropout or batch statistics
    if iteration is None:
        iteration = int(checkpoint["iteration"]) + 1 if "iteration" in checkpoint else 0
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")
    objective = model.objectives["adv_cluster"]
    loss, feature = objective.loss, objective.feature
    with torch.no_grad():
        tapped, domains = model.tapped_features(training_batch(cfg, iteration), [feature])
        features = tapped[feature]
        assignment = loss.assign(features, domains, seed=cluster_seed(model.seed, iteration))
    b, c, h, w = features.shape
    return ClusterInspection(
        iteration=iteration,
        feature=feature,
        num_clusters=loss.num_clusters,
        maps=assignment.maps.reshape(b * c, h, w).float().cpu().numpy(),
        labels=assignment.clusters.labels.cpu().numpy(),
        domains=assignment.domains.cpu().numpy(),
        samples=np.repeat(np.arange(b), c),
        channels=np.tile(np.arange(c), b),
        pair_counts=assignment.pairs.counts.cpu().numpy(),
        inertia=float(assignment.clusters.inertia),
    )

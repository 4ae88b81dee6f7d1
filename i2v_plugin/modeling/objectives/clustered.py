"""``ClusteredAdversarial``: the paper's clustered adversarial loss (L_cl).

The per-channel maps a placement taps (the patch embedding by default) of every sample of the
global batch (all processes' samples, gathered) are clustered with K-means; inside each cluster
a pair discriminator behind a gradient reversal layer judges same-domain against cross-domain
pairs of maps of different samples (``modeling/adversarial/losses.py``). The K-means seed and
the pair draws come from their own stream, derived from the run's seed and the trainer iteration
(``cluster_seed``). Loss ``loss_adv_cluster``.
"""

from ..adversarial.discriminators import DISCRIMINATOR_REGISTRY
from ..adversarial.losses import ClusteredAdversarialLoss
from ..rng import derived_seed
from .adversarial import AdversarialObjective, grl_schedule, health_scalars, map_size
from .base import OBJECTIVE_REGISTRY


def num_clusters_for(cfg) -> int:
    """K: ``MODEL.I2V.CLUSTER.NUM_CLUSTERS`` when set, else the paper's rule, slightly above the
    number of inputs per step: frames of the global batch + 3 (11 for a 4 + 4 batch).

    The loss clusters the global batch whatever the number of processes, and
    ``SOLVER.IMS_PER_BATCH_LABELED`` / ``_UNLABELED`` are totals over all processes, so K does
    not depend on the number of processes."""
    if cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS > 0:
        return int(cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS)
    per_step = cfg.SOLVER.IMS_PER_BATCH_LABELED
    if cfg.DATASETS.TRAIN_UNLABELED:
        per_step += cfg.SOLVER.IMS_PER_BATCH_UNLABELED
    return per_step * cfg.INPUT.CLIP.LENGTH + 3


def cluster_seed(model_seed: int, iteration: int) -> int:
    """The seed of K-means and the pair draws at ``iteration``: its own stream, derived from the
    run's seed and the step (the same on every process)."""
    return derived_seed(model_seed, "cluster", iteration) % 2**31


@OBJECTIVE_REGISTRY.register()
class ClusteredAdversarial(AdversarialObjective):
    """``loss_adv_cluster``: pair discriminator inside K-means clusters of per-channel maps.

    Config: ``MODEL.I2V.CLUSTER.*`` (``ENABLED``, ``PLACEMENT``, ``NUM_CLUSTERS``,
    ``DISCRIMINATOR``, ``PAIR_INPUT``, ``WEIGHTING``, ...), ``INPUT.CLIP.LENGTH``,
    ``DISC_HIDDEN_DIMS``, ``GRL.*``. Instance name ``adv_cluster``. Figures (of the global
    batch): ``i2v/disc/cluster/*``, ``i2v/cluster_size_{min,max}``, ``i2v/pairs_<kind>`` and
    ``i2v/clusters_with_cross_pairs``.
    """

    def __init__(self, feature: str, loss: ClusteredAdversarialLoss, weight, schedule):
        """
        Args:
            feature: the backbone map whose channels are clustered.
            loss: K-means, pair sampling and the pair discriminator's BCE.
            weight: loss weight; schedule: iteration -> reversal coefficient.
        """
        super().__init__("adv_cluster", feature, weight, schedule)
        self.loss = loss

    @classmethod
    def enabled(cls, cfg) -> bool:
        return bool(cfg.MODEL.I2V.CLUSTER.ENABLED)

    @classmethod
    def build(cls, cfg, backbone, sem_seg_head) -> list["ClusteredAdversarial"]:
        cluster = cfg.MODEL.I2V.CLUSTER
        tap_of = backbone.placement_features
        if cluster.PLACEMENT not in tap_of:
            raise ValueError(
                f"Unknown MODEL.I2V placement(s) {[cluster.PLACEMENT]}; choose from "
                f"{sorted(tap_of)}"
            )
        feature = tap_of[cluster.PLACEMENT]
        h, w = map_size(
            cfg,
            backbone.feature_shapes()[feature],
            "the clustered loss's pair discriminator",
            backbone.size_divisibility,
        )
        pair_discriminator = DISCRIMINATOR_REGISTRY.get(cluster.DISCRIMINATOR)(
            h * w,
            hidden_dims=tuple(cfg.MODEL.I2V.DISC_HIDDEN_DIMS),
            input_form=cluster.PAIR_INPUT,
        )
        loss = ClusteredAdversarialLoss(
            pair_discriminator,
            num_clusters=num_clusters_for(cfg),
            pairs_per_kind=cluster.PAIRS_PER_KIND,
            backend=cluster.BACKEND,
            max_iter=cluster.MAX_ITER,
            pairing=cluster.PAIRING,
            normalize=cluster.NORMALIZE,
            weighting=cluster.WEIGHTING,
            frames_per_sample=cfg.INPUT.CLIP.LENGTH,
        )
        return [cls(feature, loss, cluster.LOSS_WEIGHT, grl_schedule(cfg))]

    def forward(self, step) -> dict:
        tapped, domains = step.tapped()
        coeff = self.coefficient(step)
        seed = cluster_seed(step.model.seed, step.iteration)
        loss, stats = self.loss(tapped[self.feature], domains, coeff, seed=seed)
        sizes = stats["cluster_sizes"].float()
        figures = health_scalars("cluster", stats)
        figures.update(
            {
                "i2v/cluster_size_min": sizes.min().item(),
                "i2v/cluster_size_max": sizes.max().item(),
                "i2v/pairs_image_video": stats["pairs_image_video"],
                "i2v/pairs_image_image": stats["pairs_image_image"],
                "i2v/pairs_video_video": stats["pairs_video_video"],
                "i2v/clusters_with_cross_pairs": stats["num_clusters_with_cross_pairs"],
            }
        )
        self.log(coeff, domains, figures)
        return {"loss_adv_cluster": loss * self.weight}

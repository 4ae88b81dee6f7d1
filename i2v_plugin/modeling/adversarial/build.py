"""``DomainAdversarialBranch``: every adversarial loss of a model, built from ``cfg.MODEL.I2V``.

It owns the general discriminators (one per placement), the clustered loss and the gradient
reversal schedule. The schedule reads the trainer iteration from the event storage, so a resumed
run reproduces it exactly.
"""

import math

import torch
from detectron2.layers import ShapeSpec
from detectron2.utils import comm
from detectron2.utils.events import get_event_storage
from torch import nn

from ..backbone.base import TappableBackbone
from .discriminators import DISCRIMINATOR_REGISTRY, DomainDiscriminator, PairDiscriminator
from .health import HEALTH_KEYS
from .losses import ClusteredAdversarialLoss, DomainAdversarialLoss
from .schedules import build_schedule


def adversarial_enabled(cfg) -> bool:
    """Whether the config trains any adversarial loss (and so needs the unlabeled stream)."""
    return bool(cfg.MODEL.I2V.PLACEMENTS) or cfg.MODEL.I2V.CLUSTER.ENABLED


class DomainAdversarialBranch(nn.Module):
    """Computes ``loss_adv_<placement>`` and ``loss_adv_cluster`` from tapped backbone maps."""

    def __init__(
        self,
        *,
        placement_losses: dict[str, DomainAdversarialLoss],
        placement_features: dict[str, str],
        placement_weights: dict[str, float],
        clustered_loss: ClusteredAdversarialLoss | None,
        cluster_feature: str,
        cluster_weight: float,
        schedule,
    ):
        """
        Args:
            placement_losses: placement name -> its general adversarial loss module.
            placement_features: placement name -> backbone map name it taps.
            placement_weights: placement name -> loss weight.
            clustered_loss: the clustered adversarial loss, or None.
            cluster_feature: backbone map the clustered loss taps.
            cluster_weight: its loss weight.
            schedule: callable iteration -> gradient-reversal coefficient.
        """
        super().__init__()
        self.placement_losses = nn.ModuleDict(placement_losses)
        self.placement_features = dict(placement_features)
        self.placement_weights = dict(placement_weights)
        self.clustered_loss = clustered_loss
        self.cluster_feature = cluster_feature
        self.cluster_weight = cluster_weight
        self.schedule = schedule

    @property
    def feature_names(self) -> list[str]:
        """Backbone maps the branch needs, for labeled and unlabeled samples alike."""
        names = set(self.placement_features.values())
        if self.clustered_loss is not None:
            names.add(self.cluster_feature)
        return sorted(names)

    def forward(self, features: dict[str, torch.Tensor], domains: torch.Tensor) -> dict:
        """
        Args:
            features: map name -> (B, C, H, W) for every sample of the batch.
            domains: (B,) long, 0 = image, 1 = video.
        Returns:
            dict of weighted losses. Figures go to the event storage: ``i2v/grl_coeff``,
            ``i2v/video_fraction``, the health of every discriminator as
            ``i2v/disc/<placement or "cluster">/<acc|loss|const_loss|logit_std|dead_units>`` and
            the clustered loss's cluster sizes and pair counts.
        """
        storage = get_event_storage()
        coeff = float(self.schedule(storage.iter))
        losses, figures = {}, {"i2v/grl_coeff": coeff}
        figures["i2v/video_fraction"] = domains.float().mean().item()
        for name, loss_module in self.placement_losses.items():
            loss, stats = loss_module(features[self.placement_features[name]], domains, coeff)
            losses[f"loss_adv_{name}"] = loss * self.placement_weights[name]
            figures.update(_health_scalars(name, stats))
        if self.clustered_loss is not None:
            loss, stats = self.clustered_loss(
                features[self.cluster_feature], domains, coeff, seed=storage.iter
            )
            losses["loss_adv_cluster"] = loss * self.cluster_weight
            figures.update(_health_scalars("cluster", stats))
            sizes = stats["cluster_sizes"].float()
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
        storage.put_scalars(**figures, smoothing_hint=False)
        return losses


def _health_scalars(name: str, stats: dict) -> dict[str, float]:
    """The finite health figures of discriminator ``name`` as ``i2v/disc/<name>/<key>``
    (accuracies are NaN on steps without pairs; they are left out rather than logged)."""
    values = {f"i2v/disc/{name}/{key}": float(stats[key]) for key in HEALTH_KEYS}
    return {key: value for key, value in values.items() if math.isfinite(value)}


def num_clusters_for(cfg) -> int:
    """K: ``MODEL.I2V.CLUSTER.NUM_CLUSTERS`` when set, else the paper's rule, slightly above the
    number of inputs per step: frames per step and process + 3 (11 for a 4 + 4 batch)."""
    if cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS > 0:
        return int(cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS)
    per_step = cfg.SOLVER.IMS_PER_BATCH_LABELED
    if cfg.DATASETS.TRAIN_UNLABELED:
        per_step += cfg.SOLVER.IMS_PER_BATCH_UNLABELED
    per_process = max(1, per_step // comm.get_world_size())
    return per_process * cfg.INPUT.CLIP.LENGTH + 3


def _map_size(cfg, shape: ShapeSpec, what: str, divisibility: int) -> tuple[int, int]:
    """Spatial size of a tapped map for the fixed training crop; errors name the crop size."""
    if not (cfg.INPUT.CROP.ENABLED and cfg.INPUT.PAD_TO_CROP_SIZE):
        raise ValueError(
            f"{what} has a fixed input size, so it needs fixed-size training crops: set "
            "INPUT.CROP.ENABLED True and INPUT.PAD_TO_CROP_SIZE True "
            f"(INPUT.CROP.TYPE 'absolute'); got ENABLED={cfg.INPUT.CROP.ENABLED}, "
            f"PAD_TO_CROP_SIZE={cfg.INPUT.PAD_TO_CROP_SIZE}."
        )
    crop_h, crop_w = cfg.INPUT.CROP.SIZE
    if cfg.INPUT.CROP.TYPE != "absolute" or crop_h % divisibility or crop_w % divisibility:
        raise ValueError(
            f"INPUT.CROP.SIZE {tuple(cfg.INPUT.CROP.SIZE)} (type {cfg.INPUT.CROP.TYPE!r}) cannot "
            f"feed {what}: it needs an 'absolute' crop whose sides are multiples of "
            f"{divisibility} (the backbone's size divisibility), e.g. "
            f"({crop_h // divisibility * divisibility or divisibility}, "
            f"{crop_w // divisibility * divisibility or divisibility})."
        )
    return crop_h // shape.stride, crop_w // shape.stride


def _build_placement_loss(
    cfg, name: str, disc_name: str, shape: ShapeSpec, backbone: TappableBackbone
) -> DomainAdversarialLoss:
    disc_cls = DISCRIMINATOR_REGISTRY.get(disc_name)
    if not issubclass(disc_cls, DomainDiscriminator):
        raise ValueError(
            f"MODEL.I2V.DISCRIMINATORS names {disc_name!r} for placement {name!r}, which is not a "
            "general domain discriminator (a DomainDiscriminator subclass)"
        )
    if disc_cls.dense:
        kwargs = {"in_channels": shape.channels}
        if backbone.takes_clips and disc_cls.judges_clips:
            # A clip backbone's frames are judged as whole clips (e.g. the 3D PatchGAN).
            kwargs["clip_length"] = cfg.INPUT.CLIP.LENGTH
        return DomainAdversarialLoss(disc_cls(**kwargs), mode="dense")
    what = f"the {disc_name} at placement {name!r}"
    h, w = _map_size(cfg, shape, what, backbone.size_divisibility)
    # Spatial and intermediate placements judge each channel's map; "global" judges the whole
    # encoder output (tokens concatenated), as in the paper.
    mode = "flatten" if name == "global" else "per_channel"
    in_features = h * w * (shape.channels if mode == "flatten" else 1)
    disc = disc_cls(in_features=in_features, hidden_dims=tuple(cfg.MODEL.I2V.DISC_HIDDEN_DIMS))
    return DomainAdversarialLoss(disc, mode=mode)


def build_adversarial_branch(cfg, backbone: TappableBackbone) -> DomainAdversarialBranch | None:
    """Build the branch from ``cfg.MODEL.I2V`` for ``backbone`` (its contract says where each
    placement taps, the maps' shapes and whether it takes clips); None when no adversarial
    loss is configured."""
    if not adversarial_enabled(cfg):
        return None
    i2v = cfg.MODEL.I2V
    placements = list(i2v.PLACEMENTS)
    tap_of = backbone.placement_features
    unknown = [p for p in placements + [i2v.CLUSTER.PLACEMENT] if p not in tap_of]
    if unknown:
        raise ValueError(f"Unknown MODEL.I2V placement(s) {unknown}; choose from {sorted(tap_of)}")
    for key, values in (
        ("PLACEMENT_WEIGHTS", i2v.PLACEMENT_WEIGHTS),
        ("DISCRIMINATORS", i2v.DISCRIMINATORS),
    ):
        if values and len(values) != len(placements):
            raise ValueError(
                f"MODEL.I2V.{key} has {len(values)} entries but PLACEMENTS has {len(placements)}"
            )
    weights = list(i2v.PLACEMENT_WEIGHTS) or [1.0] * len(placements)
    disc_names = list(i2v.DISCRIMINATORS) or ["MLPDiscriminator"] * len(placements)
    shapes = backbone.feature_shapes()
    losses = {
        name: _build_placement_loss(cfg, name, disc, shapes[tap_of[name]], backbone)
        for name, disc in zip(placements, disc_names)
    }
    clustered = None
    cluster_feature = tap_of[i2v.CLUSTER.PLACEMENT]
    if i2v.CLUSTER.ENABLED:
        h, w = _map_size(
            cfg,
            shapes[cluster_feature],
            "the clustered loss's pair discriminator",
            backbone.size_divisibility,
        )
        clustered = ClusteredAdversarialLoss(
            PairDiscriminator(
                h * w,
                hidden_dims=tuple(i2v.DISC_HIDDEN_DIMS),
                input_form=i2v.CLUSTER.PAIR_INPUT,
            ),
            num_clusters=num_clusters_for(cfg),
            pairs_per_kind=i2v.CLUSTER.PAIRS_PER_KIND,
            backend=i2v.CLUSTER.BACKEND,
            max_iter=i2v.CLUSTER.MAX_ITER,
            pairing=i2v.CLUSTER.PAIRING,
            normalize=i2v.CLUSTER.NORMALIZE,
            balance_labels=i2v.CLUSTER.BALANCE_LABELS,
        )
    schedule_kwargs = {"value": i2v.GRL.MU}
    if i2v.GRL.SCHEDULE == "sigmoid":
        schedule_kwargs = {
            "low": i2v.GRL.LOW,
            "high": i2v.GRL.MU,
            "gamma": i2v.GRL.GAMMA,
            "max_iter": cfg.SOLVER.MAX_ITER,
        }
    return DomainAdversarialBranch(
        placement_losses=losses,
        placement_features={name: tap_of[name] for name in placements},
        placement_weights=dict(zip(placements, weights)),
        clustered_loss=clustered,
        cluster_feature=cluster_feature,
        cluster_weight=i2v.CLUSTER.LOSS_WEIGHT,
        schedule=build_schedule(i2v.GRL.SCHEDULE, **schedule_kwargs),
    )

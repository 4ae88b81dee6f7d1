"""Adversarial losses: the general domain discriminator loss and the clustered pair loss.

Both apply the gradient reversal layer to the features first, so minimising the returned loss
trains the discriminator while pushing the feature extractor to make the domains (or the pairs
inside each cluster) indistinguishable.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .clustering import DEFAULT_MAX_ITER, KMeansResult
from .gather import all_gather_rows
from .grl import grad_reverse
from .health import DeadUnitProbe, health_figures, label_accuracy
from .pair_weights import PAIR_WEIGHTINGS, pair_weights
from .pairs import PAIR_KINDS, PairBatch, sample_balanced_pairs
from .shared_kmeans import shared_kmeans

# How per-channel maps are normalised before K-means (the pair discriminator sees them raw).
MAP_NORMALIZATIONS = ("none", "l2", "standardize")

MODES = ("per_channel", "flatten", "dense")


def _check_domains(features: Tensor, domains: Tensor, who: str) -> None:
    if features.dim() < 1 or domains.shape != features.shape[:1]:
        raise ValueError(
            f"{who}: domains must have shape (B,) matching the batch of features "
            f"{tuple(features.shape)}, got {tuple(domains.shape)}"
        )
    if domains.dtype != torch.long:
        raise ValueError(
            f"{who}: domains must be int64 (0 = image, 1 = video), got {domains.dtype}"
        )
    if domains.numel() and not bool(((domains == 0) | (domains == 1)).all()):
        raise ValueError(f"{who}: domains must be 0 (image) or 1 (video), got {domains.tolist()}")


def _check_maps(features: Tensor, who: str) -> None:
    if features.dim() != 4:
        raise ValueError(f"{who}: features must be (B, C, H, W), got shape {tuple(features.shape)}")


def normalize_maps(maps: Tensor, how: str) -> Tensor:
    """(N, D) maps -> the same maps scaled per row: "none", "l2" (unit norm) or "standardize"
    (zero mean, unit standard deviation); constant rows stay finite."""
    if how == "none":
        return maps
    if how == "l2":
        return maps / maps.norm(dim=1, keepdim=True).clamp_min(1e-6)
    if how == "standardize":
        centred = maps - maps.mean(dim=1, keepdim=True)
        return centred / centred.std(dim=1, keepdim=True, unbiased=False).clamp_min(1e-6)
    raise ValueError(f"normalize_maps: how must be one of {MAP_NORMALIZATIONS}, got {how!r}")


class DomainAdversarialLoss(nn.Module):
    """BCE of a domain discriminator behind a gradient reversal layer.

    Args:
        discriminator: module returning logits; for "per_channel" / "flatten" modes it takes
            (N, in_features) and should expose ``in_features`` so sizes can be checked.
        mode: how (B, C, H, W) features become discriminator inputs:
            "per_channel": (B*C, H*W), each channel's map is a sample with its image's domain;
            "flatten": (B, C*H*W);
            "dense": the features as they are (e.g. PatchGAN, conv); the (B,) labels are
            broadcast to the logits' shape.

    ``forward(features, domains (B,) int64 {0 image, 1 video}, grl_coeff)`` returns
    ``(loss, stats)``: the mean BCE-with-logits (scalar, target 1 = video) and the health
    figures of the step (floats, ``health.HEALTH_KEYS``: balanced accuracy, loss, constant-
    predictor loss, logit spread, dead hidden units).
    """

    def __init__(self, discriminator: nn.Module, mode: str):
        super().__init__()
        if mode not in MODES:
            raise ValueError(
                f"DomainAdversarialLoss: unknown mode {mode!r}; expected one of {MODES}"
            )
        self.discriminator = discriminator
        self.mode = mode
        self.probe = DeadUnitProbe(discriminator)

    def _flat_inputs(self, features: Tensor, domains: Tensor) -> tuple[Tensor, Tensor]:
        who = f"DomainAdversarialLoss(mode={self.mode!r})"
        _check_maps(features, who)
        b, c, h, w = features.shape
        size = h * w if self.mode == "per_channel" else c * h * w
        expected = getattr(self.discriminator, "in_features", None)
        if expected is not None and size != expected:
            what = "H*W" if self.mode == "per_channel" else "C*H*W"
            raise ValueError(
                f"{who}: features of shape {tuple(features.shape)} give {what} = {size} inputs "
                f"per sample, but the discriminator expects in_features={expected}"
            )
        if self.mode == "per_channel":
            return features.reshape(b * c, h * w), domains.repeat_interleave(c)
        return features.reshape(b, c * h * w), domains

    def forward(
        self, features: Tensor, domains: Tensor, grl_coeff: float
    ) -> tuple[Tensor, dict[str, Tensor]]:
        _check_domains(features, domains, "DomainAdversarialLoss")
        reversed_features = grad_reverse(features, grl_coeff)
        self.probe.start()
        if self.mode == "dense":
            logits = self.discriminator(reversed_features)
            if logits.dim() < 1 or logits.shape[0] != domains.shape[0]:
                raise ValueError(
                    f"DomainAdversarialLoss(mode='dense'): discriminator returned logits of shape "
                    f"{tuple(logits.shape)}; expected a leading batch dimension {domains.shape[0]}"
                )
            labels = domains.view(-1, *([1] * (logits.dim() - 1))).expand_as(logits)
        else:
            inputs, labels = self._flat_inputs(reversed_features, domains)
            logits = self.discriminator(inputs)
        targets = labels.to(logits.dtype)
        loss = F.binary_cross_entropy_with_logits(logits.float(), targets.float())
        return loss, health_figures(logits, targets, loss, self.probe.fraction())


class ClusterAssignment(NamedTuple):
    """What the clustered loss pairs up in one step (``ClusteredAdversarialLoss.assign``).

    Attributes:
        maps: (N, H*W) per-channel maps of the global batch (every process's frames, rank 0's
            first), N = frames * C, frame-major (frame 0's C channels first).
        domains: (N,) int64 domain of every map (its sample's).
        clusters: the K-means result on ``maps`` (labels (N,), centres, inertia).
        pairs: the balanced pairs drawn inside the clusters.
        samples: (N,) int64 sample of every map in the global batch (the frames of a clip are
            one sample); no pair joins two maps of one sample.
    """

    maps: Tensor
    domains: Tensor
    clusters: KMeansResult
    pairs: PairBatch
    samples: Tensor


class ClusteredAdversarialLoss(nn.Module):
    """Pair discriminator loss inside K-means clusters of per-channel maps (training only).

    Each channel's (H*W) map is a sample with its image's domain. The maps are clustered, and
    inside each cluster image-video / image-image / video-video pairs of maps of different
    samples are judged by the pair discriminator (target 1 = same domain). Comparing maps only
    within a cluster asks for domain alignment between maps that already look alike.

    In a distributed run the maps of every process are gathered first (``gather.py``), K-means
    runs once on rank 0 and its labels are broadcast (``shared_kmeans.py``), and the pairs come
    from the same seed: every process computes the same loss on the global batch, and after
    DDP's averaging every gradient equals that of one process holding the whole batch.

    Args:
        pair_discriminator: module ``(a (P, H*W), b (P, H*W)) -> (P,)`` logits, e.g.
            ``PairDiscriminator``.
        num_clusters: K of K-means.
        pairs_per_kind: pairs per kind and contributing cluster.
        backend: K-means backend, "torch" or "sklearn".
        max_iter: maximum Lloyd iterations.
        pairing: "balanced" (the paper's: only clusters where all three kinds are available,
            equal numbers of them) or "available" (every kind a cluster has); see ``pairs.py``.
        normalize: per-map normalisation before K-means, one of ``MAP_NORMALIZATIONS``.
        weighting: per-pair weights of the BCE, one of ``PAIR_WEIGHTINGS`` (``pair_weights.py``):
            "kinds" (the three kinds count equally), "labels" (same and cross domain count
            equally) or "none".
        frames_per_sample: rows of ``features`` come in whole clips of this many frames (the
            clip length T); the maps of one clip count as one sample.
        require_cross_pairs: when no cluster yields an image-video pair (e.g. a single-domain
            batch), every target would be "same domain" and the loss would only teach that
            constant answer; with True (default) such a batch gives a zero loss instead.

    When no pair is used the loss is exactly 0 but still depends on every discriminator
    parameter, and the pair counts in the stats are 0.

    ``forward(features (B, C, H, W), domains (B,) int64, grl_coeff, seed)`` returns
    ``(loss, stats)``; ``seed`` fixes both the K-means initialisation and the pair draws.
    Stats (floats, of the global batch): the health figures (``health.HEALTH_KEYS``; ``acc`` is
    balanced over the two labels, and they weigh the pairs as the loss does), "acc_same",
    "acc_cross" (NaN when no such pair), "cluster_sizes" (K,) tensor,
    "pairs_image_video", "pairs_image_image", "pairs_video_video",
    "num_clusters_with_cross_pairs", "kmeans_inertia".
    """

    def __init__(
        self,
        pair_discriminator: nn.Module,
        num_clusters: int = 11,
        pairs_per_kind: int = 8,
        backend: str = "torch",
        max_iter: int = DEFAULT_MAX_ITER,
        pairing: str = "balanced",
        normalize: str = "none",
        weighting: str = "kinds",
        require_cross_pairs: bool = True,
        frames_per_sample: int = 1,
    ):
        super().__init__()
        if num_clusters < 1 or pairs_per_kind < 1:
            raise ValueError(
                "ClusteredAdversarialLoss: num_clusters and pairs_per_kind must be >= 1, got "
                f"{num_clusters} and {pairs_per_kind}"
            )
        if weighting not in PAIR_WEIGHTINGS:
            raise ValueError(
                f"ClusteredAdversarialLoss: weighting must be one of {PAIR_WEIGHTINGS}, got "
                f"{weighting!r}"
            )
        if frames_per_sample < 1:
            raise ValueError(
                f"ClusteredAdversarialLoss: frames_per_sample must be >= 1, got {frames_per_sample}"
            )
        if normalize not in MAP_NORMALIZATIONS:
            raise ValueError(
                f"ClusteredAdversarialLoss: normalize must be one of {MAP_NORMALIZATIONS}, got "
                f"{normalize!r}"
            )
        self.pair_discriminator = pair_discriminator
        self.num_clusters = int(num_clusters)
        self.pairs_per_kind = int(pairs_per_kind)
        self.backend = backend
        self.max_iter = int(max_iter)
        self.pairing = pairing
        self.normalize = normalize
        self.weighting = weighting
        self.require_cross_pairs = bool(require_cross_pairs)
        self.frames_per_sample = int(frames_per_sample)
        self.probe = DeadUnitProbe(pair_discriminator)

    def assign(self, features: Tensor, domains: Tensor, seed: int) -> ClusterAssignment:
        """Cluster the per-channel maps and draw the pairs, without the loss.

        This is the loss's own first half: training, the cluster figure and diagnostics all
        call it, so they see exactly the clusters and pairs the loss uses.

        Args:
            features: (B, C, H, W) tapped maps of this process's frames (labeled first, as the
                model gives them; whole clips of ``frames_per_sample`` frames).
            domains: (B,) int64, 0 = image, 1 = video.
            seed: fixes the K-means initialisation and the pair draws (training: the iteration);
                the same on every process.
        Returns:
            ``ClusterAssignment`` of the global batch (every process's frames; this process's
            alone when not distributed), the same on every process; its ``maps`` keep the
            autograd graph of ``features``.
        """
        who = "ClusteredAdversarialLoss"
        _check_maps(features, who)
        _check_domains(features, domains, who)
        b, c, h, w = features.shape
        expected = getattr(self.pair_discriminator, "in_features", None)
        if expected is not None and h * w != expected:
            raise ValueError(
                f"{who}: features of shape {tuple(features.shape)} give maps of H*W = {h * w} "
                f"values, but the pair discriminator expects in_features={expected}"
            )
        if b % self.frames_per_sample:
            raise ValueError(
                f"{who}: {b} frames do not make whole clips of frames_per_sample="
                f"{self.frames_per_sample} frames (INPUT.CLIP.LENGTH)"
            )
        # The global batch: every process's frames, rank 0's first (a no-op in one process).
        features, domains = all_gather_rows(features), all_gather_rows(domains)
        frames = features.shape[0]
        maps = features.reshape(frames * c, h * w)
        map_domains = domains.repeat_interleave(c)
        samples = torch.arange(frames, device=domains.device) // self.frames_per_sample
        map_samples = samples.repeat_interleave(c)
        clusters = shared_kmeans(
            normalize_maps(maps.detach().float(), self.normalize),
            self.num_clusters,
            seed,
            backend=self.backend,
            max_iter=self.max_iter,
        )
        generator = torch.Generator().manual_seed(int(seed))
        pairs = sample_balanced_pairs(
            clusters.labels,
            map_domains,
            self.pairs_per_kind,
            generator,
            self.num_clusters,
            pairing=self.pairing,
            sample_ids=map_samples,
        )
        return ClusterAssignment(maps, map_domains, clusters, pairs, map_samples)

    def _map_domain_loss(self, maps: Tensor, map_domains: Tensor):
        """The pair discriminator's own per-map term on every map of the step, detached (it
        trains the discriminator only), when it has one (``PairDiscriminator.map_domain_loss``);
        else None."""
        supervise = getattr(self.pair_discriminator, "map_domain_loss", None)
        if supervise is None:
            return None
        return supervise(maps.detach(), map_domains)

    def forward(
        self, features: Tensor, domains: Tensor, grl_coeff: float, seed: int
    ) -> tuple[Tensor, dict]:
        if not self.training:
            raise RuntimeError(
                "ClusteredAdversarialLoss: clustering is a training-only loss; it was called "
                "in eval mode"
            )
        maps, map_domains, clusters, pairs, _ = self.assign(features, domains, seed)
        reversed_maps = grad_reverse(maps, grl_coeff)
        has_cross = bool(pairs.counts[:, 0].sum() > 0)
        self.probe.start()
        weights = None
        if pairs.idx_a.numel() == 0 or (self.require_cross_pairs and not has_cross):
            # A zero loss that still runs the discriminator keeps every parameter in the graph,
            # so DDP does not stop on parameters that got no gradient.
            dummy = reversed_maps[:1]
            # (+ 0.0 turns the -0.0 of a negative logit into 0.0.)
            loss = self.pair_discriminator(dummy, dummy).sum() * 0.0 + 0.0
            self.probe.start()  # the dummy call says nothing about the units
            logits = targets = maps.new_zeros(0)
            counts = torch.zeros_like(pairs.counts)
        else:
            logits = self.pair_discriminator(reversed_maps[pairs.idx_a], reversed_maps[pairs.idx_b])
            targets = pairs.same_domain.float()
            weights = pair_weights(self.weighting, targets, pairs.kind)
            loss = F.binary_cross_entropy_with_logits(logits.float(), targets, weight=weights)
            counts = pairs.counts
        stats = health_figures(logits, targets, loss, self.probe.fraction(), weights)
        map_loss = self._map_domain_loss(maps, map_domains) if logits.numel() else None
        if map_loss is not None:
            loss = loss + map_loss
        logits = logits.detach()
        per_kind = counts.sum(0)
        stats.update(
            {
                "acc_same": label_accuracy(logits, targets, 1, weights),
                "acc_cross": label_accuracy(logits, targets, 0, weights),
                "cluster_sizes": torch.bincount(clusters.labels, minlength=self.num_clusters),
                "num_clusters_with_cross_pairs": float((counts[:, 0] > 0).sum()),
                "kmeans_inertia": float(clusters.inertia),
            }
        )
        for i, kind in enumerate(PAIR_KINDS):
            stats[f"pairs_{kind}"] = float(per_kind[i])
        return loss, stats

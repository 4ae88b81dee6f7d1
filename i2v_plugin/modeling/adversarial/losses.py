"""Adversarial losses: the general domain discriminator loss and the clustered pair loss.

Both apply the gradient reversal layer to the features first, so minimising the returned loss
trains the discriminator while pushing the feature extractor to make the domains (or the pairs
inside each cluster) indistinguishable.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .clustering import DEFAULT_MAX_ITER, KMeansResult, run_kmeans
from .grl import grad_reverse
from .pairs import PAIR_KINDS, PairBatch, sample_balanced_pairs

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


def _accuracy(logits: Tensor, targets: Tensor) -> Tensor:
    """Fraction of logits on the side of 0 that matches the {0, 1} target (NaN if empty)."""
    if logits.numel() == 0:
        return torch.tensor(float("nan"), device=logits.device)
    return ((logits > 0) == (targets > 0.5)).float().mean()


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
    ``(loss, stats)``: the mean BCE-with-logits (scalar, target 1 = video) and detached 0-dim
    tensors ``stats["acc"]`` (accuracy at logit 0) and ``stats["loss"]``.
    """

    def __init__(self, discriminator: nn.Module, mode: str):
        super().__init__()
        if mode not in MODES:
            raise ValueError(
                f"DomainAdversarialLoss: unknown mode {mode!r}; expected one of {MODES}"
            )
        self.discriminator = discriminator
        self.mode = mode

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
        loss = F.binary_cross_entropy_with_logits(logits, targets)
        stats = {"acc": _accuracy(logits.detach(), targets), "loss": loss.detach()}
        return loss, stats


class ClusterAssignment(NamedTuple):
    """What the clustered loss pairs up in one step (``ClusteredAdversarialLoss.assign``).

    Attributes:
        maps: (N, H*W) per-channel maps, N = B*C, sample-major (sample 0's C channels first).
        domains: (N,) int64 domain of every map (its sample's).
        clusters: the K-means result on ``maps`` (labels (N,), centres, inertia).
        pairs: the balanced pairs drawn inside the clusters.
    """

    maps: Tensor
    domains: Tensor
    clusters: KMeansResult
    pairs: PairBatch


class ClusteredAdversarialLoss(nn.Module):
    """Pair discriminator loss inside K-means clusters of per-channel maps (training only).

    Each channel's (H*W) map is a sample with its image's domain. The maps are clustered, and
    inside each cluster balanced image-video / image-image / video-video pairs are judged by
    the pair discriminator (target 1 = same domain). Comparing maps only within a cluster asks
    for domain alignment between maps that already look alike.

    Args:
        pair_discriminator: module ``(a (P, H*W), b (P, H*W)) -> (P,)`` logits, e.g.
            ``PairDiscriminator``.
        num_clusters: K of K-means.
        pairs_per_kind: pairs per kind and cluster (see ``sample_balanced_pairs``).
        backend: K-means backend, "torch" or "sklearn".
        max_iter: maximum Lloyd iterations.
        require_cross_pairs: when no cluster yields an image-video pair (e.g. a single-domain
            batch), every target would be "same domain" and the loss would only teach that
            constant answer; with True (default) such a batch gives a zero loss instead.

    When no pair is used the loss is exactly 0 but still depends on every discriminator
    parameter, and the pair counts in the stats are 0.

    ``forward(features (B, C, H, W), domains (B,) int64, grl_coeff, seed)`` returns
    ``(loss, stats)``; ``seed`` fixes both the K-means initialisation and the pair draws.
    Stats (detached tensors): "acc", "acc_same", "acc_cross" (NaN when no such pair),
    "loss", "cluster_sizes" (K,), "pairs_image_video", "pairs_image_image",
    "pairs_video_video", "num_clusters_with_cross_pairs", "kmeans_inertia".
    """

    def __init__(
        self,
        pair_discriminator: nn.Module,
        num_clusters: int = 11,
        pairs_per_kind: int = 8,
        backend: str = "torch",
        max_iter: int = DEFAULT_MAX_ITER,
        require_cross_pairs: bool = True,
    ):
        super().__init__()
        if num_clusters < 1 or pairs_per_kind < 1:
            raise ValueError(
                "ClusteredAdversarialLoss: num_clusters and pairs_per_kind must be >= 1, got "
                f"{num_clusters} and {pairs_per_kind}"
            )
        self.pair_discriminator = pair_discriminator
        self.num_clusters = int(num_clusters)
        self.pairs_per_kind = int(pairs_per_kind)
        self.backend = backend
        self.max_iter = int(max_iter)
        self.require_cross_pairs = bool(require_cross_pairs)

    def assign(self, features: Tensor, domains: Tensor, seed: int) -> ClusterAssignment:
        """Cluster the per-channel maps and draw the pairs, without the loss.

        This is the loss's own first half: training, the cluster figure and diagnostics all
        call it, so they see exactly the clusters and pairs the loss uses.

        Args:
            features: (B, C, H, W) tapped maps of every sample (labeled first, as the model
                gives them).
            domains: (B,) int64, 0 = image, 1 = video.
            seed: fixes the K-means initialisation and the pair draws (training: the iteration).
        Returns:
            ``ClusterAssignment``; its ``maps`` keep the autograd graph of ``features``.
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
        maps = features.reshape(b * c, h * w)
        map_domains = domains.repeat_interleave(c)
        clusters = run_kmeans(
            maps.detach(), self.num_clusters, seed, backend=self.backend, max_iter=self.max_iter
        )
        generator = torch.Generator().manual_seed(int(seed))
        pairs = sample_balanced_pairs(
            clusters.labels, map_domains, self.pairs_per_kind, generator, self.num_clusters
        )
        return ClusterAssignment(maps, map_domains, clusters, pairs)

    def forward(
        self, features: Tensor, domains: Tensor, grl_coeff: float, seed: int
    ) -> tuple[Tensor, dict[str, Tensor]]:
        if not self.training:
            raise RuntimeError(
                "ClusteredAdversarialLoss: clustering is a training-only loss; it was called "
                "in eval mode"
            )
        maps, _, clusters, pairs = self.assign(features, domains, seed)
        reversed_maps = grad_reverse(maps, grl_coeff)
        has_cross = bool(pairs.counts[:, 0].sum() > 0)
        if pairs.idx_a.numel() == 0 or (self.require_cross_pairs and not has_cross):
            # A zero loss that still runs the discriminator keeps every parameter in the graph,
            # so DDP does not stop on parameters that got no gradient.
            dummy = reversed_maps[:1]
            # (+ 0.0 turns the -0.0 of a negative logit into 0.0.)
            loss = self.pair_discriminator(dummy, dummy).sum() * 0.0 + 0.0
            logits = targets = maps.new_zeros(0)
            counts = torch.zeros_like(pairs.counts)
        else:
            logits = self.pair_discriminator(reversed_maps[pairs.idx_a], reversed_maps[pairs.idx_b])
            targets = pairs.same_domain.to(logits.dtype)
            loss = F.binary_cross_entropy_with_logits(logits, targets)
            counts = pairs.counts
        bce = loss.detach()

        logits = logits.detach()
        per_kind = counts.sum(0)
        stats = {
            "acc": _accuracy(logits, targets),
            "acc_same": _accuracy(logits[targets > 0.5], targets[targets > 0.5]),
            "acc_cross": _accuracy(logits[targets < 0.5], targets[targets < 0.5]),
            "loss": bce,
            "cluster_sizes": torch.bincount(clusters.labels, minlength=self.num_clusters),
            "num_clusters_with_cross_pairs": (counts[:, 0] > 0).sum(),
            "kmeans_inertia": clusters.inertia.detach(),
        }
        for i, kind in enumerate(PAIR_KINDS):
            stats[f"pairs_{kind}"] = per_kind[i]
        return loss, stats

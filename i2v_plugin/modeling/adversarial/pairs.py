"""Sampling of map pairs inside clusters for the clustered adversarial loss.

Three kinds of pairs: image-video (cross-domain), image-image and video-video (same-domain).
Two pairing rules (``PAIRINGS``):

- "balanced" (the paper's): only clusters that hold both domains contribute, each with equal
  numbers of the three kinds (so a cluster needs at least two maps of each domain). A cluster of
  one domain says nothing about domain alignment and adds no pair.
- "available" (the first implementation's, kept for comparison): every cluster contributes every
  kind it has the members for, so single-domain clusters add same-domain pairs and the label mix
  leans towards "same domain".
"""

from typing import NamedTuple

import torch
from torch import Tensor

# Column order of PairBatch.counts.
PAIR_KINDS = ("image_video", "image_image", "video_video")
PAIRINGS = ("balanced", "available")


class PairBatch(NamedTuple):
    """Sampled pairs, ordered by cluster, then kind (as in ``PAIR_KINDS``), then draw.

    Attributes:
        idx_a: (P,) int64 index of the first member of each pair.
        idx_b: (P,) int64 index of the second member (for image-video pairs ``idx_a`` is the
            image and ``idx_b`` the video).
        same_domain: (P,) float32, 1.0 for image-image / video-video pairs, 0.0 for image-video.
        counts: (K, 3) int64 pairs sampled per cluster for the kinds in ``PAIR_KINDS``.
    All four live on the device of ``cluster_labels``.
    """

    idx_a: Tensor
    idx_b: Tensor
    same_domain: Tensor
    counts: Tensor


def _check_inputs(
    cluster_labels: Tensor, domains: Tensor, pairs_per_kind: int, pairing: str
) -> None:
    who = "sample_balanced_pairs"
    if pairing not in PAIRINGS:
        raise ValueError(f"{who}: pairing must be one of {PAIRINGS}, got {pairing!r}")
    if cluster_labels.dim() != 1 or domains.shape != cluster_labels.shape:
        raise ValueError(
            f"{who}: cluster_labels and domains must be 1-D of the same length, got shapes "
            f"{tuple(cluster_labels.shape)} and {tuple(domains.shape)}"
        )
    if cluster_labels.dtype != torch.long or domains.dtype != torch.long:
        raise ValueError(
            f"{who}: cluster_labels and domains must be int64, got {cluster_labels.dtype} and "
            f"{domains.dtype}"
        )
    if cluster_labels.numel() and int(cluster_labels.min()) < 0:
        raise ValueError(f"{who}: cluster_labels must be >= 0, got min {int(cluster_labels.min())}")
    if domains.numel() and not bool(((domains == 0) | (domains == 1)).all()):
        raise ValueError(f"{who}: domains must be 0 (image) or 1 (video), got {domains.unique()}")
    if pairs_per_kind < 0:
        raise ValueError(f"{who}: pairs_per_kind must be >= 0, got {pairs_per_kind}")


def sample_balanced_pairs(
    cluster_labels: Tensor,
    domains: Tensor,
    pairs_per_kind: int,
    generator: torch.Generator,
    num_clusters: int | None = None,
    pairing: str = "balanced",
) -> PairBatch:
    """Draw ``pairs_per_kind`` pairs of each kind inside every contributing cluster.

    A kind is available in a cluster when it has at least one image and one video member
    (image-video), or at least two members of that domain (image-image, video-video). With
    ``pairing="balanced"`` a cluster contributes only when all three kinds are available, and
    then all three; with "available" every available kind contributes. The two members of a
    same-kind pair are distinct; draws are independent, so a pair may repeat across draws.

    Args:
        cluster_labels: (N,) int64 cluster of every map, values in [0, K).
        domains: (N,) int64 domain of every map, 0 = image, 1 = video.
        pairs_per_kind: pairs drawn per available kind and cluster.
        generator: CPU generator all draws come from (same seed -> same pairs).
        num_clusters: K; defaults to ``cluster_labels.max() + 1``. Pass it so clusters that
            ended up empty still get a row in ``counts``.
        pairing: "balanced" or "available" (see the module docstring).

    Returns:
        PairBatch with ``P = counts.sum()`` pairs.
    """
    _check_inputs(cluster_labels, domains, pairs_per_kind, pairing)
    device = cluster_labels.device
    # N is small (hundreds), so sampling on the CPU costs little and keeps the CPU generator.
    labels, doms = cluster_labels.cpu(), domains.cpu()
    n = labels.numel()
    if num_clusters is None:
        k = int(labels.max()) + 1 if n else 0
    else:
        k = int(num_clusters)
    if n and int(labels.max()) >= k:
        raise ValueError(
            f"sample_balanced_pairs: cluster label {int(labels.max())} is out of range for "
            f"num_clusters={k}"
        )

    # Members of group g = 2 * cluster + domain sit contiguously in `order`, from offsets[g].
    groups = labels * 2 + doms
    order = torch.argsort(groups, stable=True)
    sizes = torch.bincount(groups, minlength=2 * k).view(k, 2)
    offsets = (torch.cumsum(sizes.flatten(), 0) - sizes.flatten()).view(k, 2)

    # For every (cluster, kind, draw): the domain of each member and whether they must differ.
    dom_a = torch.tensor([0, 0, 1])
    dom_b = torch.tensor([1, 0, 1])
    same_group = torch.tensor([False, True, True])
    size_a, size_b = sizes[:, dom_a], sizes[:, dom_b]  # (K, 3)
    available = torch.where(same_group, size_a >= 2, (size_a >= 1) & (size_b >= 1))
    if pairing == "balanced":
        available = available & available.all(dim=1, keepdim=True)

    shape = (k, 3, pairs_per_kind)
    u_a = torch.rand(shape, generator=generator, dtype=torch.float64)
    u_b = torch.rand(shape, generator=generator, dtype=torch.float64)
    sa, sb = size_a[..., None], size_b[..., None]
    pos_a = (u_a * sa).long().clamp_max(sa - 1)
    # A same-group partner is drawn among the other sa - 1 members, then shifted past pos_a.
    partners = torch.where(same_group[:, None], sa - 1, sb)
    pos_b = (u_b * partners).long().clamp_max((partners - 1).clamp_min(0))
    pos_b = pos_b + (same_group[:, None] & (pos_b >= pos_a)).long()

    keep = available[..., None].expand(shape)
    start_a = offsets[:, dom_a][..., None]
    start_b = offsets[:, dom_b][..., None]
    idx_a = order[(start_a + pos_a)[keep]]
    idx_b = order[(start_b + pos_b)[keep]]
    same = same_group[:, None].expand(shape)[keep].float()
    counts = available.long() * pairs_per_kind
    return PairBatch(idx_a.to(device), idx_b.to(device), same.to(device), counts.to(device))

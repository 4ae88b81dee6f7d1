"""Sampling of map pairs inside clusters for the clustered adversarial loss.

Three kinds of pairs: image-video (cross-domain), image-image and video-video (same-domain).
The two maps of a pair always come from different samples (``sample_ids``: a sample's channels,
and the frames of a clip, share one id), so a pair discriminator cannot answer "same domain" by
recognising two channels of one image. Cross-domain pairs are of different samples anyway; a
same-domain kind is available in a cluster only when the cluster holds maps of that domain from
at least two samples.

Two pairing rules (``PAIRINGS``):

- "balanced" (the paper's): only clusters where all three kinds are available contribute, each
  with equal numbers of the three kinds. A cluster of one domain says nothing about domain
  alignment and adds no pair.
- "available" (the first implementation's, kept for comparison): every cluster contributes every
  kind it has the members for, so single-domain clusters add same-domain pairs and the label mix
  leans towards "same domain".
"""

from typing import NamedTuple

import torch
from torch import Tensor

# Column order of PairBatch.counts, and the values of PairBatch.kind.
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
        kind: (P,) int64 kind of every pair, an index into ``PAIR_KINDS``.
    All five live on the device of ``cluster_labels``.
    """

    idx_a: Tensor
    idx_b: Tensor
    same_domain: Tensor
    counts: Tensor
    kind: Tensor


def _check_inputs(
    cluster_labels: Tensor,
    domains: Tensor,
    sample_ids: Tensor | None,
    pairs_per_kind: int,
    pairing: str,
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
    if sample_ids is None:
        return
    if sample_ids.shape != cluster_labels.shape or sample_ids.dtype != torch.long:
        raise ValueError(
            f"{who}: sample_ids must be int64 of shape {tuple(cluster_labels.shape)} (one per "
            f"map), got {sample_ids.dtype} of shape {tuple(sample_ids.shape)}"
        )
    if sample_ids.numel() == 0:
        return
    if int(sample_ids.min()) < 0:
        raise ValueError(f"{who}: sample_ids must be >= 0, got min {int(sample_ids.min())}")
    ids, doms = sample_ids.cpu(), domains.cpu()
    size = int(ids.max()) + 1
    low = torch.full((size,), 2).scatter_reduce(0, ids, doms, "amin")
    high = torch.full((size,), -1).scatter_reduce(0, ids, doms, "amax")
    mixed = ((low != high) & (high >= 0)).nonzero().flatten()
    if mixed.numel():
        raise ValueError(
            f"{who}: every map of a sample must have that sample's domain; samples "
            f"{mixed.tolist()[:10]} have maps of both domains"
        )


class _Members(NamedTuple):
    """Maps sorted by group (2 * cluster + domain), then sample, then index.

    order: (N,) map index at every sorted position. offsets, sizes: (2K,) first position and
    size of every group. block_start, block_size: (N,) first position and size of the run of the
    member's sample inside its group. pair_cum: (N + 1,) running count, over sorted positions,
    of each member's partners of another sample in its group (0 first).
    """

    order: Tensor
    offsets: Tensor
    sizes: Tensor
    block_start: Tensor
    block_size: Tensor
    pair_cum: Tensor


def _members(labels: Tensor, domains: Tensor, samples: Tensor, k: int) -> _Members:
    groups = labels * 2 + domains
    num_samples = int(samples.max()) + 1 if samples.numel() else 1
    key = groups * num_samples + samples
    order = torch.argsort(key, stable=True)
    sizes = torch.bincount(groups, minlength=2 * k)
    offsets = torch.cumsum(sizes, 0) - sizes
    # Runs of one sample inside one group are contiguous in `order`.
    _, run_of, run_sizes = torch.unique_consecutive(
        key[order], return_inverse=True, return_counts=True
    )
    run_starts = torch.cumsum(run_sizes, 0) - run_sizes
    block_start, block_size = run_starts[run_of], run_sizes[run_of]
    partners = sizes[groups[order]] - block_size
    pair_cum = torch.cat([partners.new_zeros(1), torch.cumsum(partners, 0)])
    return _Members(order, offsets, sizes, block_start, block_size, pair_cum)


def _draw_uniform(u: Tensor, n: Tensor) -> Tensor:
    """floor(u * n) for u in [0, 1), kept inside [0, n - 1] (0 where n is 0)."""
    return (u * n).long().clamp_max((n - 1).clamp_min(0))


def _group_pairs(m: _Members, groups: Tensor) -> Tensor:
    """Ordered pairs of members of different samples in each of ``groups`` (any shape)."""
    start = m.offsets[groups]
    return m.pair_cum[start + m.sizes[groups]] - m.pair_cum[start]


def _same_domain_pairs(
    m: _Members, groups: Tensor, u_a: Tensor, u_b: Tensor
) -> tuple[Tensor, Tensor]:
    """Sorted positions (a, b) of same-domain pairs of different samples, uniform over such
    ordered pairs (meaningless for groups without any; the caller drops those).

    Args:
        groups: (K, D) group of every draw; u_a, u_b: (K, D) uniforms in [0, 1).
    """
    n = m.order.numel()
    start = m.offsets[groups]
    base, total = m.pair_cum[start], _group_pairs(m, groups)
    # The first member is drawn with probability proportional to its number of partners ...
    target = base + _draw_uniform(u_a, total)
    pos_a = torch.searchsorted(m.pair_cum[1:], target, right=True).clamp_max(n - 1)
    # ... and its partner uniformly among the group's members of other samples, by skipping
    # the run of the first member's sample.
    size_a = m.block_size[pos_a]
    q = _draw_uniform(u_b, m.sizes[groups] - size_a)
    run = m.block_start[pos_a] - start
    pos_b = start + q + (q >= run).long() * size_a
    return pos_a, pos_b.clamp_max(n - 1)


def sample_balanced_pairs(
    cluster_labels: Tensor,
    domains: Tensor,
    pairs_per_kind: int,
    generator: torch.Generator,
    num_clusters: int | None = None,
    pairing: str = "balanced",
    sample_ids: Tensor | None = None,
) -> PairBatch:
    """Draw ``pairs_per_kind`` pairs of each kind inside every contributing cluster.

    A kind is available in a cluster when it has at least one image and one video member
    (image-video), or members of that domain from at least two samples (image-image,
    video-video). With ``pairing="balanced"`` a cluster contributes only when all three kinds
    are available, and then all three; with "available" every available kind contributes. Every
    draw is uniform over the valid ordered pairs of its kind and cluster: the two members come
    from different samples. Draws are independent, so a pair may repeat.

    Args:
        cluster_labels: (N,) int64 cluster of every map, values in [0, K).
        domains: (N,) int64 domain of every map, 0 = image, 1 = video.
        pairs_per_kind: pairs drawn per available kind and cluster.
        generator: CPU generator all draws come from (same seed -> same pairs).
        num_clusters: K; defaults to ``cluster_labels.max() + 1``. Pass it so clusters that
            ended up empty still get a row in ``counts``.
        pairing: "balanced" or "available" (see the module docstring).
        sample_ids: (N,) int64 sample of every map (>= 0; all maps of a sample share its
            domain); None makes every map its own sample.

    Returns:
        PairBatch with ``P = counts.sum()`` pairs.
    """
    _check_inputs(cluster_labels, domains, sample_ids, pairs_per_kind, pairing)
    device = cluster_labels.device
    # N is small (hundreds), so sampling on the CPU costs little and keeps the CPU generator.
    labels, doms = cluster_labels.cpu(), domains.cpu()
    n = labels.numel()
    samples = torch.arange(n) if sample_ids is None else sample_ids.cpu()
    if num_clusters is None:
        k = int(labels.max()) + 1 if n else 0
    else:
        k = int(num_clusters)
    if n and int(labels.max()) >= k:
        raise ValueError(
            f"sample_balanced_pairs: cluster label {int(labels.max())} is out of range for "
            f"num_clusters={k}"
        )
    if n == 0:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        counts = torch.zeros(k, 3, dtype=torch.long, device=device)
        return PairBatch(empty, empty, empty.float(), counts, empty)
    members = _members(labels, doms, samples, k)

    shape = (k, 3, pairs_per_kind)
    u_a = torch.rand(shape, generator=generator, dtype=torch.float64)
    u_b = torch.rand(shape, generator=generator, dtype=torch.float64)
    images, videos = 2 * torch.arange(k)[:, None], 2 * torch.arange(k)[:, None] + 1
    # Image-video: any image member with any video member (they are of different samples).
    size_i, size_v = members.sizes[images], members.sizes[videos]
    cross_a = members.offsets[images] + _draw_uniform(u_a[:, 0], size_i)
    cross_b = members.offsets[videos] + _draw_uniform(u_b[:, 0], size_v)
    image_a, image_b = _same_domain_pairs(members, images, u_a[:, 1], u_b[:, 1])
    video_a, video_b = _same_domain_pairs(members, videos, u_a[:, 2], u_b[:, 2])
    pos_a = torch.stack([cross_a, image_a, video_a], dim=1)
    pos_b = torch.stack([cross_b, image_b, video_b], dim=1)

    cross = (size_i >= 1) & (size_v >= 1)
    two_samples = (_group_pairs(members, images) > 0, _group_pairs(members, videos) > 0)
    available = torch.cat([cross, *two_samples], dim=1)  # (K, 3)
    if pairing == "balanced":
        available = available & available.all(dim=1, keepdim=True)
    keep = available[..., None].expand(shape)
    idx_a, idx_b = members.order[pos_a[keep]], members.order[pos_b[keep]]
    kind = torch.arange(3)[None, :, None].expand(shape)[keep]
    same = (kind > 0).float()
    counts = available.long() * pairs_per_kind
    return PairBatch(*(t.to(device) for t in (idx_a, idx_b, same, counts, kind)))

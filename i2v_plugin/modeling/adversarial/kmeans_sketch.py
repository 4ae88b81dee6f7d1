"""Seeding K-means on wide data from a sketch of sampled coordinates, restarts batched as one op.

On the clustered loss's maps (N = 768 maps of D = 56 x 56 values at paper size) every pass over
the data costs about a millisecond, and k-means++ plus Lloyd need dozens of passes; one run from
one seeding also lands in a local optimum that varies a lot with the seed. Here each point is
reduced to ``dim`` of its coordinates (the same ones for every point, drawn once): the squared
distance over a uniform sample of coordinates is an unbiased estimate of the full one, up to a
constant factor, and on spatially smooth maps a close one. Unlike a Gaussian projection (a
N x D x dim matmul, more than a full-space Lloyd pass) the sample costs nothing. ``restarts``
k-means++ seedings and their Lloyd iterations run together on the small (N x dim) sketch as
batched tensor operations, and the labels of the restart with the lowest sketch inertia are
returned. The caller finishes in the full space.
"""

import math

import torch
from torch import Tensor

# One coordinate sample per (D, dim, device): the same coordinates every step.
_COORDINATES: dict[tuple, Tensor] = {}
_COORDINATE_SEED = 20231


def _coordinates(d: int, dim: int, device: torch.device) -> Tensor:
    key = (d, dim, device)
    if key not in _COORDINATES:
        generator = torch.Generator().manual_seed(_COORDINATE_SEED)
        chosen = torch.randperm(d, generator=generator)[:dim].sort().values
        _COORDINATES[key] = chosen.to(device)
    return _COORDINATES[key]


def sketch(points: Tensor, dim: int) -> Tensor:
    """(N, D) -> (N, dim): ``dim`` fixed coordinates of every point, centred (centring keeps
    the float32 distance expansion exact enough on offset data)."""
    sampled = points[:, _coordinates(points.shape[1], dim, points.device)]
    return sampled - sampled.mean(dim=0, keepdim=True)


def _sq_dist(y: Tensor, y_sq: Tensor, centers: Tensor) -> Tensor:
    """Squared distances (R, N, M) from the points y (N, p) to centres (R, M, p)."""
    cross = torch.einsum("np,rmp->rnm", y, centers)
    return (y_sq[None, :, None] + centers.square().sum(-1)[:, None, :] - 2 * cross).clamp_min(0)


def _seed_centers(y: Tensor, y_sq: Tensor, k: int, restarts: int, generator) -> Tensor:
    """Greedy k-means++ seedings (R, k, p), one per restart, drawn together."""
    n = y.shape[0]
    rows = torch.arange(restarts, device=y.device)
    first = torch.randint(n, (restarts,), generator=generator).to(y.device)
    centers = y.new_empty(restarts, k, y.shape[1])
    centers[:, 0] = y[first]
    closest = _sq_dist(y, y_sq, centers[:, :1])[..., 0]  # (R, N)
    trials = 2 + int(math.log(k))
    for c in range(1, k):
        cumulative = closest.double().cumsum(1)
        draws = torch.rand(restarts, trials, generator=generator, dtype=torch.float64)
        picks = torch.searchsorted(cumulative, draws.to(y.device) * cumulative[:, -1:])
        candidates = y[picks.clamp_max(n - 1)]  # (R, trials, p)
        with_candidate = torch.minimum(_sq_dist(y, y_sq, candidates), closest[..., None])
        best = with_candidate.sum(1).argmin(1)  # (R,)
        closest = with_candidate[rows, :, best]
        centers[:, c] = candidates[rows, best]
    return centers


def sketched_restart_labels(
    points: Tensor, k: int, generator: torch.Generator, dim: int, restarts: int, max_iter: int
) -> Tensor:
    """Cluster labels (N,) of the best of ``restarts`` K-means runs on ``dim`` coordinates.

    Args:
        points: (N, D) float points.
        k: clusters, 1 <= k <= N.
        generator: CPU generator all draws come from.
        dim: coordinates kept in the sketch.
        restarts: seedings run together.
        max_iter: Lloyd iterations at most (all restarts stop once none changes).
    """
    y = sketch(points, dim)
    y_sq = y.square().sum(1)
    centers = _seed_centers(y, y_sq, k, restarts, generator)
    labels = None
    for _ in range(max_iter):
        dist, new_labels = _sq_dist(y, y_sq, centers).min(2)  # (R, N)
        if labels is not None and torch.equal(new_labels, labels):
            break
        labels = new_labels
        # One-hot matmul: no atomics, so CUDA runs stay deterministic.
        one_hot = torch.zeros(restarts, k, y.shape[0], dtype=y.dtype, device=y.device)
        one_hot.scatter_(1, labels[:, None, :], 1.0)
        counts = one_hot.sum(2, keepdim=True)
        # An emptied cluster keeps its centre (the full-space pass relocates for real).
        centers = torch.where(counts > 0, (one_hot @ y) / counts.clamp_min(1.0), centers)
    dist, labels = _sq_dist(y, y_sq, centers).min(2)
    return labels[dist.sum(1).argmin()]

"""K-means for the clustered adversarial loss: a fast torch backend and a scikit-learn reference.

The torch backend follows scikit-learn's algorithm (greedy k-means++ seeding, then Lloyd
iterations with its stopping rules and empty-cluster relocation) but runs on the input's device
with matmul-based distances, which is what makes it fast on the wide (N x H*W) map matrices.
"""

import math
from typing import NamedTuple

import torch
from torch import Tensor


class KMeansResult(NamedTuple):
    """Output of a K-means run.

    Attributes:
        labels: (N,) int64 cluster index of every point, on the input's device.
        centers: (K, D) cluster centres, on the input's device (float32 for half inputs, else
            the input dtype).
        inertia: 0-dim float tensor, sum of squared distances of points to their centre.
        num_iter: number of Lloyd iterations run.
    """

    labels: Tensor
    centers: Tensor
    inertia: Tensor
    num_iter: int


def _check_inputs(x: Tensor, num_clusters: int, who: str) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{who}: x must be a 2-D tensor (N, D), got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"{who}: x must be a floating-point tensor, got dtype {x.dtype}")
    if num_clusters < 1:
        raise ValueError(f"{who}: num_clusters must be >= 1, got {num_clusters}")
    if x.shape[0] < num_clusters:
        raise ValueError(
            f"{who}: cannot form num_clusters={num_clusters} clusters from N={x.shape[0]} "
            f"points; need N >= num_clusters"
        )


def _working_copy(x: Tensor) -> tuple[Tensor, Tensor]:
    """Detached, mean-centred copy of ``x`` (float32 for half inputs) and the removed mean.

    Centring, as scikit-learn does, shrinks ``||x||^2`` and so the cancellation error of the
    expanded distance ``||x||^2 - 2 x.c + ||c||^2`` without changing any distance.
    """
    dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    x = x.detach().to(dtype)
    mean = x.mean(dim=0)
    return x - mean, mean


def _kmeans_plusplus(
    x: Tensor, x_sq: Tensor, num_clusters: int, generator: torch.Generator
) -> Tensor:
    """Greedy k-means++: each new centre is the best of a few D^2-sampled candidates.

    Args:
        x: (N, D) points; x_sq: (N,) their squared norms; generator: seeded CPU generator.

    Returns:
        (K, D) initial centres.
    """
    n = x.shape[0]
    num_trials = 2 + int(math.log(num_clusters))
    centers = x.new_empty(num_clusters, x.shape[1])
    first = torch.randint(n, (1,), generator=generator).to(x.device)
    centers[0] = x[first[0]]
    closest_sq = (x_sq - 2.0 * (x @ centers[0]) + x_sq[first[0]]).clamp_min_(0)
    for c in range(1, num_clusters):
        # float64 cumsum keeps the sampling exact enough when N is large.
        cumulative = closest_sq.double().cumsum(0)
        targets = torch.rand(num_trials, generator=generator, dtype=torch.float64).to(x.device)
        candidates = torch.searchsorted(cumulative, targets * cumulative[-1]).clamp_max_(n - 1)
        cand_sq = torch.addmm(x_sq[candidates], x, x[candidates].T, alpha=-2.0)
        cand_sq = cand_sq.add_(x_sq[:, None]).clamp_min_(0)
        cand_sq = torch.minimum(cand_sq, closest_sq[:, None])
        best = cand_sq.sum(0).argmin()
        closest_sq = cand_sq[:, best]
        centers[c] = x[candidates[best]]
    return centers


def _assign(x: Tensor, centers: Tensor) -> tuple[Tensor, Tensor]:
    """Nearest centre of each point, and ``||x - c||^2 - ||x||^2`` for it (both (N,))."""
    # ||x||^2 is the same for every centre, so the argmin does not need it.
    scores = torch.addmm((centers * centers).sum(1), x, centers.T, alpha=-2.0)
    partial_sq, labels = scores.min(dim=1)
    return labels, partial_sq


def _update_centers(
    x: Tensor, x_sq: Tensor, labels: Tensor, partial_sq: Tensor, centers: Tensor
) -> Tensor:
    """Cluster means for ``labels``; empty clusters take the points farthest from their centre.

    ``labels`` is updated in place for relocated points so it stays the partition the returned
    centres are the means of.
    """
    k = centers.shape[0]
    if x.is_cuda:
        # One-hot matmul instead of index_add_: no atomics, so CUDA runs stay deterministic.
        one_hot = torch.zeros(k, x.shape[0], dtype=x.dtype, device=x.device)
        one_hot.scatter_(0, labels[None], 1.0)
        sums = one_hot @ x
        counts = one_hot.sum(1)
    else:
        # On CPU index_add_ is deterministic and reads x once without a K x N temporary.
        sums = torch.zeros_like(centers).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=k).to(x.dtype)
    empty = (counts == 0).nonzero().squeeze(1)
    if empty.numel() > 0:
        dist_sq = (partial_sq + x_sq).clamp_min(0)
        far = dist_sq.topk(empty.numel()).indices
        old = labels[far]
        sums.index_add_(0, old, -x[far])
        counts.index_add_(0, old, -torch.ones_like(old, dtype=counts.dtype))
        sums[empty] = x[far]
        counts[empty] = 1.0
        labels[far] = empty
    safe_counts = counts.clamp_min(1.0)[:, None]
    return torch.where(counts[:, None] > 0, sums / safe_counts, centers), empty.numel() > 0


@torch.no_grad()
def kmeans(
    x: Tensor, num_clusters: int, seed: int, max_iter: int = 50, tol: float = 1e-4
) -> KMeansResult:
    """K-means (greedy k-means++ then Lloyd) in torch on ``x``'s device.

    Deterministic for a given ``seed`` on a given device: all random draws come from a CPU
    ``torch.Generator`` seeded with ``seed``.

    Args:
        x: (N, D) float tensor; detached internally, never receives gradients.
        num_clusters: K, with 1 <= K <= N.
        seed: seed of the initialisation.
        max_iter: maximum number of Lloyd iterations (>= 1).
        tol: stop when the summed squared centre shift is <= ``tol`` times the mean per-feature
            variance of ``x`` (scikit-learn's relative tolerance); iterations also stop as soon
            as no assignment changes.

    Returns:
        KMeansResult; ``labels`` are the nearest centre of every point for the returned
        ``centers``.
    """
    _check_inputs(x, num_clusters, "kmeans")
    if max_iter < 1:
        raise ValueError(f"kmeans: max_iter must be >= 1, got {max_iter}")
    points, mean = _working_copy(x)
    # vector_norm reduces without an N x D temporary; on a machine this size the loop is
    # memory-bound, so every full pass over the points counts.
    x_sq = torch.linalg.vector_norm(points, dim=1).square()
    # Points are centred, so the mean per-feature variance is the mean squared entry.
    tol_abs = tol * x_sq.sum() / points.numel()
    generator = torch.Generator().manual_seed(int(seed))
    centers = _kmeans_plusplus(points, x_sq, num_clusters, generator)

    previous = None
    converged = False
    num_iter = 0
    for iteration in range(max_iter):
        num_iter = iteration + 1
        labels, partial_sq = _assign(points, centers)
        new_centers, relocated = _update_centers(points, x_sq, labels, partial_sq, centers)
        shift = (new_centers - centers).pow(2).sum()
        centers = new_centers
        if not relocated and previous is not None and torch.equal(labels, previous):
            # Same partition twice: the centres just recomputed are unchanged and the labels
            # are already their nearest-centre assignment.
            converged = True
            break
        if shift <= tol_abs:
            break
        previous = labels
    if not converged:
        labels, partial_sq = _assign(points, centers)
    inertia = (partial_sq + x_sq).clamp_min(0).sum()
    return KMeansResult(labels, centers + mean, inertia, num_iter)


def kmeans_sklearn(x: Tensor, num_clusters: int, seed: int, max_iter: int = 300) -> KMeansResult:
    """Reference backend: ``sklearn.cluster.KMeans(n_init=1, random_state=seed)`` on CPU.

    Args and returns as :func:`kmeans` (results are moved back to ``x``'s device).
    """
    _check_inputs(x, num_clusters, "kmeans_sklearn")
    # Imported here: scikit-learn is slow to import and only this reference backend needs it.
    from sklearn.cluster import KMeans

    dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    points = x.detach().to("cpu", dtype).numpy()
    model = KMeans(n_clusters=num_clusters, n_init=1, random_state=seed, max_iter=max_iter)
    model.fit(points)
    return KMeansResult(
        labels=torch.as_tensor(model.labels_, dtype=torch.long, device=x.device),
        centers=torch.as_tensor(model.cluster_centers_, dtype=dtype, device=x.device),
        inertia=torch.tensor(float(model.inertia_), dtype=dtype, device=x.device),
        num_iter=int(model.n_iter_),
    )


_BACKENDS = {"torch": kmeans, "sklearn": kmeans_sklearn}


def run_kmeans(
    x: Tensor, num_clusters: int, seed: int, backend: str = "torch", **kwargs
) -> KMeansResult:
    """Run K-means with the named backend ("torch" or "sklearn"); kwargs go to the backend."""
    if backend not in _BACKENDS:
        raise ValueError(
            f"run_kmeans: unknown backend {backend!r}; expected one of {sorted(_BACKENDS)}"
        )
    return _BACKENDS[backend](x, num_clusters, seed, **kwargs)

"""K-means for the clustered adversarial loss: a fast torch backend and a scikit-learn reference.

The torch backend runs scikit-learn's Lloyd iterations (its stopping rules and empty-cluster
relocation) on the input's device with matmul-based distances. On the wide (N x H*W) map matrices
every step is a pass over the data, so the code makes as few passes as it can. The seeding of
wide data comes from several k-means++ restarts run batched on a small sketch of sampled
coordinates (``kmeans_sketch.py``): cheaper than one full-space k-means++ and a better start,
so that Lloyd in the full space converges in a few passes to a lower inertia than one
scikit-learn run. Narrow data keeps scikit-learn's greedy k-means++ in the full space.
"""

import math
from typing import NamedTuple

import torch
from torch import Tensor

from ...utils.precision import float32_region
from .kmeans_sketch import sketched_restart_labels

# Lloyd iterations per K-means run unless told otherwise (the config's default, too).
DEFAULT_MAX_ITER = 30
# Seeding of wide data: restarts batched on a sketch of this many sampled coordinates.
DEFAULT_SKETCH_DIM = 128
DEFAULT_RESTARTS = 4
# Lloyd iterations on the sketch (it only seeds), and in the full space after it: the best
# sketched restart starts near a local optimum, so two full passes polish it (on real-like maps
# of the train benchmark, mean inertia 0.99x scikit-learn's n_init=1 over 6 seeds).
SKETCH_ITERATIONS = 10
DEFAULT_REFINE_ITER = 2


class KMeansResult(NamedTuple):
    """Output of a K-means run.

    Attributes:
        labels: (N,) int64 cluster index of every point, on the input's device.
        centers: (K, D) cluster centres, on the input's device (float32 for half inputs, else
            the input dtype).
        inertia: 0-dim float tensor, sum of squared distances of points to their centre.
        num_iter: number of Lloyd iterations (centre update, then reassignment) run.
    """

    labels: Tensor
    centers: Tensor
    inertia: Tensor
    num_iter: int


def _check_inputs(x: Tensor, num_clusters: int, who: str) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{who}: x must be a 2-D tensor (N, D), got {shape}")
    if x.shape[1] == 0:
        raise ValueError(f"{who}: x must have at least one feature, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{who}: x must be a floating-point tensor, got dtype {x.dtype}")
    if num_clusters < 1:
        raise ValueError(f"{who}: num_clusters must be >= 1, got {num_clusters}")
    if x.shape[0] < num_clusters:
        raise ValueError(
            f"{who}: cannot form num_clusters={num_clusters} clusters from N={x.shape[0]} "
            f"points; need N >= num_clusters"
        )


def _working_dtype(x: Tensor) -> torch.dtype:
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


# Distances are computed relative to an origin, a data point (the first k-means++ centre):
# with x' = x - origin and c' = c - origin, ||x - c||^2 = ||x'||^2 + ||c'||^2 - 2 x'.c'.
# Shifting the origin into the data keeps the terms small, so the float32 expansion does not
# cancel catastrophically on offset data (scikit-learn subtracts the mean for the same reason),
# and ||x'||^2 is computed exactly once. Only small (K, D) tensors are ever shifted; the
# (N, D) points are never copied.


def _squared_distances(points: Tensor, origin: Tensor, rows: int = 128) -> Tensor:
    """Exact ``||x - origin||^2`` (N,), through one reused chunk buffer.

    A full (N, D) ``points - origin`` would be a fresh multi-megabyte allocation per call, and
    its page faults cost more than the arithmetic.
    """
    n = points.shape[0]
    dist = points.new_empty(n)
    buffer = points.new_empty(min(rows, n), points.shape[1])
    for start in range(0, n, rows):
        chunk = points[start : start + rows]
        diff = torch.sub(chunk, origin, out=buffer[: chunk.shape[0]])
        torch.linalg.vector_norm(diff, dim=1, out=dist[start : start + chunk.shape[0]])
    return dist.square_()


def _partial_sq(points: Tensor, origin: Tensor, centers: Tensor) -> Tensor:
    """``||x - c||^2 - ||x - origin||^2`` for every point and centre, shape (N, M).

    Args:
        points: (N, D) raw points; origin: (D,); centers: (M, D) given relative to ``origin``.
    """
    # x'.c' = x.c' - origin.c', so the matmul can use the raw points.
    bias = (centers * centers).sum(1) + 2.0 * (centers @ origin)
    return torch.addmm(bias, points, centers.T, alpha=-2.0)


def _kmeans_plusplus(
    points: Tensor, origin: Tensor, x_sq: Tensor, num_clusters: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor]:
    """Greedy k-means++: each new centre is the best of a few D^2-sampled candidates.

    The first centre is ``origin`` (already drawn by the caller).

    Args:
        points: (N, D); origin: (D,); x_sq: (N,) squared distances to ``origin``;
        generator: the seeded CPU generator.

    Returns:
        (K, D) initial centres relative to ``origin``, and for every point the index (N,) of
        and squared distance (N,) to its nearest initial centre. Tracking these costs nothing
        here and spares Lloyd its first assignment pass.
    """
    n = points.shape[0]
    num_trials = 2 + int(math.log(num_clusters))
    centers = points.new_zeros(num_clusters, points.shape[1])
    closest_sq = x_sq
    labels = torch.zeros(n, dtype=torch.long, device=points.device)
    for c in range(1, num_clusters):
        # float64 cumsum keeps the sampling exact enough when N is large.
        cumulative = closest_sq.double().cumsum(0)
        targets = torch.rand(num_trials, generator=generator, dtype=torch.float64)
        candidates = torch.searchsorted(cumulative, targets.to(points.device) * cumulative[-1])
        candidates = points[candidates.clamp_max_(n - 1)] - origin
        cand_sq = (_partial_sq(points, origin, candidates) + x_sq[:, None]).clamp_min_(0)
        best = torch.minimum(cand_sq, closest_sq[:, None]).sum(0).argmin()
        best_sq = cand_sq[:, best]
        # Strictly closer, so ties keep the earlier centre, as argmin does.
        closer = best_sq < closest_sq
        labels = labels.masked_fill(closer, c)
        closest_sq = torch.where(closer, best_sq, closest_sq)
        centers[c] = candidates[best]
    return centers, labels, closest_sq


def _cluster_sums(points: Tensor, labels: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Per-cluster sums (K, D) and member counts (K,) (float, points' dtype)."""
    if points.is_cuda:
        # One-hot matmul instead of index_add_: no atomics, so CUDA runs stay deterministic.
        one_hot = torch.zeros(k, points.shape[0], dtype=points.dtype, device=points.device)
        one_hot.scatter_(0, labels[None], 1.0)
        return one_hot @ points, one_hot.sum(1)
    # On CPU index_add_ is deterministic and needs no K x N temporary.
    sums = points.new_zeros(k, points.shape[1]).index_add_(0, labels, points)
    return sums, torch.bincount(labels, minlength=k).to(points.dtype)


def _relocate_empty(
    points: Tensor, dist_sq: Tensor, labels: Tensor, sums: Tensor, counts: Tensor
) -> bool:
    """Move the points farthest from their centre into the empty clusters (as scikit-learn).

    Updates ``labels``, ``sums`` and ``counts`` in place so they still describe one partition.
    Returns whether any point moved.
    """
    empty = (counts == 0).nonzero().squeeze(1)
    if empty.numel() == 0:
        return False
    far = dist_sq.topk(empty.numel()).indices
    old = labels[far]
    sums.index_add_(0, old, -points[far])
    counts.index_add_(0, old, -torch.ones_like(old, dtype=counts.dtype))
    sums[empty] = points[far]
    counts[empty] = 1.0
    labels[far] = empty
    return True


def _lloyd(points, origin, x_sq, centers, labels, dist_sq, max_iter: int, tol: float):
    """Lloyd iterations with scikit-learn's stopping rules and empty-cluster relocation.

    Each iteration moves the centres (relative to ``origin``) to their clusters' means, then
    reassigns; it ends with labels that are the nearest-centre assignment of the returned
    centres. Returns (centers, labels, dist_sq, iterations run).
    """
    n, d = points.shape
    k = centers.shape[0]
    tol_abs = None
    num_iter = 0
    for iteration in range(max_iter):
        num_iter = iteration + 1
        sums, counts = _cluster_sums(points, labels, k)
        if tol_abs is None:
            # Total variance from the cluster sums, which add up to the column sums of x.
            mean_shifted = sums.sum(0) / n - origin
            variance = (x_sq.mean() - mean_shifted.square().sum()).clamp_min(0) / d
            tol_abs = tol * variance
        relocated = _relocate_empty(points, dist_sq, labels, sums, counts)
        means = sums / counts.clamp_min(1.0)[:, None] - origin
        new_centers = torch.where(counts[:, None] > 0, means, centers)
        shift = (new_centers - centers).square().sum()
        centers = new_centers
        partial_sq, new_labels = _partial_sq(points, origin, centers).min(dim=1)
        dist_sq = x_sq + partial_sq
        unchanged = not relocated and torch.equal(new_labels, labels)
        labels = new_labels
        if unchanged or shift <= tol_abs:
            break
    return centers, labels, dist_sq, num_iter


def _assign_from_labels(points, origin, x_sq, labels, k):
    """Centres (relative to ``origin``) of the clusters ``labels`` describe, and the
    nearest-centre assignment and squared distances of every point to them."""
    sums, counts = _cluster_sums(points, labels, k)
    centers = sums / counts.clamp_min(1.0)[:, None] - origin
    partial_sq, labels = _partial_sq(points, origin, centers).min(dim=1)
    return centers, labels, x_sq + partial_sq


@torch.no_grad()
def kmeans(
    x: Tensor,
    num_clusters: int,
    seed: int,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = 1e-4,
    sketch_dim: int = DEFAULT_SKETCH_DIM,
    restarts: int = DEFAULT_RESTARTS,
    refine_iter: int = DEFAULT_REFINE_ITER,
) -> KMeansResult:
    """K-means in torch on ``x``'s device.

    Wide data (D > 2 * ``sketch_dim``, e.g. 56 x 56 maps): ``restarts`` k-means++ seedings and
    their Lloyd iterations run batched on a sketch of ``sketch_dim`` sampled coordinates
    (``kmeans_sketch.py``), and the best restart's clusters seed ``refine_iter`` Lloyd iterations
    in the full space. Narrow data, or ``sketch_dim=0``: one greedy k-means++ seeding and up to
    ``max_iter`` Lloyd iterations in the full space (scikit-learn's algorithm).

    Deterministic for a given ``seed`` on a given device: all random draws come from a CPU
    ``torch.Generator`` seeded with ``seed``.

    Args:
        x: (N, D) float tensor; detached internally, never receives gradients. Half-precision
            inputs are clustered in float32, and autocast is off inside (under
            ``torch.autocast`` the assignments are those of the same maps in float32).
        num_clusters: K, with 1 <= K <= N.
        seed: seed of the initialisation.
        max_iter: maximum number of full-space Lloyd iterations without a sketch (>= 1).
        tol: stop when the summed squared centre shift is <= ``tol`` times the mean per-feature
            variance of ``x`` (scikit-learn's relative tolerance); iterations also stop as soon
            as no assignment changes.
        sketch_dim: dimension of the sketch used to seed (0: no sketch).
        restarts: seedings tried on the sketch.
        refine_iter: full-space Lloyd iterations after the sketch (at most ``max_iter``).

    Returns:
        KMeansResult; ``labels`` are the nearest centre of every point for the returned
        ``centers``.
    """
    _check_inputs(x, num_clusters, "kmeans")
    if max_iter < 1:
        raise ValueError(f"kmeans: max_iter must be >= 1, got {max_iter}")
    points = x.detach().to(_working_dtype(x))
    n, d = points.shape
    generator = torch.Generator().manual_seed(int(seed))
    # Autocast off: under it the distance matmuls would run in float16 / bfloat16 and change
    # the assignments.
    with float32_region(points.device):
        origin = points[int(torch.randint(n, (1,), generator=generator))].clone()
        x_sq = _squared_distances(points, origin)
        if sketch_dim and d > 2 * sketch_dim:
            labels = sketched_restart_labels(
                points, num_clusters, generator, sketch_dim, max(1, restarts), SKETCH_ITERATIONS
            )
            centers, labels, dist_sq = _assign_from_labels(
                points, origin, x_sq, labels, num_clusters
            )
            iterations = max(1, min(max_iter, refine_iter))
        else:
            centers, labels, dist_sq = _kmeans_plusplus(
                points, origin, x_sq, num_clusters, generator
            )
            iterations = max_iter
        centers, labels, dist_sq, num_iter = _lloyd(
            points, origin, x_sq, centers, labels, dist_sq, iterations, tol
        )
        inertia = dist_sq.clamp_min(0).sum()
    return KMeansResult(labels, centers + origin, inertia, num_iter)


def kmeans_sklearn(x: Tensor, num_clusters: int, seed: int, max_iter: int = 300) -> KMeansResult:
    """Reference backend: ``sklearn.cluster.KMeans(n_init=1, random_state=seed)`` on CPU.

    Args and returns as :func:`kmeans` (results are moved back to ``x``'s device).
    """
    _check_inputs(x, num_clusters, "kmeans_sklearn")
    # Imported here: scikit-learn is slow to import and only this reference backend needs it.
    from sklearn.cluster import KMeans

    dtype = _working_dtype(x)
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

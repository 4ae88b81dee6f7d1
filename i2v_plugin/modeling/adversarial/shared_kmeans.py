"""``shared_kmeans``: K-means of the global batch, run once and shared by every process.

In a distributed run the main process (rank 0) clusters and broadcasts the result (labels,
centres, inertia, iterations), so every process pairs maps from the same clusters without
trusting K-means to give bitwise equal answers on every process. In one process it is
``run_kmeans``.
"""

import torch
import torch.distributed as dist
from torch import Tensor

from .clustering import KMeansResult, run_kmeans
from .gather import world_size

# dtypes a broadcast result may have, by code.
_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def shared_kmeans(
    x: Tensor, num_clusters: int, seed: int, backend: str = "torch", **kwargs
) -> KMeansResult:
    """``run_kmeans(x, num_clusters, seed, backend, **kwargs)`` on rank 0, broadcast to all.

    Args:
        x: (N, D) points, the same on every process (e.g. gathered with ``all_gather_rows``).
        num_clusters, seed, backend, kwargs: as ``run_kmeans``.
    Returns:
        ``KMeansResult`` on ``x``'s device, equal on every process to rank 0's.
    """
    if world_size() == 1:
        return run_kmeans(x, num_clusters, seed, backend=backend, **kwargs)
    device = x.device
    result = None
    if dist.get_rank() == 0:
        result = run_kmeans(x, num_clusters, seed, backend=backend, **kwargs)
        code = _DTYPES.index(result.centers.dtype)
        header = torch.tensor([result.num_iter, code], dtype=torch.long, device=device)
    else:
        header = torch.empty(2, dtype=torch.long, device=device)
    dist.broadcast(header, 0)
    num_iter, dtype = int(header[0]), _DTYPES[int(header[1])]
    if result is None:
        labels = torch.empty(x.shape[0], dtype=torch.long, device=device)
        centers = torch.empty(num_clusters, x.shape[1], dtype=dtype, device=device)
        inertia = torch.empty(1, dtype=torch.float64, device=device)
    else:
        labels, centers = result.labels.contiguous(), result.centers.contiguous()
        inertia = result.inertia.reshape(1).to(torch.float64)
    for tensor in (labels, centers, inertia):
        dist.broadcast(tensor, 0)
    if result is not None:
        return result
    return KMeansResult(labels, centers, inertia[0].to(dtype), num_iter)

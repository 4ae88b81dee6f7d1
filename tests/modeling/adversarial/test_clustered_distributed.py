"""The clustered loss over two gloo processes equals the loss of one process holding the whole
batch: same clusters, same pairs, same loss, and after DDP's averaging the same encoder, input and
pair-discriminator gradients.

Each process holds part of a fixed batch (a tiny conv "encoder" stands in for the patch
embedding); the reference runs the same module on the whole batch, in the gathered order (rank 0's
samples first). Scenarios: the paper's split (2 + 2 samples per process for 4 + 4), and unequal
shares of clips (T = 2; 1 + 1 clips on rank 0, 2 + 2 on rank 1).

Tolerance: float32, rtol 1e-5 and atol 1e-6 for gradients (the ranks and the reference sum the
per-sample contributions in different orders); cluster labels and pairs must be equal exactly.
"""

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from i2v_plugin.modeling.adversarial.discriminators import PairDiscriminator
from i2v_plugin.modeling.adversarial.gather import all_gather_rows
from i2v_plugin.modeling.adversarial.losses import ClusteredAdversarialLoss

pytestmark = pytest.mark.slow  # starts two processes

WORLD = 2
CHANNELS, SIDE = 6, 16  # the encoder gives (6, 4, 4) maps: 16 values each
SEED, COEFF = 7, 0.5
RTOL, ATOL = 1e-5, 1e-6

# name -> (clip length T, domain of every clip on each rank, labeled first as the model gives them)
SCENARIOS = {
    "paper_split": (1, ([0, 0, 1, 1], [0, 0, 1, 1])),
    "unequal_clips": (2, ([0, 1], [0, 0, 1, 1])),
}


class TinyModel(nn.Module):
    """A patch-embedding-like conv and the clustered loss with its pair discriminator."""

    def __init__(self, frames_per_sample: int, num_clusters: int):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Conv2d(3, CHANNELS, kernel_size=4, stride=4)
        self.loss = ClusteredAdversarialLoss(
            PairDiscriminator(16, hidden_dims=(8,)),
            num_clusters=num_clusters,
            pairs_per_kind=4,
            frames_per_sample=frames_per_sample,
        )

    def forward(self, images, domains):
        loss, stats = self.loss(self.encoder(images), domains, COEFF, seed=SEED)
        return loss, stats["pairs_image_video"]


def scenario_data(name: str):
    """(T, per-rank frames (n, 3, SIDE, SIDE), per-rank frame domains (n,), K)."""
    length, clip_domains = SCENARIOS[name]
    generator = torch.Generator().manual_seed(1)
    frames, domains = [], []
    for ranks_clips in clip_domains:
        d = torch.tensor(ranks_clips).repeat_interleave(length)
        frames.append(torch.randn(d.numel(), 3, SIDE, SIDE, generator=generator))
        domains.append(d)
    # The paper's K rule on the global batch: every frame of every process, + 3.
    k = sum(d.numel() for d in domains) + 3
    return length, frames, domains, k


def run_step(model, frames, domains):
    """One forward/backward; returns what the comparison needs."""
    images = frames.clone().requires_grad_()
    loss, cross_pairs = model(images, domains)
    loss.backward()
    core = model.module if isinstance(model, DistributedDataParallel) else model
    with torch.no_grad():
        assignment = core.loss.assign(core.encoder(frames), domains, SEED)
    return {
        "loss": loss.detach(),
        "cross_pairs": cross_pairs,
        "labels": assignment.clusters.labels,
        "pairs": torch.stack([assignment.pairs.idx_a, assignment.pairs.idx_b]),
        "samples": assignment.samples,
        "input_grad": images.grad,
        "grads": {n: p.grad.clone() for n, p in core.named_parameters()},
    }


def worker(rank: int, port: int, results: dict) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD
    )
    try:
        out = {}
        for name in SCENARIOS:
            length, frames, domains, k = scenario_data(name)
            model = DistributedDataParallel(TinyModel(length, k))
            out[name] = run_step(model, frames[rank], domains[rank])
        # Every process must give the same trailing shape: a clear error otherwise.
        try:
            all_gather_rows(torch.zeros(1, 2 + rank))
        except ValueError as error:
            out["shape_error"] = str(error)
        results[rank] = out
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ranks():
    """The two processes' results, by rank."""
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(worker, args=(free_port(), results), nprocs=WORLD, join=True)
        return dict(results)


def reference(name: str):
    """One process holding the whole batch, in the gathered order."""
    length, frames, domains, k = scenario_data(name)
    return run_step(TinyModel(length, k), torch.cat(frames), torch.cat(domains))


@pytest.mark.parametrize("name", SCENARIOS)
def test_clusters_pairs_and_loss_equal_one_process(ranks, name):
    ref = reference(name)
    assert ref["cross_pairs"] > 0, "the scenario must give pairs to compare"
    for rank in range(WORLD):
        got = ranks[rank][name]
        assert torch.equal(got["labels"], ref["labels"])
        assert torch.equal(got["pairs"], ref["pairs"])
        assert torch.equal(got["samples"], ref["samples"])
        assert got["cross_pairs"] == ref["cross_pairs"]
        torch.testing.assert_close(got["loss"], ref["loss"], rtol=RTOL, atol=ATOL)
    # No pair joins two maps of one sample of the global batch, across ranks too.
    a, b = ref["pairs"]
    assert torch.all(ref["samples"][a] != ref["samples"][b])


@pytest.mark.parametrize("name", SCENARIOS)
def test_gradients_after_ddp_averaging_equal_one_process(ranks, name):
    ref = reference(name)
    rows = [f.shape[0] for f in scenario_data(name)[1]]
    start = 0
    for rank in range(WORLD):
        got = ranks[rank][name]
        # DDP has averaged the parameter gradients: encoder and pair discriminator alike.
        assert got["grads"].keys() == ref["grads"].keys()
        for param, grad in ref["grads"].items():
            assert grad.abs().sum() > 0, param
            torch.testing.assert_close(got["grads"][param], grad, rtol=RTOL, atol=ATOL)
        # The gather's backward sums the two processes' gradients of this rank's rows; DDP's
        # average divides parameter gradients by two, so the input gradient is twice the
        # reference's before that averaging.
        own = ref["input_grad"][start : start + rows[rank]]
        torch.testing.assert_close(got["input_grad"] / WORLD, own, rtol=RTOL, atol=ATOL)
        start += rows[rank]


def test_gather_refuses_different_trailing_shapes(ranks):
    for rank in range(WORLD):
        message = ranks[rank]["shape_error"]
        assert "same shape after the first dimension" in message
        assert "[(1, 2), (1, 3)]" in message

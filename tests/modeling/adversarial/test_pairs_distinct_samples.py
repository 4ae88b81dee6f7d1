"""No pair joins two maps of one sample (two channels of an image, or two frames of a clip); a
same-domain kind needs two samples of that domain in the cluster; balance still holds."""

from collections import Counter

import pytest
import torch

from i2v_plugin.modeling.adversarial.discriminators import PairDiscriminator
from i2v_plugin.modeling.adversarial.losses import ClusteredAdversarialLoss
from i2v_plugin.modeling.adversarial.pairs import sample_balanced_pairs


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_batch(gen: torch.Generator):
    """Maps of a random batch: S samples (clips of T frames) of C channels each, random sample
    domains and random cluster labels; returns (labels, domains, samples, K)."""
    s, c, t, k = (int(torch.randint(lo, hi, (1,), generator=gen)) for lo, hi in
                  ((2, 10), (1, 8), (1, 4), (1, 6)))  # fmt: skip
    samples = torch.arange(s).repeat_interleave(t * c)
    domains = torch.randint(2, (s,), generator=gen)[samples]
    labels = torch.randint(k, (samples.numel(),), generator=gen)
    return labels, domains, samples, k


def samples_of(labels, domains, samples, cluster, domain) -> int:
    return len(set(samples[(labels == cluster) & (domains == domain)].tolist()))


@pytest.mark.parametrize("pairing", ["balanced", "available"])
def test_no_pair_shares_a_sample_and_kinds_follow_the_sample_rule(pairing):
    gen = _gen(0)
    draws = 0
    for trial in range(300):
        labels, domains, samples, k = random_batch(gen)
        batch = sample_balanced_pairs(labels, domains, 5, _gen(trial), k, pairing, samples)
        a, b = batch.idx_a, batch.idx_b
        assert torch.all(samples[a] != samples[b])
        assert torch.equal(labels[a], labels[b])
        assert torch.equal(batch.same_domain, (domains[a] == domains[b]).float())
        kinds = torch.where(domains[a] != domains[b], 0, 1 + domains[a])
        assert torch.equal(batch.kind, kinds)
        for cluster in range(k):
            images = samples_of(labels, domains, samples, cluster, 0)
            videos = samples_of(labels, domains, samples, cluster, 1)
            available = torch.tensor([images >= 1 and videos >= 1, images >= 2, videos >= 2])
            if pairing == "balanced":
                available &= bool(available.all())
            assert torch.equal(batch.counts[cluster], available.long() * 5)
        draws += a.numel()
    assert draws > 1000  # the random batches did give pairs to check


def test_channels_of_one_image_never_pair_even_when_they_fill_the_cluster():
    # One cluster: 5 channels of image 0, 1 of image 1, 3 of video 2, 1 of video 3.
    samples = torch.tensor([0] * 5 + [1] + [2] * 3 + [3])
    domains = torch.tensor([0] * 6 + [1] * 4)
    labels = torch.zeros(10, dtype=torch.long)
    batch = sample_balanced_pairs(labels, domains, 500, _gen(1), 1, "balanced", samples)
    assert batch.counts.tolist() == [[500, 500, 500]]
    assert torch.all(samples[batch.idx_a] != samples[batch.idx_b])
    # The image-image pairs all join image 1's single channel with one of image 0's.
    image_pairs = batch.kind == 1
    ids = torch.stack([samples[batch.idx_a], samples[batch.idx_b]])[:, image_pairs]
    assert torch.all(ids.sort(dim=0).values == torch.tensor([[0], [1]]))


def test_one_sample_per_domain_gives_no_same_domain_kind():
    # Two channels of one image and two of one video: only cross pairs are possible.
    samples = torch.tensor([0, 0, 1, 1])
    domains = torch.tensor([0, 0, 1, 1])
    labels = torch.zeros(4, dtype=torch.long)
    available = sample_balanced_pairs(labels, domains, 3, _gen(0), 1, "available", samples)
    assert available.counts.tolist() == [[3, 0, 0]]
    balanced = sample_balanced_pairs(labels, domains, 3, _gen(0), 1, "balanced", samples)
    assert balanced.counts.tolist() == [[0, 0, 0]] and balanced.idx_a.numel() == 0


def test_draws_are_uniform_over_the_valid_ordered_pairs():
    # Images of sample 0 (3 maps), 1 (1 map), 2 (2 maps): 3*3 + 1*5 + 2*4 = 22 valid ordered
    # pairs, each about 1 / 22 of the draws.
    samples = torch.tensor([0, 0, 0, 1, 2, 2])
    domains = torch.zeros(6, dtype=torch.long)
    labels = torch.zeros(6, dtype=torch.long)
    batch = sample_balanced_pairs(labels, domains, 22000, _gen(2), 1, "available", samples)
    freq = Counter(zip(batch.idx_a.tolist(), batch.idx_b.tolist()))
    assert len(freq) == 22
    assert all(samples[a] != samples[b] for a, b in freq)
    assert all(880 < n < 1120 for n in freq.values()), freq


def test_a_sample_with_maps_of_both_domains_is_an_error():
    with pytest.raises(ValueError, match=r"samples \[0\] have maps of both domains"):
        sample_balanced_pairs(
            torch.zeros(3, dtype=torch.long), torch.tensor([0, 1, 1]), 1, _gen(0), 1,
            sample_ids=torch.tensor([0, 0, 1]),
        )  # fmt: skip
    with pytest.raises(ValueError, match="sample_ids must be int64 of shape"):
        sample_balanced_pairs(
            torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long), 1, _gen(0), 1,
            sample_ids=torch.tensor([0, 1]),
        )  # fmt: skip


@pytest.mark.parametrize("frames_per_sample", [1, 2, 3])
def test_the_loss_never_pairs_two_maps_of_one_clip(frames_per_sample):
    # Six clips (3 image, 3 video) of T frames and 4 channels; T = 1 is the single-frame case.
    loss = ClusteredAdversarialLoss(
        PairDiscriminator(10, hidden_dims=(8,)), 3, 16, frames_per_sample=frames_per_sample
    )
    domains = torch.tensor([0, 0, 0, 1, 1, 1]).repeat_interleave(frames_per_sample)
    gen = _gen(frames_per_sample)
    total = 0
    for seed in range(20):
        features = torch.randn(domains.numel(), 4, 2, 5, generator=gen)
        assignment = loss.assign(features, domains, seed)
        clip = torch.arange(domains.numel()).div(frames_per_sample, rounding_mode="floor")
        assert torch.equal(assignment.samples, clip.repeat_interleave(4))
        a, b = assignment.pairs.idx_a, assignment.pairs.idx_b
        assert torch.all(assignment.samples[a] != assignment.samples[b])
        # Balanced: every contributing cluster gives equal numbers of the three kinds.
        counts = assignment.pairs.counts
        assert torch.all((counts == 0).all(1) | (counts == 16).all(1))
        total += a.numel()
    assert total > 0


def test_frames_that_do_not_make_whole_clips_are_an_error():
    loss = ClusteredAdversarialLoss(PairDiscriminator(10), 2, frames_per_sample=2)
    with pytest.raises(ValueError, match="5 frames do not make whole clips of frames_per_sample=2"):
        loss.assign(torch.randn(5, 4, 2, 5), torch.zeros(5, dtype=torch.long), 0)

"""Balanced pair sampling inside clusters: balance, validity, labels and counts."""

from collections import Counter

import pytest
import torch

from i2v_plugin.modeling.adversarial.pairs import PAIR_KINDS, sample_balanced_pairs


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _check_valid(batch, labels, domains):
    """Properties every sample must have, whatever the inputs."""
    a, b = batch.idx_a, batch.idx_b
    assert a.shape == b.shape == batch.same_domain.shape
    assert torch.equal(labels[a], labels[b]), "pair members from different clusters"
    assert torch.all(a != b), "a member paired with itself"
    assert torch.equal(batch.same_domain, (domains[a] == domains[b]).float())
    # Kind of every pair from its members' domains, counted per cluster.
    kind = torch.where(domains[a] != domains[b], 0, torch.where(domains[a] == 0, 1, 2))
    recount = torch.zeros_like(batch.counts)
    recount.index_put_((labels[a], kind), torch.ones_like(kind), accumulate=True)
    assert torch.equal(recount, batch.counts)
    # Image-video pairs are ordered image first.
    cross = domains[a] != domains[b]
    assert torch.all(domains[a][cross] == 0)


# cluster 0: 3 images + 4 videos; 1: 5 images; 2: one of each; 3: one video; 4: empty.
HAND_LABELS = torch.tensor([0] * 7 + [1] * 5 + [2, 2, 3])
HAND_DOMAINS = torch.tensor([0, 0, 0, 1, 1, 1, 1] + [0] * 5 + [0, 1, 1])


def test_balanced_pairing_uses_only_clusters_with_every_kind():
    batch = sample_balanced_pairs(HAND_LABELS, HAND_DOMAINS, 4, _gen(), num_clusters=5)
    expected = torch.tensor([[4, 4, 4], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    assert torch.equal(batch.counts, expected)
    _check_valid(batch, HAND_LABELS, HAND_DOMAINS)
    # One cross-domain pair for every two same-domain pairs, from cluster 0 only.
    assert batch.same_domain.sum() == 8 and (1 - batch.same_domain).sum() == 4


def test_available_pairing_counts_for_hand_built_clusters():
    batch = sample_balanced_pairs(
        HAND_LABELS, HAND_DOMAINS, 4, _gen(), num_clusters=5, pairing="available"
    )
    expected = torch.tensor([[4, 4, 4], [0, 4, 0], [4, 0, 0], [0, 0, 0], [0, 0, 0]])
    assert torch.equal(batch.counts, expected)
    _check_valid(batch, HAND_LABELS, HAND_DOMAINS)
    # A single-domain cluster only yields same-domain pairs.
    assert torch.all(batch.same_domain[HAND_LABELS[batch.idx_a] == 1] == 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_random_inputs_are_valid_and_balanced(seed):
    gen = _gen(seed)
    n, k = 200, 7
    labels = torch.randint(k, (n,), generator=gen)
    domains = torch.randint(2, (n,), generator=gen)
    batch = sample_balanced_pairs(labels, domains, 3, _gen(seed + 100), num_clusters=k)
    _check_valid(batch, labels, domains)
    # Every cluster has plenty of both domains here, so every kind gets exactly 3 pairs.
    assert torch.equal(batch.counts, torch.full((k, 3), 3))
    assert batch.same_domain.sum() == 2 * batch.counts[:, 0].sum()


def test_same_seed_same_pairs():
    labels = torch.randint(4, (60,), generator=_gen(1))
    domains = torch.randint(2, (60,), generator=_gen(2))
    first = sample_balanced_pairs(labels, domains, 5, _gen(7))
    second = sample_balanced_pairs(labels, domains, 5, _gen(7))
    for x, y in zip(first, second):
        assert torch.equal(x, y)


def test_partners_are_uniform_over_distinct_members():
    # Four images in one cluster: all 12 ordered pairs of distinct members should be about
    # equally likely (the "skip over the first member" draw must not favour neighbours).
    labels = torch.zeros(4, dtype=torch.long)
    domains = torch.zeros(4, dtype=torch.long)
    batch = sample_balanced_pairs(labels, domains, 6000, _gen(3), pairing="available")
    freq = Counter(zip(batch.idx_a.tolist(), batch.idx_b.tolist()))
    assert len(freq) == 12
    assert all(400 < c < 600 for c in freq.values()), freq


def test_num_clusters_defaults_to_max_label_and_pair_kinds_order():
    labels = torch.tensor([0, 0, 2, 2])
    domains = torch.tensor([0, 1, 1, 1])
    batch = sample_balanced_pairs(labels, domains, 2, _gen(), pairing="available")
    assert batch.counts.shape == (3, 3)
    assert batch.counts.tolist() == [[2, 0, 0], [0, 0, 0], [0, 0, 2]]
    assert PAIR_KINDS == ("image_video", "image_image", "video_video")


def test_no_pairs_possible():
    batch = sample_balanced_pairs(torch.tensor([0, 1]), torch.tensor([0, 0]), 3, _gen(), 2)
    assert batch.idx_a.numel() == 0 and batch.counts.sum() == 0


def test_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        sample_balanced_pairs(
            torch.zeros(3, dtype=torch.long), torch.zeros(2, dtype=torch.long), 1, _gen()
        )
    with pytest.raises(ValueError, match=r"0 \(image\) or 1 \(video\)"):
        sample_balanced_pairs(torch.zeros(3, dtype=torch.long), torch.full((3,), 2), 1, _gen())
    with pytest.raises(ValueError, match="out of range"):
        sample_balanced_pairs(torch.tensor([0, 3]), torch.tensor([0, 1]), 1, _gen(), 2)
    with pytest.raises(ValueError, match="pairing must be one of"):
        sample_balanced_pairs(torch.tensor([0, 1]), torch.tensor([0, 1]), 1, _gen(), 2, "some")

"""Domain adversarial and clustered losses: targets, reversed gradients, errors, zero-pair case."""

import math

import pytest
import torch
import torch.nn.functional as F

from i2v_plugin.modeling.adversarial.clustering import run_kmeans
from i2v_plugin.modeling.adversarial.discriminators import (
    ConvDiscriminator,
    MLPDiscriminator,
    PairDiscriminator,
    PatchGANDiscriminator,
)
from i2v_plugin.modeling.adversarial.losses import ClusteredAdversarialLoss, DomainAdversarialLoss
from i2v_plugin.modeling.adversarial.pairs import sample_balanced_pairs

DOMAINS = torch.tensor([0, 1, 1])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _features(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).requires_grad_()


def _all_params_have_grad(module):
    return all(p.grad is not None for p in module.parameters())


def test_per_channel_matches_manual_bce():
    feats = _features(3, 4, 2, 5)
    disc = MLPDiscriminator(10, hidden_dims=(8,))
    loss, stats = DomainAdversarialLoss(disc, "per_channel")(feats, DOMAINS, 1.0)
    logits = disc(feats.detach().reshape(12, 10))
    labels = DOMAINS.repeat_interleave(4).float()  # every channel keeps its image's domain
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(logits, labels))
    correct = ((logits > 0).float() == labels).float()
    balanced = (correct[labels == 1].mean() + correct[labels == 0].mean()) / 2
    assert stats["acc"] == pytest.approx(float(balanced))
    assert stats["loss"] == pytest.approx(float(loss))
    # Two maps in three are video: the best constant answer scores the entropy of 2/3.
    assert stats["const_loss"] == pytest.approx(-(2 / 3) * math.log(2 / 3) + math.log(3) / 3)
    assert stats["logit_std"] == pytest.approx(float(logits.std(unbiased=False)), rel=1e-5)
    assert 0.0 <= stats["dead_units"] <= 1.0
    loss.backward()
    assert _all_params_have_grad(disc)


def test_flatten_matches_manual_bce():
    feats = _features(3, 4, 2, 5)
    disc = MLPDiscriminator(40, hidden_dims=(8,))
    loss, _ = DomainAdversarialLoss(disc, "flatten")(feats, DOMAINS, 1.0)
    logits = disc(feats.detach().reshape(3, 40))
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(logits, DOMAINS.float()))


@pytest.mark.parametrize(
    "disc, shape",
    [
        (PatchGANDiscriminator(4, base_channels=4), (3, 4, 8, 8)),
        (PatchGANDiscriminator(4, base_channels=4, clip_length=3), (3, 4, 8, 8)),
        (ConvDiscriminator(4, conv_channels=4, hidden_dim=4, dropout=0.0), (3, 4, 6, 6)),
    ],
)
def test_dense_broadcasts_labels(disc, shape):
    feats = _features(*shape)
    loss, stats = DomainAdversarialLoss(disc, "dense")(feats, DOMAINS, 1.0)
    logits = disc(feats.detach())
    labels = DOMAINS.view(-1, *([1] * (logits.dim() - 1))).expand_as(logits).float()
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(logits, labels))
    assert 0.0 <= float(stats["acc"]) <= 1.0
    loss.backward()
    assert _all_params_have_grad(disc)


@pytest.mark.parametrize("coeff", [0.0, 0.5, 2.0])
def test_feature_gradient_is_reversed(coeff):
    disc = MLPDiscriminator(10, hidden_dims=(8,))
    feats = _features(3, 4, 2, 5)
    loss, _ = DomainAdversarialLoss(disc, "per_channel")(feats, DOMAINS, coeff)
    loss.backward()
    plain = feats.detach().clone().requires_grad_()
    labels = DOMAINS.repeat_interleave(4).float()
    F.binary_cross_entropy_with_logits(disc(plain.reshape(12, 10)), labels).backward()
    assert torch.allclose(feats.grad, -coeff * plain.grad, atol=1e-7)


def test_size_mismatch_names_shape_and_expected():
    loss = DomainAdversarialLoss(MLPDiscriminator(16, hidden_dims=(8,)), "per_channel")
    with pytest.raises(ValueError, match=r"\(3, 4, 2, 5\) give H\*W = 10 .* in_features=16"):
        loss(_features(3, 4, 2, 5), DOMAINS, 1.0)
    flat = DomainAdversarialLoss(MLPDiscriminator(16, hidden_dims=(8,)), "flatten")
    with pytest.raises(ValueError, match=r"C\*H\*W = 40 .* in_features=16"):
        flat(_features(3, 4, 2, 5), DOMAINS, 1.0)


def test_domain_loss_argument_errors():
    disc = MLPDiscriminator(10, hidden_dims=(8,))
    with pytest.raises(ValueError, match="unknown mode 'pixel'"):
        DomainAdversarialLoss(disc, "pixel")
    loss = DomainAdversarialLoss(disc, "per_channel")
    with pytest.raises(ValueError, match=r"shape \(B,\)"):
        loss(_features(3, 4, 2, 5), torch.tensor([0, 1]), 1.0)
    with pytest.raises(ValueError, match="0 \\(image\\) or 1 \\(video\\)"):
        loss(_features(3, 4, 2, 5), torch.tensor([0, 1, 2]), 1.0)


# ---- clustered loss -------------------------------------------------------------------------


def _clustered(num_clusters=3, pairs_per_kind=4, **kw):
    return ClusteredAdversarialLoss(
        PairDiscriminator(10, hidden_dims=(8,)), num_clusters, pairs_per_kind, **kw
    )


STAT_KEYS = {
    "acc",
    "acc_same",
    "acc_cross",
    "loss",
    "const_loss",
    "logit_std",
    "dead_units",
    "cluster_sizes",
    "pairs_image_video",
    "pairs_image_image",
    "pairs_video_video",
    "num_clusters_with_cross_pairs",
    "kmeans_inertia",
}


def test_clustered_stats():
    module = _clustered()
    feats = _features(4, 6, 2, 5)
    domains = torch.tensor([0, 0, 1, 1])
    loss, stats = module(feats, domains, 1.0, seed=3)
    assert set(stats) == STAT_KEYS
    assert stats["cluster_sizes"].shape == (3,) and int(stats["cluster_sizes"].sum()) == 24
    total = sum(int(stats[f"pairs_{k}"]) for k in ("image_video", "image_image", "video_video"))
    assert total > 0 and int(stats["num_clusters_with_cross_pairs"]) >= 1
    assert all(isinstance(v, float) for k, v in stats.items() if k != "cluster_sizes")
    # Kinds weighted equally, with equal counts: one pair in three is cross-domain, so the best
    # constant answer is worth the entropy of 1/3.
    assert stats["const_loss"] == pytest.approx(math.log(3) - (2 / 3) * math.log(2))
    assert loss.dim() == 0 and loss.requires_grad


def test_clustered_gradient_is_reversed_and_matches_manual_pipeline():
    module = _clustered()
    feats = _features(4, 6, 2, 5)
    domains = torch.tensor([0, 1, 0, 1])
    loss, _ = module(feats, domains, 0.75, seed=5)
    loss.backward()

    # Rebuild the same loss from the public pieces, without gradient reversal.
    plain = feats.detach().clone().requires_grad_()
    maps = plain.reshape(24, 10)
    clusters = run_kmeans(maps.detach(), 3, seed=5)
    pairs = sample_balanced_pairs(
        clusters.labels,
        domains.repeat_interleave(6),
        4,
        torch.Generator().manual_seed(5),
        3,
        sample_ids=torch.arange(4).repeat_interleave(6),
    )
    logits = module.pair_discriminator(maps[pairs.idx_a], maps[pairs.idx_b])
    # Balanced pairing gives equal kind counts, so equal kind weights make a plain mean.
    expected = F.binary_cross_entropy_with_logits(logits, pairs.same_domain)
    expected.backward()
    assert torch.allclose(loss, expected)
    assert plain.grad.abs().sum() > 0
    assert torch.allclose(feats.grad, -0.75 * plain.grad, atol=1e-7)


@pytest.mark.parametrize("domains", [torch.tensor([0, 0, 0]), torch.tensor([1, 1, 1])])
def test_single_domain_batch_gives_exact_zero_with_all_params_in_graph(domains):
    module = _clustered()
    feats = _features(3, 4, 2, 5)
    loss, stats = module(feats, domains, 1.0, seed=0)
    assert loss.item() == 0.0
    loss.backward()
    for param in module.pair_discriminator.parameters():
        assert param.grad is not None and torch.all(param.grad == 0)
    assert int(stats["pairs_image_image"]) + int(stats["pairs_video_video"]) == 0
    assert math.isnan(stats["acc"])


def test_no_pair_at_all_gives_exact_zero():
    # One map per cluster: nothing to pair, even with cross pairs not required.
    module = _clustered(num_clusters=4, require_cross_pairs=False)
    loss, _ = module(_features(2, 2, 2, 5), torch.tensor([0, 1]), 1.0, seed=0)
    assert loss.item() == 0.0
    loss.backward()
    assert _all_params_have_grad(module.pair_discriminator)


def test_same_domain_pairs_used_when_cross_pairs_not_required():
    module = _clustered(num_clusters=1, require_cross_pairs=False, pairing="available")
    loss, stats = module(_features(3, 4, 2, 5), torch.tensor([0, 0, 0]), 1.0, seed=0)
    assert loss.item() > 0 and int(stats["pairs_image_image"]) == 4


def test_clustered_is_training_only():
    module = _clustered().eval()
    with pytest.raises(RuntimeError, match="training-only"):
        module(_features(3, 4, 2, 5), DOMAINS, 1.0, seed=0)


def test_clustered_size_mismatch():
    with pytest.raises(
        ValueError, match=r"\(3, 4, 3, 5\) give maps of H\*W = 15 .* in_features=10"
    ):
        _clustered()(_features(3, 4, 3, 5), DOMAINS, 1.0, seed=0)


def test_clustered_is_deterministic_for_a_seed():
    module = _clustered()
    feats = _features(4, 6, 2, 5)
    domains = torch.tensor([0, 1, 0, 1])
    first, _ = module(feats, domains, 1.0, seed=9)
    second, _ = module(feats, domains, 1.0, seed=9)
    assert torch.equal(first, second)


def test_clustered_loss_uses_exactly_the_clusters_and_pairs_of_assign(monkeypatch):
    loss = _clustered(num_clusters=2, pairs_per_kind=3).train()
    feats = _features(4, 3, 2, 5)
    domains = torch.tensor([0, 1, 0, 1])
    expected = loss.assign(feats, domains, seed=7)
    judged = []
    original = loss.pair_discriminator.forward
    monkeypatch.setattr(
        loss.pair_discriminator, "forward", lambda a, b: judged.append((a, b)) or original(a, b)
    )
    loss(feats, domains, 1.0, seed=7)
    maps = feats.detach().reshape(12, 10)
    (a, b) = judged[0]
    assert torch.equal(a.detach(), maps[expected.pairs.idx_a])
    assert torch.equal(b.detach(), maps[expected.pairs.idx_b])
    assert expected.domains.tolist() == [0] * 3 + [1] * 3 + [0] * 3 + [1] * 3


def test_assign_works_in_eval_mode_and_keeps_the_graph():
    loss = _clustered().eval()
    feats = _features(4, 3, 2, 5)
    assignment = loss.assign(feats, torch.tensor([0, 1, 0, 1]), seed=0)
    assert assignment.maps.requires_grad and assignment.clusters.labels.shape == (12,)


def test_domain_product_map_term_trains_the_discriminator_and_not_the_encoder(monkeypatch):
    """The "domain_product" pair discriminator's per-map term is computed on detached maps: it
    adds to the loss and to the discriminator's gradient, but the features' (reversed) gradient
    is the pair loss's alone."""
    torch.manual_seed(0)
    disc = PairDiscriminator(16, hidden_dims=(8,), input_form="domain_product")
    module = ClusteredAdversarialLoss(disc, num_clusters=1, pairs_per_kind=4)
    feats = torch.randn(4, 3, 4, 4, requires_grad=True)
    domains = torch.tensor([0, 0, 1, 1])

    def gradients():
        loss, stats = module(feats, domains, 1.0, seed=0)
        grads = torch.autograd.grad(loss, [feats, *disc.parameters()])
        return loss, stats, grads[0], grads[1:]

    loss, stats, feat_grad, disc_grads = gradients()
    monkeypatch.setattr(disc, "map_domain_loss", lambda maps, map_domains: None)
    pair_loss, pair_stats, pair_feat_grad, pair_disc_grads = gradients()
    assert torch.equal(feat_grad, pair_feat_grad)
    assert loss > pair_loss and stats["loss"] == pair_stats["loss"]
    assert any(not torch.equal(a, b) for a, b in zip(disc_grads, pair_disc_grads))

"""Weights of the clustered loss's pairs (``MODEL.I2V.CLUSTER.WEIGHTING``): the three kinds count
equally by default, the earlier same/cross label balance and no weighting stay available, and the
health figures weigh the pairs as the loss does."""

import math

import pytest
import torch
import torch.nn.functional as F

from i2v_plugin.modeling.adversarial.discriminators import PairDiscriminator
from i2v_plugin.modeling.adversarial.health import balanced_accuracy, constant_predictor_loss
from i2v_plugin.modeling.adversarial.losses import ClusteredAdversarialLoss
from i2v_plugin.modeling.adversarial.pair_weights import (
    kind_balance_weights,
    label_balance_weights,
    pair_weights,
)

# 2 image-video, 6 image-image and 4 video-video pairs (as "available" pairing can give).
KIND = torch.tensor([0] * 2 + [1] * 6 + [2] * 4)
SAME = (KIND > 0).float()


def total_per_kind(weights):
    return [float(weights[KIND == k].sum()) for k in range(3)]


def test_kinds_weighting_gives_every_kind_an_equal_share_with_mean_one():
    weights = pair_weights("kinds", SAME, KIND)
    assert total_per_kind(weights) == pytest.approx([4.0, 4.0, 4.0])
    assert float(weights.mean()) == pytest.approx(1.0)
    # Only the kinds present share the weight.
    two_kinds = torch.tensor([1, 1, 1, 2])
    assert kind_balance_weights(two_kinds).tolist() == pytest.approx([2 / 3] * 3 + [2.0])


def test_equal_counts_make_kinds_weighting_a_plain_mean():
    kind = torch.tensor([0, 1, 2] * 4)
    assert torch.equal(pair_weights("kinds", (kind > 0).float(), kind), torch.ones(12))


def test_labels_weighting_is_the_earlier_two_to_one_to_one():
    kind = torch.tensor([0, 1, 2] * 4)  # balanced counts
    weights = pair_weights("labels", (kind > 0).float(), kind)
    assert torch.equal(weights, label_balance_weights((kind > 0).float()))
    assert weights[:3].tolist() == pytest.approx([1.5, 0.75, 0.75])
    assert pair_weights("none", SAME, KIND) is None
    with pytest.raises(ValueError, match=r"one of \('kinds', 'labels', 'none'\)"):
        pair_weights("equal", SAME, KIND)


def test_weighted_balanced_accuracy_and_constant_loss():
    # A discriminator right on every image-image pair and wrong on every video-video pair and
    # every cross pair.
    logits = torch.where(KIND == 1, 3.0, torch.where(KIND == 2, -3.0, 3.0))
    weights = pair_weights("kinds", SAME, KIND)
    # "same" label: the two same kinds weigh equally, so half right; "cross": all wrong.
    assert balanced_accuracy(logits, SAME, weights) == pytest.approx((0.5 + 0.0) / 2)
    # Unweighted, the six image-image pairs outvote the four video-video ones.
    assert balanced_accuracy(logits, SAME) == pytest.approx((0.6 + 0.0) / 2)
    # Weighted label mix: one third cross.
    expected = math.log(3) - (2 / 3) * math.log(2)
    assert constant_predictor_loss(SAME, weights) == pytest.approx(expected)


def _features(seed):
    return torch.randn(6, 4, 2, 5, generator=torch.Generator().manual_seed(seed))


DOMAINS = torch.tensor([0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("weighting", ["kinds", "labels", "none"])
@pytest.mark.parametrize("pairing", ["balanced", "available"])
def test_loss_and_health_use_the_configured_weights(weighting, pairing):
    torch.manual_seed(0)
    module = ClusteredAdversarialLoss(
        PairDiscriminator(10, hidden_dims=(8,)), 4, 4, pairing=pairing, weighting=weighting
    )
    features = _features(0)
    loss, stats = module(features, DOMAINS, 1.0, seed=4)
    pairs = module.assign(features, DOMAINS, 4).pairs
    # The batch is chosen so that "available" pairing gives unequal kind counts (16, 12, 12).
    per_kind = pairs.counts.sum(0).tolist()
    assert per_kind == ([8, 8, 8] if pairing == "balanced" else [16, 12, 12])
    maps = features.reshape(24, 10)
    with torch.no_grad():
        logits = module.pair_discriminator(maps[pairs.idx_a], maps[pairs.idx_b])
    weights = pair_weights(weighting, pairs.same_domain, pairs.kind)
    expected = F.binary_cross_entropy_with_logits(logits, pairs.same_domain, weight=weights)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    assert stats["const_loss"] == pytest.approx(constant_predictor_loss(pairs.same_domain, weights))
    assert stats["acc"] == pytest.approx(balanced_accuracy(logits, pairs.same_domain, weights))
    if weighting == "labels":
        assert stats["const_loss"] == pytest.approx(math.log(2))
    if weighting == "kinds":
        assert stats["const_loss"] == pytest.approx(math.log(3) - (2 / 3) * math.log(2))


def test_unknown_weighting_is_an_error():
    with pytest.raises(ValueError, match="weighting must be one of"):
        ClusteredAdversarialLoss(PairDiscriminator(10), 2, weighting="label")

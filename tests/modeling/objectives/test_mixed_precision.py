"""Mixed precision (bfloat16 autocast on CPU) through every objective family: one training step
gives finite float32 losses close to the float32 step's on the same batch and initial weights,
finite gradients on the same parameters; K-means assigns the same maps to the same clusters as
in float32; the float32 parts give float32 results on half-precision inputs.

Tolerance. bfloat16 keeps 8 significant bits, so one rounding moves a value by at most 2^-8 of
itself (the unit roundoff u). Every loss is a float32 reduction (mean) over many terms, each
computed from activations rounded to bfloat16 after each matmul or convolution; independent
rounding errors average out in a mean instead of adding up, so a loss moves by a few u at most.
The bound is 4u = 2^-6 (1.6 %) of the float32 loss: a few roundings in a row, not a rounding
per op of the network. The clustered loss needs the margin most: its K-means sees the bfloat16
maps, which differ from the float32 ones by about u, so a map may land in another cluster and
change the pairs (0.35 % seen in such a case). Measured here: at most 0.13 % (the global
discriminator's loss), the clustered loss 0.04 %, the others under 1e-4.
"""

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.modeling.adversarial.discriminators import PairDiscriminator
from i2v_plugin.modeling.adversarial.losses import ClusteredAdversarialLoss
from i2v_plugin.modeling.objectives import entropy_loss
from i2v_plugin.modeling.objectives.self_training import EMATeacher, phase_correlation_shift
from i2v_plugin.modeling.objectives.self_training.pseudo_labels import weighted_cross_entropy
from tests.helpers import seeded_batch, tiny_cfg

UNIT_ROUNDOFF = 2.0**-8  # bfloat16: 8 significant bits
RTOL = 4 * UNIT_ROUNDOFF

SYNTH = "configs/synthetic"
FAMILIES = {
    "spatial": f"{SYNTH}/swin_spatial.yaml",
    "global": f"{SYNTH}/swin_global.yaml",
    "clustered": f"{SYNTH}/swin_clustered.yaml",
    "entropy": f"{SYNTH}/swin_entropy.yaml",
    "self_training": f"{SYNTH}/swin_self_training.yaml",
    "self_training_temporal": f"{SYNTH}/swin_self_training_temporal.yaml",
    "video_swin_spatial": f"{SYNTH}/video_swin_spatial.yaml",
}


def batch_for(cfg) -> list[dict]:
    """The fixed batch of ``tests.helpers.seeded_batch`` shaped for ``cfg``: frame pairs for
    temporal self-training, clips of INPUT.CLIP.LENGTH frames (a still image repeated) for a
    clip backbone."""
    batch = seeded_batch(pairs=cfg.INPUT.UNLABELED_PAIR_DISTANCE > 0)
    length = cfg.INPUT.CLIP.LENGTH
    if length > 1:
        for sample in batch:
            sample["image"] = sample["image"].expand(length, -1, -1, -1).clone()
            if "sem_seg" in sample:
                sample["sem_seg"] = sample["sem_seg"].expand(length, -1, -1).clone()
    return batch


def training_step(cfg, batch, bf16: bool):
    """One training step (forward, backward) of a freshly built model, seed 0 for the weights
    and seed 1 for the step's own draws; returns (losses, model)."""
    torch.manual_seed(0)
    model = build_model(cfg).train()
    torch.manual_seed(1)
    with EventStorage(0):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            losses = model(batch)
        sum(losses.values()).backward()
    return losses, model


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bf16_step_matches_the_float32_step(family):
    cfg = tiny_cfg(FAMILIES[family])
    batch = batch_for(cfg)
    reference, reference_model = training_step(cfg, batch, bf16=False)
    mixed, model = training_step(cfg, batch, bf16=True)

    assert mixed.keys() == reference.keys() and len(mixed) >= 2  # the objective's loss too
    for name, loss in mixed.items():
        assert loss.dtype == torch.float32, (name, loss.dtype)
        assert torch.isfinite(loss), name
        expected = float(reference[name])
        assert expected != 0.0, name  # a comparison with a non-trivial loss
        assert abs(float(loss) - expected) <= RTOL * abs(expected), (name, float(loss), expected)

    def gradients(m):
        return {n: p.grad for n, p in m.named_parameters() if p.grad is not None}

    grads, reference_grads = gradients(model), gradients(reference_model)
    assert grads.keys() == reference_grads.keys() and grads
    assert all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads.values())


def test_kmeans_assigns_the_same_maps_as_in_float32():
    # The clustered loss's own first half (K-means, then the pairs) on the tiny model's maps,
    # and on wide maps that take the sketched seeding (56 x 56, as at the paper's size).
    cfg = tiny_cfg(FAMILIES["clustered"])
    torch.manual_seed(0)
    model = build_model(cfg).train()
    objective = model.objectives["adv_cluster"]
    with torch.no_grad():
        tapped, domains = model.tapped_features(batch_for(cfg))
    wide_loss = ClusteredAdversarialLoss(PairDiscriminator(56 * 56, hidden_dims=(8,)), 11)
    wide = torch.randn(8, 24, 56, 56, generator=torch.Generator().manual_seed(0))
    cases = [
        (objective.loss, tapped[objective.feature], domains),
        (wide_loss, wide, torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])),
    ]
    for loss, maps, map_domains in cases:
        reference = loss.assign(maps, map_domains, seed=7)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = loss.assign(maps, map_domains, seed=7)
        assert torch.equal(mixed.clusters.labels, reference.clusters.labels)
        assert torch.equal(mixed.clusters.centers, reference.clusters.centers)
        assert torch.equal(mixed.pairs.idx_a, reference.pairs.idx_a)
        assert torch.equal(mixed.pairs.idx_b, reference.pairs.idx_b)


def test_float32_parts_compute_in_float32_on_bf16_inputs():
    # Each part upcasts its bfloat16 inputs and runs with autocast off: its result is exactly
    # the float32 computation on the upcast inputs.
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 11, 16, 16, generator=generator).bfloat16()
    valid = torch.ones(2, 16, 16, dtype=torch.bool)
    labels = torch.randint(0, 11, (2, 16, 16), generator=generator)
    weights = torch.rand(2, 16, 16, generator=generator)
    frames = (torch.rand(3, 32, 32, generator=generator) * 255).bfloat16()
    moved = torch.roll(frames, (2, -3), dims=(-2, -1))
    expected = (
        entropy_loss(logits.float(), valid),
        weighted_cross_entropy(logits.float(), labels, weights),
        phase_correlation_shift(frames.float(), moved.float()),
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = (
            entropy_loss(logits, valid),
            weighted_cross_entropy(logits, labels, weights),
            phase_correlation_shift(frames, moved),
        )
    for got, want in zip(mixed, expected):
        assert got.dtype == want.dtype and torch.equal(got, want)
    assert mixed[2].tolist() == [[2, -3]] * 3


def test_ema_update_under_autocast_is_the_float32_update():
    student = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    head = torch.nn.Conv2d(4, 2, 1)
    teachers = [EMATeacher(student, head, decay=0.9) for _ in range(2)]
    with torch.no_grad():
        for p in [*student.parameters(), *head.parameters()]:
            p.add_(1.0)
    teachers[0].update(student, head, iteration=5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        teachers[1].update(student, head, iteration=5)
    reference, mixed = teachers[0].state_dict(), teachers[1].state_dict()
    assert all(torch.equal(mixed[k], reference[k]) for k in reference)
    assert all(v.dtype == reference[k].dtype for k, v in mixed.items())

"""Pseudo-labels and the self-training loss: confidence threshold, quality weighting, the class
histogram, ClassMix and class-balanced selection."""

import math

import torch
from detectron2.modeling import build_model

from i2v_plugin.modeling.objectives.self_training.classmix import classmix_masks
from i2v_plugin.modeling.objectives.self_training.pseudo_labels import (
    pixel_weights,
    quality_weights,
    weighted_cross_entropy,
)
from tests.helpers import (
    SELF_TRAINING,
    SYNTH,
    seeded_batch,
    tiny_cfg,
    train_step,
)

# ---- pseudo-labels and the loss -----------------------------------------------------------------


def test_a_threshold_that_selects_nothing_gives_an_exact_zero_on_the_student_graph():
    opts = SELF_TRAINING + ["MODEL.I2V.SELF_TRAINING.THRESHOLD", "1.0"]
    model = build_model(tiny_cfg(SYNTH, *opts))
    losses, storage = train_step(model, seeded_batch())
    loss = losses["loss_self_training"]
    assert loss.item() == 0.0 and storage.latest()["i2v/pseudo/confident"][0] == 0.0
    student = [
        p for n, p in model.named_parameters() if p.requires_grad and n.split(".")[0] in
        ("backbone", "sem_seg_head")
    ]  # fmt: skip
    grads = torch.autograd.grad(loss, student)  # raises if any parameter is not in the graph
    assert all(torch.count_nonzero(g) == 0 for g in grads)


def test_quality_weighting_scales_each_frame_by_its_confident_fraction():
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    labels = torch.randint(0, 3, (2, 4, 4))
    keep = torch.zeros(2, 4, 4, dtype=torch.bool)
    keep[0, :2] = True  # half of frame 0, none of frame 1
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    quality = quality_weights(keep, valid)
    assert quality.tolist() == [0.5, 0.0]
    loss = weighted_cross_entropy(logits, labels, pixel_weights(keep, quality))
    per_pixel = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    assert torch.allclose(loss, 0.5 * per_pixel[0, :2].mean())
    # Padding does not count in the quality.
    valid[0, 2:] = False
    assert quality_weights(keep, valid).tolist() == [1.0, 0.0]


def test_confident_pixels_and_class_histogram_are_logged():
    opts = SELF_TRAINING + ["MODEL.I2V.SELF_TRAINING.THRESHOLD", "0.0"]
    model = build_model(tiny_cfg(SYNTH, *opts))
    losses, storage = train_step(model, seeded_batch(pad=16))
    logged = storage.latest()
    assert losses["loss_self_training"].item() > 0
    assert logged["i2v/pseudo/confident"][0] == 1.0 and logged["i2v/pseudo/quality"][0] == 1.0
    histogram = [logged[f"i2v/pseudo/class_{k}"][0] for k in range(11)]
    assert math.isclose(sum(histogram), 1.0, rel_tol=1e-6)


def test_classmix_pastes_half_of_the_classes_with_their_labels():
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :, 2:4], labels[0, :, 4:6], labels[0, :, 6:] = 1, 2, 255
    torch.manual_seed(0)
    masks, sources = classmix_masks(labels, num_views=3, ignore_value=255)
    assert masks.shape == (3, 8, 8) and sources.tolist() == [0, 0, 0]
    for mask in masks:
        pasted = set(labels[0][mask].tolist())
        assert len(pasted) == 2 and 255 not in pasted  # ceil(3 / 2) of {0, 1, 2}
        assert torch.equal(mask, torch.isin(labels[0], torch.tensor(sorted(pasted))))


def test_classmix_step_logs_the_mixed_fraction():
    opts = SELF_TRAINING + ["MODEL.I2V.SELF_TRAINING.CLASSMIX", "True"]
    _, storage = train_step(build_model(tiny_cfg(SYNTH, *opts)), seeded_batch())
    assert 0.0 < storage.latest()["i2v/pseudo/mixed"][0] < 1.0


def test_class_balanced_selection_keeps_the_most_confident_share_of_every_class():
    from i2v_plugin.modeling.objectives.self_training.pseudo_labels import confident_pseudo_labels

    # 10 pixels: 8 confident background, 2 unsure "class 1" pixels (0.6 and 0.55).
    probs = torch.zeros(1, 2, 1, 10)
    probs[0, 0] = torch.tensor([0.99] * 8 + [0.4, 0.45])
    probs[0, 1] = 1 - probs[0, 0]
    valid = torch.ones(1, 1, 10, dtype=torch.bool)
    labels, keep = confident_pseudo_labels(probs, 0.9, valid)
    assert keep.sum() == 8 and not keep[0, 0, 8:].any()  # the threshold alone: background only
    labels, keep = confident_pseudo_labels(probs, 0.9, valid, class_portion=0.5)
    assert keep[0, 0, 8] and not keep[0, 0, 9]  # class 1's more confident half
    assert keep[0, 0, :8].all() and labels[0, 0, 8] == 1

"""Entropy minimisation and self-training: the EMA rule, pseudo-label selection and weighting,
ClassMix, temporal agreement with phase correlation, strong views, and the model's losses."""

import math

import pytest
import torch
from conftest import tiny_cfg
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from i2v_plugin.engine.trainer import I2VTrainer
from i2v_plugin.modeling.objectives import entropy_loss, normalized_entropy
from i2v_plugin.modeling.objectives.self_training import (
    EMATeacher,
    StrongPhotometric,
    ema_alpha,
    phase_correlation_shift,
    shift_frames,
    temporal_pseudo_labels,
)
from i2v_plugin.modeling.objectives.self_training.classmix import classmix_masks
from i2v_plugin.modeling.objectives.self_training.pseudo_labels import (
    pixel_weights,
    quality_weights,
    weighted_cross_entropy,
)

SYNTH = "configs/synthetic/swin_source_only.yaml"
DEEPLAB = "configs/synthetic/deeplab_source_only.yaml"
SELF_TRAINING = ["MODEL.I2V.SELF_TRAINING.ENABLED", "True"]
TEMPORAL = SELF_TRAINING + [
    "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED", "True",
    "INPUT.UNLABELED_PAIR_DISTANCE", "2",
]  # fmt: skip


def batch(labeled=2, unlabeled=2, size=64, pairs=False, pad=0):
    gen = torch.Generator().manual_seed(0)

    def image():
        return torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=gen)

    out = [
        {"image": image(), "domain": "image", "sem_seg": torch.randint(0, 11, (size, size))}
        for _ in range(labeled)
    ]
    for _ in range(unlabeled):
        d = {"image": image(), "domain": "video", "valid": torch.ones(size, size, dtype=torch.bool)}
        if pad:
            d["valid"][:, size - pad :] = False
        if pairs:
            d["pair_image"] = torch.roll(d["image"], (2, -3), dims=(-2, -1))
        out.append(d)
    return out


def train_step(model, inputs, iteration=0):
    model.train()
    with EventStorage(iteration) as storage:
        losses = model(inputs)
    return losses, storage


# ---- the EMA teacher ----------------------------------------------------------------------------


class Scalar(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([value]))


def test_ema_update_exact_values_on_a_two_parameter_toy():
    student_a, student_b = Scalar(1.0), Scalar(2.0)
    teacher = EMATeacher(student_a, student_b, decay=0.5)
    assert not teacher.backbone.w.requires_grad and not teacher.training
    with torch.no_grad():
        student_a.w.fill_(3.0)
        student_b.w.fill_(5.0)
    # alpha = min(1 - 1 / (iter + 1), decay): 0.5 at iteration 3 (the decay caps 0.75).
    assert teacher.update(student_a, student_b, iteration=3) == 0.5
    assert teacher.backbone.w.item() == 2.0 and teacher.sem_seg_head.w.item() == 3.5
    assert ema_alpha(3, 0.99) == 0.75 and ema_alpha(1, 0.99) == 0.5
    teacher.decay = 0.99
    assert teacher.update(student_a, student_b, iteration=3) == 0.75
    assert teacher.backbone.w.item() == 2.25 and teacher.sem_seg_head.w.item() == 3.875
    # Iteration 0 copies the student (weights loaded after the model was built reach it).
    assert teacher.update(student_a, student_b, iteration=0) == 0.0
    assert teacher.backbone.w.item() == 3.0 and teacher.sem_seg_head.w.item() == 5.0
    teacher.train()
    assert not teacher.training


def test_teacher_is_checkpointed_and_not_optimized():
    cfg = tiny_cfg(SYNTH, *SELF_TRAINING)
    model = build_model(cfg)
    keys = model.state_dict().keys()
    assert any(k.startswith("objectives.self_training.teacher.backbone.") for k in keys)
    assert any(k.startswith("objectives.self_training.teacher.sem_seg_head.") for k in keys)
    optimizer = I2VTrainer.build_optimizer(cfg, model)
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    teacher = list(model.objectives["self_training"].teacher.parameters())
    assert teacher and not any(id(p) in optimized for p in teacher)
    student = [
        p for n, p in model.named_parameters() if not n.startswith("objectives.self_training.")
    ]
    assert all(id(p) in optimized for p in student)


def test_teacher_follows_the_trainer_iteration():
    model = build_model(tiny_cfg(SYNTH, *SELF_TRAINING, "MODEL.I2V.SELF_TRAINING.EMA_DECAY", "0.9"))
    alphas = [
        train_step(model, batch(), it)[1].latest()["i2v/pseudo/ema_alpha"][0] for it in (0, 4, 50)
    ]
    assert alphas == [0.0, 0.8, 0.9]


# ---- pseudo-labels and the loss -----------------------------------------------------------------


def test_a_threshold_that_selects_nothing_gives_an_exact_zero_on_the_student_graph():
    opts = SELF_TRAINING + ["MODEL.I2V.SELF_TRAINING.THRESHOLD", "1.0"]
    model = build_model(tiny_cfg(SYNTH, *opts))
    losses, storage = train_step(model, batch())
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
    losses, storage = train_step(model, batch(pad=16))
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
    _, storage = train_step(build_model(tiny_cfg(SYNTH, *opts)), batch())
    assert 0.0 < storage.latest()["i2v/pseudo/mixed"][0] < 1.0


# ---- temporal agreement -------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [(0, 0), (5, -7), (-3, 11), (12, 15)])
def test_phase_correlation_recovers_a_circular_shift_exactly(shift):
    reference = torch.rand(2, 48, 64, generator=torch.Generator().manual_seed(1))
    moved = torch.roll(reference, shift, dims=(-2, -1))
    assert phase_correlation_shift(reference, moved).tolist() == [list(shift)] * 2


def test_phase_correlation_respects_the_largest_shift():
    reference = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(2))
    moved = torch.roll(reference, (10, 0), dims=(-2, -1))
    assert phase_correlation_shift(reference, moved, max_shift=0.5).tolist() == [[10, 0]]
    assert phase_correlation_shift(reference, moved, max_shift=0.25).tolist() != [[10, 0]]


def test_shift_frames_moves_content_and_fills_the_uncovered_border():
    x = torch.arange(16.0).view(1, 4, 4)
    out = shift_frames(x, torch.tensor([[1, -2]]), fill=-1)
    assert torch.equal(out[0, 1:, :2], x[0, :3, 2:])
    assert (out[0, 0] == -1).all() and (out[0, :, 2:] == -1).all()


def test_temporal_pseudo_labels_keep_confident_agreeing_aligned_pixels():
    probs_t = torch.full((1, 3, 8, 8), 0.05)
    probs_t[:, 0] = 0.9
    probs_t[0, :, 2:4, 2:4] = torch.tensor([0.05, 0.9, 0.05]).view(3, 1, 1)  # an object of class 1
    shift = torch.tensor([[1, 2]])
    probs_k = shift_frames(probs_t, shift, fill=0.05)
    probs_k[0, 0, :1, :] = probs_k[0, 0, :, :2] = 0.9  # the border the camera uncovered
    probs_k[0, :, 7, 7] = torch.tensor([0.05, 0.05, 0.9])  # a flicker to class 2
    valid = torch.ones(1, 8, 8, dtype=torch.bool)
    labels_t, keep_t, labels_k, keep_k, stats = temporal_pseudo_labels(
        probs_t, probs_k, valid, 0.8, shift
    )
    assert labels_k[0, 3, 4] == 1 and keep_k[0, 3, 4] and keep_t[0, 2, 2]
    assert not keep_k[0, 7, 7] and not keep_k[0, 0].any() and not keep_k[0, :, :2].any()
    assert torch.equal(keep_t, shift_frames(keep_k, -shift, fill=False))
    assert (labels_t[keep_t] == shift_frames(labels_k, -shift)[keep_t]).all()
    assert stats["shift"] == 3.0 and 0.9 < stats["agreement"] < 1.0


def test_temporal_step_trains_both_frames_of_each_pair():
    opts = TEMPORAL + ["MODEL.I2V.SELF_TRAINING.THRESHOLD", "0.0"]
    model = build_model(tiny_cfg(SYNTH, *opts))
    seen = []
    model.backbone.register_forward_pre_hook(lambda mod, args: seen.append(args[0].shape[0]))
    losses, storage = train_step(model, batch(labeled=2, unlabeled=3, pairs=True))
    assert losses["loss_self_training"].item() > 0
    assert seen == [2, 6]  # labeled pass, then the student on both frames of the 3 pairs
    logged = storage.latest()
    assert logged["i2v/pseudo/shift_px"][0] == 5.0  # the (2, -3) roll of the batch
    assert 0.0 < logged["i2v/pseudo/temporal_agreement"][0] <= 1.0


def test_temporal_needs_pairs():
    with pytest.raises(ValueError, match="UNLABELED_PAIR_DISTANCE"):
        build_model(
            tiny_cfg(SYNTH, *SELF_TRAINING, "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED", "True")
        )


# ---- strong views -------------------------------------------------------------------------------


def test_strong_views_keep_geometry_and_share_draws_within_a_clip():
    images = torch.rand(4, 3, 16, 16) * 255
    assert torch.equal(StrongPhotometric(0.0, 0.0, 0.0, 0.0)(images), images)
    images[1] = images[0]
    torch.manual_seed(0)
    out = StrongPhotometric(jitter=0.3, blur_sigma=1.0, blur_prob=1.0, noise_std=0.0)(images, 2)
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 255
    assert torch.equal(out[0], out[1]) and not torch.equal(out[0], images[0])
    torch.manual_seed(0)
    again = StrongPhotometric(jitter=0.3, blur_sigma=1.0, blur_prob=1.0, noise_std=0.0)(images, 2)
    assert torch.equal(out, again)


# ---- entropy ------------------------------------------------------------------------------------


def test_normalized_entropy_is_one_for_uniform_and_zero_for_certain_predictions():
    uniform = torch.zeros(1, 5, 2, 2)
    certain = torch.zeros(1, 5, 2, 2)
    certain[:, 2] = 100.0
    assert torch.allclose(normalized_entropy(uniform), torch.ones(1, 2, 2))
    assert normalized_entropy(certain).max() < 1e-6
    valid = torch.zeros(2, 2, 2, dtype=torch.bool)
    valid[1] = True
    assert entropy_loss(torch.cat([uniform, certain]), valid) < 1e-6


def test_entropy_step_reuses_the_unlabeled_pass_for_the_adversarial_taps():
    opts = ["MODEL.I2V.ENTROPY.ENABLED", "True", "MODEL.I2V.PLACEMENTS", "['spatial']"]
    model = build_model(tiny_cfg(SYNTH, *opts))
    seen = []
    model.backbone.register_forward_pre_hook(lambda mod, args: seen.append(args[0].shape[0]))
    losses, storage = train_step(model, batch(labeled=2, unlabeled=3))
    assert {"loss_sem_seg", "loss_entropy", "loss_adv_spatial"} == set(losses)
    assert seen == [2, 3]
    assert 0.0 <= storage.latest()["i2v/entropy"][0] <= 1.0


@pytest.mark.parametrize(
    "opts",
    [["MODEL.I2V.ENTROPY.ENABLED", "True"], SELF_TRAINING],
    ids=["entropy", "self_training"],
)
@pytest.mark.parametrize("mode, moved", [("frozen", False), ("update", True)])
def test_unlabeled_passes_follow_the_unlabeled_batchnorm_mode(opts, mode, moved):
    inputs = batch(labeled=2, unlabeled=2)
    for x in inputs[2:]:
        x["image"] = (x["image"] // 4 + 180).to(torch.uint8)  # another domain

    def stats(cfg_opts, samples):
        torch.manual_seed(0)
        model = build_model(tiny_cfg(DEEPLAB, "MODEL.I2V.UNLABELED_BN", mode, *cfg_opts))
        train_step(model, samples)
        student = [m for n, m in model.named_modules() if isinstance(m, _BatchNorm) and
                   not n.startswith("objectives.self_training.")]  # fmt: skip
        assert all(m.training for m in student)
        return [m.running_mean.clone() for m in student]

    same = all(torch.equal(a, b) for a, b in zip(stats([], inputs[:2]), stats(opts, inputs)))
    assert same != moved


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

"""Temporal agreement: phase correlation, shifted frames, agreeing pseudo-labels on pairs."""

import pytest
import torch
from detectron2.modeling import build_model

from i2v_plugin.modeling.objectives.self_training import (
    phase_correlation_shift,
    shift_frames,
    temporal_pseudo_labels,
)
from tests.helpers import (
    SELF_TRAINING,
    SYNTH,
    TEMPORAL,
    seeded_batch,
    tiny_cfg,
    train_step,
)

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
    losses, storage = train_step(model, seeded_batch(labeled=2, unlabeled=3, pairs=True))
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

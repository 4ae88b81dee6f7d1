"""Entropy minimisation: the normalised entropy and its training step."""

import torch
from detectron2.modeling import build_model

from i2v_plugin.modeling.objectives import entropy_loss, normalized_entropy
from tests.helpers import (
    SYNTH,
    seeded_batch,
    tiny_cfg,
    train_step,
)

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
    losses, storage = train_step(model, seeded_batch(labeled=2, unlabeled=3))
    assert {"loss_sem_seg", "loss_entropy", "loss_adv_spatial"} == set(losses)
    assert seen == [2, 3]
    assert 0.0 <= storage.latest()["i2v/entropy"][0] <= 1.0

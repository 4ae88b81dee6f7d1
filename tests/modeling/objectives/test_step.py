"""The training step's unlabeled passes follow ``MODEL.I2V.UNLABELED_BN``."""

import pytest
import torch
from detectron2.modeling import build_model
from torch.nn.modules.batchnorm import _BatchNorm

from tests.helpers import (
    DEEPLAB,
    SELF_TRAINING,
    seeded_batch,
    tiny_cfg,
    train_step,
)


@pytest.mark.parametrize(
    "opts",
    [["MODEL.I2V.ENTROPY.ENABLED", "True"], SELF_TRAINING],
    ids=["entropy", "self_training"],
)
@pytest.mark.parametrize("mode, moved", [("frozen", False), ("update", True)])
def test_unlabeled_passes_follow_the_unlabeled_batchnorm_mode(opts, mode, moved):
    inputs = seeded_batch(labeled=2, unlabeled=2)
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

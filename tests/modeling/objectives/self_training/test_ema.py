"""The EMA teacher: the update rule, its place in the checkpoint, and its schedule."""

import torch
from detectron2.modeling import build_model
from torch import nn

from i2v_plugin.engine.trainer import I2VTrainer
from i2v_plugin.modeling.objectives.self_training import (
    EMATeacher,
    ema_alpha,
)
from tests.helpers import (
    SELF_TRAINING,
    SYNTH,
    seeded_batch,
    tiny_cfg,
    train_step,
)

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
        train_step(model, seeded_batch(), it)[1].latest()["i2v/pseudo/ema_alpha"][0]
        for it in (0, 4, 50)
    ]
    assert alphas == [0.0, 0.8, 0.9]

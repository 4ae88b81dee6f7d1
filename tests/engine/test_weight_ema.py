"""The weight average for evaluation (``SOLVER.WEIGHT_EMA``): the warm-up rule's exact values,
and after training the model holds the average (and so do ``model_final.pth`` and the final
evaluation)."""

import copy

import torch
from fvcore.nn.precise_bn import update_bn_stats
from torch import nn

from i2v_plugin.engine.adabn import TargetFramesPass
from i2v_plugin.engine.trainer import I2VTrainer
from i2v_plugin.engine.weight_ema import build_weight_ema
from tests.helpers import tiny_cfg


def test_the_average_follows_the_warm_up_rule_exactly():
    model = nn.Linear(1, 1, bias=False)
    average = build_weight_ema(model, decay=0.5)
    values = [4.0, 8.0, 0.0]
    expected = []
    for step, value in enumerate(values):
        with torch.no_grad():
            model.weight.fill_(value)
        average.update_parameters(model)
        d = min(0.5, 1 - 1 / (step + 1))  # 0, 0.5, 0.5: the first step copies
        previous = expected[-1] if expected else 0.0
        expected.append(d * previous + (1 - d) * value)
    assert expected == [4.0, 6.0, 3.0]
    assert average.module.weight.item() == expected[-1]


def train_with_average(tmp_path, *opts):
    cfg = tiny_cfg(
        "configs/synthetic/swin_source_only.yaml", "SOLVER.MAX_ITER", "3",
        "SOLVER.WEIGHT_EMA.ENABLED", "True", "SOLVER.WEIGHT_EMA.DECAY", "0.9",
        "DATASETS.TEST", "()", "OUTPUT_DIR", str(tmp_path), *opts,
    )  # fmt: skip
    torch.manual_seed(0)
    trainer = I2VTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    return trainer


def test_after_training_the_model_holds_the_average(synth_root, tmp_path):
    trainer = train_with_average(tmp_path, "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "0")
    assert int(trainer.weight_ema.n_averaged) == 3
    averaged = trainer.weight_ema.module.state_dict()
    live = trainer.model.state_dict()
    assert all(torch.equal(live[k], averaged[k]) for k in live)
    saved = torch.load(tmp_path / "model_final.pth", weights_only=False)
    assert all(torch.equal(saved["model"][k], live[k]) for k in live)
    assert "weight_ema" in saved  # checkpointed, so --resume continues the average


def test_the_average_gets_batchnorm_statistics_of_its_own(synth_root, tmp_path):
    """With PRECISE_BN_ITERS, the saved model has the averaged weights and the BatchNorm
    statistics that fvcore's update_bn_stats gives for those weights on the labeled stream."""
    trainer = train_with_average(tmp_path, "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "2")
    averaged = trainer.weight_ema.module
    saved = torch.load(tmp_path / "model_final.pth", weights_only=False)["model"]
    for name, param in averaged.named_parameters():
        assert torch.equal(saved[name], param), name
    reference = copy.deepcopy(averaged)
    update_bn_stats(TargetFramesPass(reference), trainer.build_source_bn_loader(), 2)
    bn_buffers = [k for k in saved if k.endswith(("running_mean", "running_var"))]
    assert bn_buffers
    expected = reference.state_dict()
    for k in bn_buffers:
        torch.testing.assert_close(saved[k], expected[k], rtol=0, atol=0)
    changed = [k for k in bn_buffers if not torch.equal(saved[k], averaged.state_dict()[k])]
    assert changed, "the re-estimated statistics equal the averaged ones"

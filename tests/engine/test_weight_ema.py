"""The weight average for evaluation (``SOLVER.WEIGHT_EMA``): the warm-up rule's exact values,
and after training the model holds the average (and so do ``model_final.pth`` and the final
evaluation)."""

import copy
import itertools
from collections import defaultdict

import torch
from torch import nn

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
    """With PRECISE_BN_ITERS, the saved model has the averaged weights, and each BatchNorm layer
    the plain average over the labeled stream's batches of the batch mean and (unbiased) batch
    variance of its input under those weights, recomputed here from the layer's inputs."""
    trainer = train_with_average(tmp_path, "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "2")
    averaged = trainer.weight_ema.module
    saved = torch.load(tmp_path / "model_final.pth", weights_only=False)["model"]
    for name, param in averaged.named_parameters():
        assert torch.equal(saved[name], param), name

    reference = copy.deepcopy(averaged).train()
    inputs = defaultdict(list)
    layers = {n: m for n, m in reference.named_modules() if isinstance(m, nn.BatchNorm2d)}
    assert layers
    for name, layer in layers.items():
        layer.register_forward_pre_hook(lambda m, x, name=name: inputs[name].append(x[0]))
    with torch.no_grad():
        for batch in itertools.islice(iter(trainer.build_source_bn_loader()), 2):
            reference.segment_frames(batch)
    changed = 0
    for name in layers:
        mean = torch.stack([x.mean(dim=(0, 2, 3)) for x in inputs[name]]).mean(0)
        var = torch.stack([x.var(dim=(0, 2, 3)) for x in inputs[name]]).mean(0)
        torch.testing.assert_close(saved[f"{name}.running_mean"], mean, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(saved[f"{name}.running_var"], var, rtol=1e-4, atol=1e-6)
        changed += not torch.equal(
            saved[f"{name}.running_mean"], averaged.state_dict()[f"{name}.running_mean"]
        )
    assert changed, "the re-estimated statistics equal the averaged ones"


def test_a_periodic_evaluation_sees_the_average_with_statistics_of_its_own(
    synth_root, tmp_path, monkeypatch
):
    """TEST.EVAL_PERIOD before the last step evaluates a copy of the current average whose
    BatchNorm statistics were re-estimated; the final evaluation evaluates the model, which then
    holds the average."""
    cfg = tiny_cfg(
        "configs/synthetic/swin_source_only.yaml", "SOLVER.MAX_ITER", "4",
        "SOLVER.WEIGHT_EMA.ENABLED", "True", "SOLVER.WEIGHT_EMA.DECAY", "0.9",
        "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "2", "TEST.EVAL_PERIOD", "2",
        "DATASETS.TEST", "()", "OUTPUT_DIR", str(tmp_path),
    )  # fmt: skip
    torch.manual_seed(0)
    trainer = I2VTrainer(cfg)
    trainer.resume_or_load(resume=False)
    seen = []

    def spy(cls, cfg, model, evaluators=None):
        average = trainer.weight_ema.module
        bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        bn_average = [m for m in average.modules() if isinstance(m, nn.BatchNorm2d)]
        seen.append(
            {
                "iter": trainer.iter,
                "live": model is trainer.model,
                "weights_are_the_average": all(
                    torch.equal(a, b) for a, b in zip(model.parameters(), average.parameters())
                ),
                "own_statistics": any(
                    not torch.equal(a.running_mean, b.running_mean) for a, b in zip(bn, bn_average)
                ),
                "eval_mode": not model.training,
            }
        )
        return {}

    monkeypatch.setattr(I2VTrainer, "test", classmethod(spy))
    trainer.train()
    periodic, final = seen
    assert periodic["iter"] == 1 and not periodic["live"]
    assert periodic["weights_are_the_average"] and periodic["own_statistics"]
    assert periodic["eval_mode"]
    assert final["live"] and final["weights_are_the_average"]

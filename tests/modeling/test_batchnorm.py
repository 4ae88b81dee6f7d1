"""MODEL.I2V.UNLABELED_BN: "frozen" and "batch" keep the unlabeled pass out of the BatchNorm
running statistics (no AdaBN effect), "update" lets it in; the labeled pass updates them either
way; "batch" normalises the unlabeled pass with its own batch statistics."""

import pytest
import torch
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage
from torch.nn.modules.batchnorm import _BatchNorm

from i2v_plugin.modeling.batchnorm import unlabeled_batchnorm
from tests.helpers import tiny_cfg

DEEPLAB = "configs/synthetic/deeplab_global_davis.yaml"


def batch(labeled, unlabeled, size=64):
    def sample(domain, brightness, with_label):
        image = torch.full((3, size, size), brightness, dtype=torch.uint8)
        image += torch.randint(0, 20, (3, size, size), dtype=torch.uint8)
        d = {"image": image, "domain": domain}
        if with_label:
            d["sem_seg"] = torch.randint(0, 11, (size, size))
        return d

    return [sample("image", 40, True) for _ in range(labeled)] + [
        sample("video", 200, False) for _ in range(unlabeled)
    ]


def backbone_stats(model):
    return [m.running_mean.clone() for m in model.backbone.modules() if isinstance(m, _BatchNorm)]


def step_stats(mode, inputs):
    torch.manual_seed(0)
    model = build_model(tiny_cfg(DEEPLAB, "MODEL.I2V.UNLABELED_BN", mode)).train()
    with EventStorage(0):
        model(inputs)
    return backbone_stats(model), model


@pytest.mark.parametrize("mode, moved", [("frozen", False), ("batch", False), ("update", True)])
def test_unlabeled_pass_moves_running_statistics_only_when_updating(mode, moved):
    torch.manual_seed(1)
    inputs = batch(labeled=2, unlabeled=2)
    labeled_only, _ = step_stats("frozen", inputs[:2])
    with_unlabeled, model = step_stats(mode, inputs)
    same = all(torch.equal(a, b) for a, b in zip(labeled_only, with_unlabeled))
    assert same != moved
    assert all(m.training for m in model.modules() if isinstance(m, _BatchNorm))  # restored


def test_frozen_context_restores_train_mode_and_rejects_unknown_modes():
    model = build_model(tiny_cfg(DEEPLAB)).train()
    with unlabeled_batchnorm(model.backbone, "frozen"):
        assert not any(m.training for m in model.backbone.modules() if isinstance(m, _BatchNorm))
    assert all(m.training for m in model.backbone.modules() if isinstance(m, _BatchNorm))
    with pytest.raises(ValueError, match="UNLABELED_BN must be one of"):
        with unlabeled_batchnorm(model.backbone, "adabn"):
            pass


def test_batch_mode_normalises_with_the_batch_and_restores_the_buffers():
    bn = torch.nn.BatchNorm2d(3).train()
    before = [b.clone() for b in bn.buffers()]
    x = torch.randn(4, 3, 5, 5) * 7 + 3
    with unlabeled_batchnorm(bn, "batch"):
        out = bn(x)
        assert not torch.equal(bn.running_mean, before[0])  # train mode did update inside
    assert all(torch.equal(a, b) for a, b in zip(bn.buffers(), before))  # ... and is undone
    assert out.mean().abs() < 1e-5 and (out.std() - 1).abs() < 0.05  # batch statistics
    with unlabeled_batchnorm(bn, "frozen"):
        frozen = bn(x)
    assert frozen.mean() > 1.0  # running statistics (mean 0, var 1): x is not centred

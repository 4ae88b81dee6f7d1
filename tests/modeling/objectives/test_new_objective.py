"""A new objective registered from this test file alone trains through the real trainer, with
no edit under ``i2v_plugin/``: a CORAL-style loss (Sun & Saenko, 2016) that matches the
second-order statistics of image and video patch-embedding features."""

import json

import pytest
import torch
from detectron2.utils.events import get_event_storage

from i2v_plugin.data import build_i2v_train_loader
from i2v_plugin.engine.trainer import I2VTrainer
from i2v_plugin.modeling.objectives import (
    OBJECTIVE_REGISTRY,
    TrainingObjective,
    required_inputs,
)
from tests.helpers import tiny_cfg


def covariance(x: torch.Tensor) -> torch.Tensor:
    centred = x - x.mean(dim=0, keepdim=True)
    return centred.T @ centred / max(1, x.shape[0] - 1)


@OBJECTIVE_REGISTRY.register()
class CoralAlignment(TrainingObjective):
    """``loss_coral``: squared Frobenius distance between the image and video covariances of
    the pooled "spatial" map, over 4 C^2. Listed in MODEL.I2V.OBJECTIVES = enabled."""

    unlabeled_input = "frames"
    needs_both_domains = True

    def __init__(self, feature: str):
        super().__init__("coral")
        self.feature = feature

    @classmethod
    def enabled(cls, cfg) -> bool:
        return True

    @classmethod
    def build(cls, cfg, backbone, sem_seg_head):
        return [cls(backbone.placement_features["spatial"])]

    @property
    def taps(self):
        return [self.feature]

    def forward(self, step):
        tapped, domains = step.tapped()
        pooled = tapped[self.feature].mean(dim=(2, 3))
        gap = covariance(pooled[domains == 0]) - covariance(pooled[domains == 1])
        loss = gap.pow(2).sum() / (4 * pooled.shape[1] ** 2)
        get_event_storage().put_scalar("i2v/coral", loss.item(), smoothing_hint=False)
        return {"loss_coral": loss}


OPTS = [
    "MODEL.I2V.OBJECTIVES", "['PlacementAdversarial', 'CoralAlignment']",
    "DATASETS.TRAIN_UNLABELED", "('i2v_synth_videos_train',)",
]  # fmt: skip


def test_the_loader_is_told_what_the_new_objective_needs(synth_root):
    needs = required_inputs(tiny_cfg("configs/synthetic/swin_source_only.yaml", *OPTS))
    assert needs.unlabeled and needs.both_domains and not needs.frame_pairs
    images_only = tiny_cfg("configs/synthetic/swin_source_only.yaml", *OPTS[:2])
    with pytest.raises(ValueError, match="needs both domains"):
        build_i2v_train_loader(images_only)


def test_a_new_objective_trains_two_iterations(synth_root, tmp_path):
    cfg = tiny_cfg(
        "configs/synthetic/swin_source_only.yaml", *OPTS, "SOLVER.MAX_ITER", "2",
        "DATASETS.TEST", "()", "OUTPUT_DIR", str(tmp_path),
    )  # fmt: skip
    torch.manual_seed(0)
    trainer = I2VTrainer(cfg)
    assert list(trainer.model.objectives) == ["coral"]
    before = trainer.model.backbone.swin.patch_embed.proj.weight.detach().clone()
    trainer.resume_or_load(resume=False)
    trainer.train()
    with open(tmp_path / "metrics.json") as f:
        records = [json.loads(line) for line in f]
    last = [r for r in records if "loss_coral" in r][-1]
    assert last["iteration"] == 1 and last["loss_coral"] > 0 and last["i2v/coral"] > 0
    assert not torch.equal(before, trainer.model.backbone.swin.patch_embed.proj.weight)

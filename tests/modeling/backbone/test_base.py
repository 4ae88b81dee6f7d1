"""``TappableBackbone``: the shared contract (stage names, early stop, size divisibility, taps,
clips) lets a new backbone and a newly registered discriminator work with the adversarial objectives
without editing any other file."""

import pytest
import torch
from detectron2.utils.events import EventStorage
from torch import nn

from i2v_plugin.modeling.adversarial.discriminators import (
    DISCRIMINATOR_REGISTRY,
    DomainDiscriminator,
)
from i2v_plugin.modeling.backbone.base import TappableBackbone
from i2v_plugin.modeling.objectives import build_objectives
from tests.helpers import tiny_cfg


class FixedStep:
    """The part of a ``TrainingStep`` the adversarial objectives read: the tapped maps of every
    sample, their domains, and the iteration."""

    iteration = 0

    def __init__(self, features, domains):
        self.features, self.domains = features, domains

    def tapped(self):
        return self.features, self.domains


class ToyBackbone(TappableBackbone):
    """Two strided convs: "stem" (stride 2) and "deep" (stride 4)."""

    stage_names = ("stem", "deep")

    def __init__(self, out_features=("deep",)):
        super().__init__({"stem": 4, "deep": 8}, {"stem": 2, "deep": 4}, out_features)
        self.stem = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.deep = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.calls = []

    def run_stage(self, name, x):
        self.calls.append(name)
        return getattr(self, name)(x)


@DISCRIMINATOR_REGISTRY.register()
class CountingDiscriminator(DomainDiscriminator):
    """A dense discriminator registered by a test: mean of a 1x1 conv."""

    dense = True

    def __init__(self, in_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 1, 1)

    def forward(self, x):
        return self.conv(x).mean(dim=(1, 2, 3))


def test_the_contract_is_derived_from_the_stage_table():
    backbone = ToyBackbone()
    assert backbone.size_divisibility == 4
    assert backbone.placement_features["spatial"] == "stem"
    assert backbone.placement_features["global"] == "deep"
    assert {k: (s.channels, s.stride) for k, s in backbone.feature_shapes().items()} == {
        "stem": (4, 2),
        "deep": (8, 4),
    }
    assert list(backbone.output_shape()) == ["deep"]


def test_forward_stops_after_the_deepest_requested_stage():
    backbone = ToyBackbone()
    out = backbone(torch.randn(2, 3, 16, 16), out_features=["stem"])
    assert list(out) == ["stem"] and out["stem"].shape == (2, 4, 8, 8)
    assert backbone.calls == ["stem"]


def test_unknown_names_and_wrong_input_layouts_are_clear_errors():
    backbone = ToyBackbone()
    with pytest.raises(ValueError, match="unknown or empty out_features"):
        backbone(torch.randn(1, 3, 8, 8), out_features=["res9"])
    with pytest.raises(ValueError, match=r"takes images \(B, C, H, W\)"):
        backbone(torch.randn(1, 3, 2, 8, 8))


def test_forward_frames_folds_time_into_the_batch_clip_major():
    backbone = ToyBackbone()
    clips = torch.randn(2, 3, 3, 16, 16)
    frames = backbone.forward_frames(clips, ["deep"])["deep"]
    assert frames.shape == (6, 8, 4, 4)
    assert torch.allclose(frames[4], backbone(clips[1, 1:2])["deep"][0], atol=1e-6)


def test_a_new_backbone_and_a_new_discriminator_train_without_editing_the_builder():
    cfg = tiny_cfg(
        "configs/synthetic/swin_source_only.yaml",
        "MODEL.I2V.PLACEMENTS", "['spatial', 'global']",
        "MODEL.I2V.DISCRIMINATORS", "['CountingDiscriminator', 'MLPDiscriminator']",
        "INPUT.CROP.SIZE", "(16, 16)",
    )  # fmt: skip
    objectives = build_objectives(cfg, ToyBackbone())
    assert sorted(t for o in objectives.values() for t in o.taps) == ["deep", "stem"]
    step = FixedStep(
        {"stem": torch.randn(4, 4, 8, 8), "deep": torch.randn(4, 8, 4, 4)},
        torch.tensor([0, 0, 1, 1]),
    )
    with EventStorage(0):
        losses = {k: v for o in objectives.values() for k, v in o(step).items()}
    assert set(losses) == {"loss_adv_spatial", "loss_adv_global"}
    sum(losses.values()).backward()
    assert all(p.grad is not None for o in objectives.values() for p in o.parameters())


def test_a_module_that_is_not_a_domain_discriminator_is_refused():
    cfg = tiny_cfg(
        "configs/synthetic/swin_source_only.yaml",
        "MODEL.I2V.PLACEMENTS", "['spatial']",
        "MODEL.I2V.DISCRIMINATORS", "['PairDiscriminator']",
        "INPUT.CROP.SIZE", "(16, 16)",
    )  # fmt: skip
    with pytest.raises(ValueError, match="not a general domain discriminator"):
        build_objectives(cfg, ToyBackbone())

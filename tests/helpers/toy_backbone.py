"""A toy backbone and its weight converters, registered from the tests alone (no file of
``i2v_plugin/`` or ``tools/`` names it): importing this module registers

- ``build_toy_test_backbone`` in Detectron2's ``BACKBONE_REGISTRY`` (``ToyBackbone``, a
  ``TappableBackbone`` with stages "stem" and "res2" and a stage norm ``out_norms.res2``);
- its weights: import source "toy-home" (``ToyHome`` checkpoints -> plugin names) and an
  exporter to ``ToyHome``, the toy's "home library" model, whose ``head`` is a classifier.
"""

import torch
from detectron2.modeling import BACKBONE_REGISTRY
from torch import nn

from i2v_plugin.modeling.backbone.base import TappableBackbone
from i2v_plugin.modeling.weights import (
    BackboneExporter,
    ConversionReport,
    HomeModel,
    inverse_names,
    one_step_importer,
    register_backbone_weights,
)
from i2v_plugin.modeling.weights.conversion import rename_by_rules, rename_tensors

TOY_BUILDER = "build_toy_test_backbone"
TOY_SOURCE = "toy-home"
WIDTH = 4


class ToyBackbone(TappableBackbone):
    """stem: 2x2 conv, stride 2; res2: 2x2 conv + BatchNorm, stride 4, then a LayerNorm over
    channels (the stage norm)."""

    stage_names = ("stem", "res2")

    def __init__(self):
        super().__init__(
            channels={"stem": WIDTH, "res2": 2 * WIDTH},
            strides={"stem": 2, "res2": 4},
            out_features=["res2"],
        )
        self.stem = nn.Conv2d(3, WIDTH, 2, stride=2)
        self.body = nn.Sequential(
            nn.Conv2d(WIDTH, 2 * WIDTH, 2, stride=2), nn.BatchNorm2d(2 * WIDTH)
        )
        self.out_norms = nn.ModuleDict({"res2": nn.LayerNorm(2 * WIDTH)})

    def run_stage(self, name: str, state: torch.Tensor) -> torch.Tensor:
        return self.stem(state) if name == "stem" else self.body(state)

    def stage_map(self, name: str, state: torch.Tensor) -> torch.Tensor:
        if name == "stem":
            return state
        return self.out_norms[name](state.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ToyHome(nn.Module):
    """The toy's home-library model: other names, a classifier ``head`` the export leaves out."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.patchify = nn.Conv2d(3, WIDTH, 2, stride=2)
        self.encoder = nn.Sequential(
            nn.Conv2d(WIDTH, 2 * WIDTH, 2, stride=2), nn.BatchNorm2d(2 * WIDTH)
        )
        self.norm = nn.LayerNorm(2 * WIDTH)
        self.head = nn.Linear(2 * WIDTH, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 8, H/4, W/4), the toy backbone's res2."""
        tokens = self.encoder(self.patchify(x)).permute(0, 2, 3, 1)
        return self.norm(tokens).permute(0, 3, 1, 2)


_RULES = [
    (r"patchify\.(\w+)", r"backbone.stem.\1"),
    (r"encoder\.(.+)", r"backbone.body.\1"),
    (r"norm\.(\w+)", r"backbone.out_norms.res2.\1"),
]


def convert_toy_home(state_dict: dict) -> tuple[dict, ConversionReport]:
    """``ToyHome`` state dict -> ``ToyBackbone`` names (``backbone.*``); the head is dropped."""
    report = ConversionReport(TOY_SOURCE)
    out = rename_tensors(
        state_dict,
        lambda key: rename_by_rules(key, _RULES),
        report,
        unmatched="not part of the toy backbone",
        drop=[("head.", "classifier")],
    )
    return out, report


def toy_home(cfg) -> HomeModel:
    model = ToyHome()
    record = {"library": "toy", "build": "ToyHome()"}
    return HomeModel(model, record, inverse_names(convert_toy_home, model.state_dict()))


@BACKBONE_REGISTRY.register()
def build_toy_test_backbone(cfg, input_shape):
    return ToyBackbone()


register_backbone_weights(
    TOY_BUILDER,
    importers={TOY_SOURCE: one_step_importer(convert_toy_home)},
    exporter=BackboneExporter(
        signature="backbone.body.0.weight",
        label="Toy (ToyHome)",
        home=toy_home,
        stage_norms=("res2",),
    ),
)

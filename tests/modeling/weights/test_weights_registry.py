"""The weights registry (``modeling/weights/registry.py``) and the shared renaming pass
(``conversion.py``): every plugin backbone has its converters registered under its builder
name; registering twice, or for an unknown builder, is an error; a config whose backbone has no
exporter, or a checkpoint of another backbone, is refused by name."""

import dataclasses
import os

import pytest
import torch

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.weights import (
    BackboneExporter,
    ConversionReport,
    ExportError,
    export_encoder,
    exporters,
    import_checkpoint,
    import_sources,
    register_backbone_weights,
    registry,
)
from i2v_plugin.modeling.weights.conversion import rename_by_rules, rename_tensors
from tests.helpers import REPO_ROOT

SWIN_CONFIG = os.path.join(REPO_ROOT, "configs/swin_clustered.yaml")


@pytest.fixture
def isolated_registry(monkeypatch):
    """Registrations made by a test are forgotten after it."""
    copy = {
        name: dataclasses.replace(entry, importers=dict(entry.importers))
        for name, entry in registry._BACKBONES.items()
    }
    monkeypatch.setattr(registry, "_BACKBONES", copy)


def test_every_plugin_backbone_has_its_converters():
    # Test files may register toy backbones ("build_toy..."); the plugin's own are these.
    sources = {s: b for s, b in import_sources().items() if not b.startswith("build_toy")}
    assert sources == {
        "torchvision-deeplabv3": "build_i2v_resnet_deeplab_backbone",
        "timm-swin": "build_swin_backbone",
        "mmseg-upernet-swin": "build_swin_backbone",
        "inflate-video-swin": "build_video_swin_backbone",
    }
    plugin = {name: e.label for name, e in exporters().items() if not name.startswith("build_toy")}
    assert plugin == {
        "build_i2v_resnet_deeplab_backbone": "DeepLab ResNet (Detectron2)",
        "build_swin_backbone": "Swin (timm)",
        "build_video_swin_backbone": "VideoSwin (torchvision)",
    }


def test_registering_twice_or_for_an_unknown_builder_fails(isolated_registry):
    with pytest.raises(KeyError, match="not in Detectron2's BACKBONE_REGISTRY"):
        register_backbone_weights("build_no_such_backbone", importers={"x": None})
    with pytest.raises(ValueError, match="'timm-swin' is already registered"):
        register_backbone_weights("build_i2v_resnet_deeplab_backbone", importers={"timm-swin": 0})
    exporter = BackboneExporter(signature="backbone.x", label="X", home=lambda cfg: None)
    with pytest.raises(ValueError, match="already has an exporter"):
        register_backbone_weights("build_swin_backbone", exporter=exporter)
    # A backbone of Detectron2's own gets converters without touching the plugin's.
    register_backbone_weights("build_resnet_backbone", importers={"new-source": None})
    assert import_sources()["new-source"] == "build_resnet_backbone"


def test_unknown_source_is_named_with_the_registered_ones():
    with pytest.raises(KeyError, match="'no-such-source'.*timm-swin"):
        import_checkpoint("no-such-source", {})


def test_export_refuses_a_backbone_without_exporter_and_another_backbone():
    cfg = build_cfg(SWIN_CONFIG, ["MODEL.BACKBONE.NAME", "build_resnet_backbone"])
    with pytest.raises(ExportError, match="'build_resnet_backbone' has no export layout"):
        export_encoder(cfg, {"backbone.stem.conv1.weight": torch.zeros(1)})
    deeplab = {"backbone.stem.conv1.weight": torch.zeros(64, 3, 7, 7)}
    with pytest.raises(ExportError, match=r"DeepLab ResNet.*Swin \(timm\).*trained with"):
        export_encoder(build_cfg(SWIN_CONFIG), deeplab, "deeplab.pth")


def test_rename_tensors_drops_skips_and_checks_the_classifier():
    source = {
        "aux.w": torch.zeros(1),
        "blocks.0.attn_mask": torch.zeros(1),
        "a.weight": torch.zeros(2),
        "cls.weight": torch.zeros(5, 3),
        "other": torch.zeros(1),
    }
    rules = [
        (r"a\.(\w+)", r"backbone.a.\1"),
        (r"cls\.(\w+)", lambda m: f"sem_seg_head.predictor.{m[1]}"),
    ]
    report = ConversionReport("test")
    out = rename_tensors(
        source,
        lambda key: rename_by_rules(key, rules),
        report,
        unmatched="nowhere",
        drop=[("aux.", "auxiliary")],
        num_classes=4,
        transform=lambda key, value: value + 1,
    )
    assert list(out) == ["backbone.a.weight"] and torch.equal(
        out["backbone.a.weight"], torch.ones(2)
    )
    assert report.converted == 1 and report.skipped_buffers == 1
    assert report.dropped == {
        "aux.w": "auxiliary",
        "cls.weight": "classifier for 5 classes; the model has 4",
        "other": "nowhere",
    }
    kept = rename_tensors(
        source, lambda key: rename_by_rules(key, rules), ConversionReport("t"), unmatched=""
    )
    assert kept["sem_seg_head.predictor.weight"] is source["cls.weight"]

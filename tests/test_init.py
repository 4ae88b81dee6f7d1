"""Importing i2v_plugin registers every component; configs are checked by Detectron2 itself."""

import glob
import os

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import BACKBONE_REGISTRY, META_ARCH_REGISTRY, SEM_SEG_HEADS_REGISTRY

import i2v_plugin
from i2v_plugin.modeling.adversarial import DISCRIMINATOR_REGISTRY
from tests.helpers import REPO_ROOT, tiny_cfg

SYNTH_SPLITS = [
    "i2v_synth_images_train",
    "i2v_synth_images_val",
    "i2v_synth_videos_train",
    "i2v_synth_videos_train_labeled",
    "i2v_synth_videos_val",
    "i2v_synth_images_val_as_video",
]


def test_components_are_registered():
    assert META_ARCH_REGISTRY.get("I2VSemanticSegmentor") is i2v_plugin.I2VSemanticSegmentor
    assert BACKBONE_REGISTRY.get("build_swin_backbone")
    assert SEM_SEG_HEADS_REGISTRY.get("UperNetHead") is i2v_plugin.UperNetHead
    for name in (
        "MLPDiscriminator",
        "ConvDiscriminator",
        "PatchGANDiscriminator",
        "PairDiscriminator",
    ):
        assert DISCRIMINATOR_REGISTRY.get(name)


def test_synthetic_splits_are_registered_with_metadata():
    for name in SYNTH_SPLITS:
        assert name in DatasetCatalog.list()
        meta = MetadataCatalog.get(name)
        assert len(meta.stuff_classes) == 11 and meta.ignore_label == 255
    assert MetadataCatalog.get("i2v_synth_images_val").evaluator_type == "sem_seg"
    assert MetadataCatalog.get("i2v_synth_videos_val").evaluator_type == "video_sem_seg"


def test_unknown_config_key_fails_with_detectron2_error(tmp_path):
    # On the command line yacs asserts; in a YAML file fvcore raises KeyError. Both name the key.
    with pytest.raises(AssertionError, match="Non-existent key: MODEL.I2V.NOT_A_KEY"):
        tiny_cfg("configs/synthetic/swin_source_only.yaml", "MODEL.I2V.NOT_A_KEY", "1")
    bad = tmp_path / "bad.yaml"
    base = os.path.join(REPO_ROOT, "configs", "synthetic", "swin_source_only.yaml")
    bad.write_text(f'_BASE_: "{base}"\nMODEL:\n  I2V:\n    NOT_A_KEY: 1\n')
    with pytest.raises(KeyError, match="Non-existent config key: MODEL.I2V.NOT_A_KEY"):
        tiny_cfg(str(bad))


def test_every_shipped_config_loads():
    configs = []
    for folder, _, files in os.walk(os.path.join(REPO_ROOT, "configs")):
        # (configs/experiments.yaml is the experiment manifest, not a Detectron2 config.)
        configs += [
            os.path.join(folder, f)
            for f in files
            if f.endswith(".yaml") and f != "experiments.yaml"
        ]
    assert len(configs) >= 4
    # The paper rows (configs/paper/*.yaml) are among them.
    paper = glob.glob(os.path.join(REPO_ROOT, "configs", "paper", "*.yaml"))
    assert paper and set(paper) <= set(configs)
    for path in configs:
        cfg = tiny_cfg(os.path.relpath(path, REPO_ROOT))
        assert cfg.MODEL.META_ARCHITECTURE == "I2VSemanticSegmentor"

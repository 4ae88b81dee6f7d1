"""configs/paper: one config per row of Tables 1-6, each quoting its row and setting what the row
says (backbone, loss, training and test data, batch composition)."""

import glob
import os
import re

import pytest
from detectron2.data import MetadataCatalog

import i2v_plugin  # noqa: F401  (registers the datasets named by the configs)
from i2v_plugin.engine.setup import build_cfg
from tests.helpers import REPO_ROOT

PAPER_DIR = os.path.join(REPO_ROOT, "configs", "paper")
ROWS = {
    1: ["source_only", "spatial", "global", "clustered"],
    2: ["davis_labeled", "coco_davis_labeled"]
    + [f"coco_davis_labeled_{loss}" for loss in ("spatial", "global", "clustered")],
    3: ["source_only", "spatial", "davis_labeled", "coco_davis_labeled"]
    + ["coco_davis_labeled_spatial"],
    4: [f"{net}_{row}" for net in ("cnn", "transformer") for row in ("source_only", "global_davis")]
    + ["cnn_global_voc", "transformer_global_voc"],
    5: ["fbms_source_only", "fbms_spatial"],
    6: [f"clustered_k{k}" for k in (2, 5, 11, 22)],
}
PAPER_CONFIGS = sorted(f"table{t}_{row}" for t, rows in ROWS.items() for row in rows)
BACKBONES = {
    "swin": "build_swin_backbone",
    "video_swin": "build_video_swin_backbone",
    "cnn": "build_i2v_resnet_deeplab_backbone",
}
COCO, DAVIS = "coco_stuff_shared_train", "davis2017_semantic_train"


def load(name: str):
    return build_cfg(os.path.join(PAPER_DIR, f"{name}.yaml"))


def adversarial(cfg) -> set[str]:
    """The adversarial losses a config turns on."""
    losses = set(cfg.MODEL.I2V.PLACEMENTS)
    if cfg.MODEL.I2V.CLUSTER.ENABLED:
        losses.add("clustered")
    return losses


def test_the_folder_holds_exactly_the_rows():
    found = sorted(os.path.basename(p)[: -len(".yaml")] for p in glob.glob(f"{PAPER_DIR}/*.yaml"))
    assert found == PAPER_CONFIGS


@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_row_is_quoted_first_and_inherits_in_the_repo(name):
    with open(os.path.join(PAPER_DIR, f"{name}.yaml")) as f:
        text = f.read()
    table = name.split("_")[0][len("table") :]
    assert re.match(rf'# Table {table}, row "[^"]+"', text), text.splitlines()[0]
    bases = re.findall(r'^_BASE_: "([^"]+)"', text, flags=re.M)
    assert len(bases) == 1
    base = os.path.realpath(os.path.join(PAPER_DIR, bases[0]))
    assert base.startswith(os.path.join(REPO_ROOT, "configs") + os.sep) and os.path.isfile(base)
    cfg = load(name)
    assert cfg.OUTPUT_DIR == f"output/paper/{name}"
    assert cfg.MODEL.META_ARCHITECTURE == "I2VSemanticSegmentor"


@pytest.mark.parametrize("name", ROWS[1] + ROWS[6])
def test_swin_coco_to_davis_rows(name):
    table = 1 if name in ROWS[1] else 6
    cfg = load(f"table{table}_{name}")
    assert cfg.MODEL.BACKBONE.NAME == BACKBONES["swin"]
    assert list(cfg.DATASETS.TRAIN) == [COCO]
    assert list(cfg.DATASETS.TEST) == ["davis2017_semantic_val"]
    expected = {"source_only": set()}.get(name, {name if table == 1 else "clustered"})
    assert adversarial(cfg) == expected
    if expected:
        assert list(cfg.DATASETS.TRAIN_UNLABELED) == ["davis2017_unlabeled_train"]
        assert (cfg.SOLVER.IMS_PER_BATCH_LABELED, cfg.SOLVER.IMS_PER_BATCH_UNLABELED) == (4, 4)
    if table == 6:
        assert cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS == int(name.split("_k")[1])


@pytest.mark.parametrize("table, backbone", [(2, "swin"), (3, "video_swin")])
def test_labeled_video_rows(table, backbone):
    for name in ROWS[table]:
        cfg = load(f"table{table}_{name}")
        assert cfg.MODEL.BACKBONE.NAME == BACKBONES[backbone], name
        if name == "davis_labeled":
            assert list(cfg.DATASETS.TRAIN) == [DAVIS] and not adversarial(cfg)
        elif name.startswith("coco_davis_labeled"):
            # The paper's joint batch: 4 labeled images + 4 labeled frames, one stream each; both
            # domains are in the labeled batch, so no unlabeled stream.
            assert list(cfg.DATASETS.TRAIN) == [COCO, DAVIS]
            assert list(cfg.DATASETS.TRAIN_SAMPLES_PER_STEP) == [4, 4]
            assert cfg.SOLVER.IMS_PER_BATCH_LABELED == 8
            assert not cfg.DATASETS.TRAIN_UNLABELED
            loss = name[len("coco_davis_labeled_") :]
            assert adversarial(cfg) == ({loss} if loss else set())
        else:
            assert list(cfg.DATASETS.TRAIN) == [COCO]
            assert adversarial(cfg) == ({"spatial"} if name == "spatial" else set())
        if backbone == "video_swin":
            assert cfg.INPUT.CLIP.LENGTH > 1
            if adversarial(cfg):
                assert list(cfg.MODEL.I2V.DISCRIMINATORS) == ["PatchGANDiscriminator"]


@pytest.mark.parametrize("name", ROWS[4])
def test_unlabeled_images_rows_are_tested_on_davis_and_coco(name):
    cfg = load(f"table4_{name}")
    net = name.split("_")[0]
    assert cfg.MODEL.BACKBONE.NAME == BACKBONES["cnn" if net == "cnn" else "swin"]
    assert list(cfg.DATASETS.TEST) == ["davis2017_semantic_val", "coco_stuff_shared_val"]
    # The trainer builds each test set's own evaluator from its metadata.
    types = [MetadataCatalog.get(d).evaluator_type for d in cfg.DATASETS.TEST]
    assert types == ["video_sem_seg", "sem_seg"]
    if name.endswith("source_only"):
        assert not adversarial(cfg)
    else:
        assert adversarial(cfg) == {"global"}
        unlabeled = "voc2012_unlabeled_train_as_video" if name.endswith("voc") else "davis2017"
        assert cfg.DATASETS.TRAIN_UNLABELED[0].startswith(unlabeled)
        if net == "cnn":
            assert list(cfg.MODEL.I2V.DISCRIMINATORS) == ["ConvDiscriminator"]


def test_fbms_rows_use_the_general_spatial_loss():
    source_only, spatial = load("table5_fbms_source_only"), load("table5_fbms_spatial")
    for cfg in (source_only, spatial):
        assert list(cfg.DATASETS.TEST) == ["fbms59_val"]
        # Foreground/background ground truth by default, scored from the multi-class model.
        assert cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES == 12
    assert not adversarial(source_only)
    assert adversarial(spatial) == {"spatial"}
    assert list(spatial.DATASETS.TRAIN_UNLABELED) == ["fbms59_unlabeled_train"]

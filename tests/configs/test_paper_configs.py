"""configs/paper: one config per row of the paper's Tables 1-6 (the manifest's tables), each
quoting its row and figure first and setting what the row's printed cells say (backbone, loss,
labeled and unlabeled data, batch composition, test set)."""

import glob
import os
import re

import pytest
from detectron2.data import MetadataCatalog

import i2v_plugin  # noqa: F401  (registers the datasets named by the configs)
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.experiments.manifest import load_manifest
from tests.helpers import REPO_ROOT

MANIFEST = load_manifest()
PAPER_DIR = os.path.join(REPO_ROOT, "configs", "paper")
# (table, row) for every paper row with a config; one config may give several rows (Table 4).
ROWS = [
    (table.number, row) for table in MANIFEST.tables.values() for row in table.rows if row.config
]
PAPER_CONFIGS = sorted({row.config for _, row in ROWS})
BACKBONES = {
    "swin": "build_swin_backbone",
    "video_swin": "build_video_swin_backbone",
    "cnn": "build_i2v_resnet_deeplab_backbone",
}
TABLE_BACKBONE = {1: "cnn", 2: "swin", 3: "video_swin", 5: "swin", 6: "swin"}
COCO, DAVIS = "coco_stuff_shared_train", "davis2017_semantic_train"
LABELED = {"COCO": [COCO], "Davis": [DAVIS], "COCO+Davis": [COCO, DAVIS]}
UNLABELED = {
    "Davis": "davis2017_unlabeled_train",
    "YTBB": "ytbb_videos_train",
    "Pascal": "voc2012_unlabeled_train_as_video",
    "FBMS": "fbms59_unlabeled_train",
}
TEST = {"Davis": "davis2017_semantic_val", "COCO": "coco_stuff_shared_val"}


def load(config: str):
    return build_cfg(os.path.join(REPO_ROOT, config))


def adversarial(cfg) -> set[str]:
    """The adversarial losses a config turns on."""
    losses = set(cfg.MODEL.I2V.PLACEMENTS)
    if cfg.MODEL.I2V.CLUSTER.ENABLED:
        losses.add("clustered")
    return losses


def cells(table_number, row) -> dict[str, str]:
    """The row's printed cells by column name, spaces removed ("COCO + Davis" = "COCO+Davis")."""
    columns = MANIFEST.tables[table_number].columns
    return {c: v.replace(" ", "") for c, v in zip(columns, row.cells)}


def test_the_folder_holds_exactly_the_rows_configs():
    found = sorted(os.path.relpath(p, REPO_ROOT) for p in glob.glob(f"{PAPER_DIR}/*.yaml"))
    assert found == PAPER_CONFIGS
    for config in PAPER_CONFIGS:
        name = os.path.basename(config)[: -len(".yaml")]
        tables = {n for n, row in ROWS if row.config == config}
        assert tables == {int(re.match(r"table(\d+)_", name).group(1))}, config


@pytest.mark.parametrize("config", PAPER_CONFIGS)
def test_row_and_figures_are_quoted_first_and_inheritance_stays_in_the_repo(config):
    with open(os.path.join(REPO_ROOT, config)) as f:
        text = f.read()
    first_comment = re.match(r"((?:#[^\n]*\n)+)", text).group(1)
    rows = [(n, row) for n, row in ROWS if row.config == config]
    table = rows[0][0]
    assert re.match(rf'# Table {table}, rows? "[^"]+"', first_comment), first_comment
    for _, row in rows:
        quoted = " | ".join(row.cells)
        assert f'"{quoted}"' in first_comment.replace("\n# ", " "), (quoted, first_comment)
        figures = [row.paper] + ([row.delta] if row.delta else [])
        for figure in figures:
            assert re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d])", first_comment), figure
    bases = re.findall(r'^_BASE_: "([^"]+)"', text, flags=re.M)
    assert len(bases) == 1
    base = os.path.realpath(os.path.join(PAPER_DIR, bases[0]))
    assert base.startswith(os.path.join(REPO_ROOT, "configs") + os.sep) and os.path.isfile(base)
    cfg = load(config)
    assert cfg.OUTPUT_DIR == f"output/paper/{os.path.basename(config)[: -len('.yaml')]}"
    assert cfg.MODEL.META_ARCHITECTURE == "I2VSemanticSegmentor"


@pytest.mark.parametrize(
    "table, row", ROWS, ids=[f"table{n}_row{row.index}" for n, row in ROWS]
)  # fmt: skip
def test_the_config_does_what_the_printed_row_says(table, row):
    cfg, row_cells = load(row.config), cells(table, row)
    backbone = (
        TABLE_BACKBONE.get(table) or {"CNN": "cnn", "Transformer": "swin"}[row_cells["Model"]]
    )
    assert cfg.MODEL.BACKBONE.NAME == BACKBONES[backbone]
    losses = adversarial(cfg)
    if table == 6:
        assert losses == {"clustered"}
        assert cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS == int(row_cells["K"])
    else:
        assert bool(losses) == (row_cells["Adv"] == "✓")
        labeled = LABELED[row_cells["Labeled"]]
        assert list(cfg.DATASETS.TRAIN) == labeled
        if len(labeled) == 2:  # the paper's joint batch: 4 labeled images + 4 labeled frames
            assert list(cfg.DATASETS.TRAIN_SAMPLES_PER_STEP) == [4, 4]
            assert cfg.SOLVER.IMS_PER_BATCH_LABELED == 8
            assert not cfg.DATASETS.TRAIN_UNLABELED
    unlabeled = row_cells.get("Unlabeled", "Davis")
    if losses and unlabeled != "–":
        assert list(cfg.DATASETS.TRAIN_UNLABELED) == [UNLABELED[unlabeled]]
        assert (cfg.SOLVER.IMS_PER_BATCH_LABELED, cfg.SOLVER.IMS_PER_BATCH_UNLABELED) == (4, 4)
    if row_cells.get("Cluster") == "✓":
        assert losses == {"clustered"} and cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS == 11
    if backbone == "cnn" and losses:
        assert losses == {"global"} and list(cfg.MODEL.I2V.DISCRIMINATORS) == ["ConvDiscriminator"]
    if backbone == "video_swin":
        assert cfg.INPUT.CLIP.LENGTH > 1
        if losses:
            assert losses == {"spatial"}
            assert list(cfg.MODEL.I2V.DISCRIMINATORS) == ["PatchGANDiscriminator"]
    if table in (4,):
        assert losses <= {"global"}
        assert list(cfg.DATASETS.TEST) == ["davis2017_semantic_val", "coco_stuff_shared_val"]
        assert row.test == TEST[row_cells["Test"]]
    elif table == 5:
        assert list(cfg.DATASETS.TEST) == ["fbms59_val"]
        assert losses <= {"spatial"}
    else:
        assert list(cfg.DATASETS.TEST) == ["davis2017_semantic_val"]


def test_table2_general_rows_printed_spatial_twice_lower_one_is_global():
    table = MANIFEST.tables[2]
    for first, second in ((2, 3), (7, 8)):
        low, high = table.rows[first - 1], table.rows[second - 1]
        assert low.cells == high.cells and "Spatial" in low.cells
        assert low.figure < high.figure
        assert adversarial(load(low.config)) == {"global"}
        assert adversarial(load(high.config)) == {"spatial"}


def test_table4_rows_are_tested_on_davis_and_coco_by_their_own_evaluators():
    for config in {row.config for n, row in ROWS if n == 4}:
        cfg = load(config)
        types = [MetadataCatalog.get(d).evaluator_type for d in cfg.DATASETS.TEST]
        assert types == ["video_sem_seg", "sem_seg"]


def test_fbms_rows_score_the_multi_class_model():
    for _, row in (r for r in ROWS if r[0] == 5):
        # Foreground/background ground truth by default, scored from the multi-class model.
        assert load(row.config).MODEL.SEM_SEG_HEAD.NUM_CLASSES == 12

"""Every config of the paper's tables (configs/experiments.yaml) trains for 2 iterations on
generated data: each paper config (model, losses, batch composition and test sets as shipped;
only the datasets are swapped for the tiny synthetic benchmark's, split for split, and the model
is made small, as the synthetic configs make it) and each table's synthetic analogue (its config
and overrides, the model made small)."""

import json

import pytest
import torch

from i2v_plugin.engine.trainer import I2VTrainer
from i2v_plugin.experiments.manifest import load_manifest
from tests.configs.test_paper_configs import PAPER_CONFIGS, adversarial
from tests.helpers import tiny_cfg

pytestmark = pytest.mark.slow

MANIFEST = load_manifest()
SYNTHETIC = sorted(
    {e.name for n in MANIFEST.runnable_tables for e in MANIFEST.table_experiments(n)}
)

# Each real split's stand-in in the synthetic benchmark: same domain, same labeled-ness.
STAND_INS = {
    "coco_stuff_shared_train": "i2v_synth_images_train",
    "davis2017_semantic_train": "i2v_synth_videos_train_labeled",
    "davis2017_unlabeled_train": "i2v_synth_videos_train",
    "ytbb_videos_train": "i2v_synth_videos_train",
    "fbms59_unlabeled_train": "i2v_synth_videos_train",
    "voc2012_unlabeled_train_as_video": "i2v_synth_images_train_as_video",
    "davis2017_semantic_val": "i2v_synth_videos_val",
    "fbms59_val": "i2v_synth_videos_val",
    "coco_stuff_shared_val": "i2v_synth_images_val",
}
SMALL_MODEL = [
    "MODEL.WEIGHTS", "",
    "MODEL.DEVICE", "cpu",
    "MODEL.SEM_SEG_HEAD.NUM_CLASSES", "11",
    "MODEL.SWIN.DEPTHS", "[2, 2, 2, 2]",
    "MODEL.SWIN.WINDOW_SIZE", "4",  # window 7 pads every 64 px frame to 224 px
    "MODEL.VIDEO_SWIN.WINDOW_SIZE", "[2, 4, 4]",
    "MODEL.VIDEO_SWIN.EMBED_DIM", "16",
    "MODEL.VIDEO_SWIN.NUM_HEADS", "[1, 1, 2, 2]",
    "MODEL.VIDEO_SWIN.DEPTHS", "[2, 2, 2, 2]",
    "MODEL.RESNETS.DEPTH", "50",
    "MODEL.RESNETS.STEM_OUT_CHANNELS", "32",
    "MODEL.RESNETS.RES2_OUT_CHANNELS", "64",
    "MODEL.RESNETS.WIDTH_PER_GROUP", "16",
    "MODEL.SEM_SEG_HEAD.ASPP_CHANNELS", "32",
    "INPUT.MIN_SIZE_TEST", "64",
    "INPUT.MAX_SIZE_TEST", "64",
    "SOLVER.MAX_ITER", "2",
    "TEST.EVAL_PERIOD", "0",
]  # fmt: skip


# Joint labeled rows: 1 labeled image + 1 labeled frame per step, no unlabeled stream.
JOINT = [
    "DATASETS.TRAIN_SAMPLES_PER_STEP", "(1, 1)",
    "SOLVER.IMS_PER_BATCH_LABELED", "2",
    "SOLVER.IMS_PER_BATCH_UNLABELED", "0",
]  # fmt: skip


def stand_in(names) -> str:
    return str(tuple(STAND_INS[name] for name in names))


def train_two_iterations(config, tmp_path, *opts):
    """Trains ``config`` (tiny model, batch 2 + 2) for 2 iterations and evaluates the final
    model; returns (cfg, logged keys, {"iterations": ..., "results": {test set: metrics}})."""
    cfg = tiny_cfg(config, *opts, *SMALL_MODEL, "OUTPUT_DIR", str(tmp_path))
    torch.manual_seed(0)
    trainer = I2VTrainer(cfg)
    trainer.resume_or_load(resume=False)
    results = trainer.train()  # the final evaluation's results (one test set: not keyed by it)
    if "sem_seg" in results:
        results = {cfg.DATASETS.TEST[0]: results}
    with open(tmp_path / "metrics.json") as f:
        logged = set().union(*(json.loads(line) for line in f))
    return cfg, logged, {"iterations": trainer.iter, "results": results}


def expected_losses(cfg) -> set[str]:
    """The loss entries a config's training step must report (Detectron2 logs the single loss of
    a source-only step as total_loss alone)."""
    names = {f"loss_adv_{p}" for p in cfg.MODEL.I2V.PLACEMENTS}
    if cfg.MODEL.I2V.CLUSTER.ENABLED:
        names.add("loss_adv_cluster")
    return {"total_loss"} | ({"loss_sem_seg"} if names else set()) | names


@pytest.mark.parametrize("config", PAPER_CONFIGS)
def test_every_paper_config_trains_on_generated_data(config, synth_root, tmp_path):
    shipped = tiny_cfg(config)
    data = ["DATASETS.TRAIN", stand_in(shipped.DATASETS.TRAIN)]
    data += ["DATASETS.TRAIN_UNLABELED", stand_in(shipped.DATASETS.TRAIN_UNLABELED)]
    data += ["DATASETS.TEST", stand_in(shipped.DATASETS.TEST)]
    if shipped.DATASETS.TRAIN_SAMPLES_PER_STEP:
        data += JOINT
    cfg, logged, record = train_two_iterations(config, tmp_path, *data)
    assert adversarial(cfg) == adversarial(shipped)  # the row's losses are still on
    assert cfg.MODEL.BACKBONE.NAME == shipped.MODEL.BACKBONE.NAME
    assert record["iterations"] == 2
    assert sorted(record["results"]) == sorted(cfg.DATASETS.TEST)
    assert expected_losses(cfg) <= logged
    assert (tmp_path / "model_final.pth").is_file()


@pytest.mark.parametrize("name", SYNTHETIC)
def test_every_synthetic_table_row_trains(name, synth_root, tmp_path):
    experiment = MANIFEST.experiments[name]
    shipped = tiny_cfg(experiment.config, *experiment.overrides)
    joint = JOINT if shipped.DATASETS.TRAIN_SAMPLES_PER_STEP else []
    cfg, logged, record = train_two_iterations(
        experiment.config, tmp_path, *experiment.overrides, *joint
    )
    assert adversarial(cfg) == adversarial(shipped)
    assert record["iterations"] == 2
    assert sorted(record["results"]) == sorted(cfg.DATASETS.TEST)
    assert expected_losses(cfg) <= logged

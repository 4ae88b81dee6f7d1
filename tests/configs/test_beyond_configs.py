"""The baselines beyond the paper (configs/synthetic/*: source_only_aug, entropy, self_training,
self_training_temporal, clustered_self_training, clustered_aug, self_training_aug, deeplab_adabn):
each config loads, says what it is, and trains through the trainer (hooks, checkpoint, metrics);
AdaBN re-estimates the statistics before the final checkpoint; the manifest's "beyond" suite and
the train benchmark know the rows."""

import json

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from i2v_plugin.engine.trainer import I2VTrainer
from i2v_plugin.experiments import plan
from i2v_plugin.experiments.manifest import load_manifest
from i2v_plugin.modeling.objectives import required_inputs
from tests.helpers import REPO_ROOT, TINY_MODEL_OPTS, tiny_cfg

SYNTH = "configs/synthetic"
ROWS = {
    "source_only_aug": ("swin_source_only_aug", {"total_loss"}),
    "entropy": ("swin_entropy", {"loss_sem_seg", "loss_entropy", "i2v/entropy"}),
    "self_training": (
        "swin_self_training",
        {"loss_self_training", "i2v/pseudo/confident", "i2v/pseudo/class_0", "i2v/pseudo/mixed"},
    ),
    "self_training_temporal": (
        "swin_self_training_temporal",
        {"loss_self_training", "i2v/pseudo/temporal_agreement", "i2v/pseudo/shift_px"},
    ),
    "clustered_self_training": (
        "swin_clustered_self_training",
        {"loss_self_training", "loss_adv_cluster", "i2v/pseudo/temporal_agreement"},
    ),
    "clustered_aug": ("swin_clustered_aug", {"loss_adv_cluster", "i2v/disc/cluster/acc"}),
    "self_training_aug": ("swin_self_training_aug", {"loss_self_training", "i2v/pseudo/confident"}),
    "deeplab_adabn": ("deeplab_adabn", {"total_loss", "i2v/adabn/mean_shift"}),
}


def config(row):
    return f"{SYNTH}/{ROWS[row][0]}.yaml"


def test_every_row_config_loads_and_turns_on_its_method():
    cfgs = {row: tiny_cfg(config(row)) for row in ROWS}
    assert cfgs["source_only_aug"].INPUT.VIDEO_AUG.ENABLED
    assert not required_inputs(cfgs["source_only_aug"]).unlabeled
    assert cfgs["entropy"].MODEL.I2V.ENTROPY.ENABLED
    for row in ("self_training", "self_training_temporal", "clustered_self_training"):
        assert cfgs[row].MODEL.I2V.SELF_TRAINING.ENABLED and cfgs[row].DATASETS.TRAIN_UNLABELED
    temporal = cfgs["self_training_temporal"]
    assert temporal.MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED
    assert temporal.INPUT.UNLABELED_PAIR_DISTANCE > 0
    assert cfgs["clustered_self_training"].MODEL.I2V.CLUSTER.ENABLED
    # The combined rows take the clustered row's tuned mu, not the configuration default.
    tuned_mu = tiny_cfg(f"{SYNTH}/swin_clustered.yaml").MODEL.I2V.GRL.MU
    for row in ("clustered_self_training", "clustered_aug"):
        assert cfgs[row].MODEL.I2V.GRL.MU == tuned_mu
    combined = cfgs["clustered_aug"]
    assert combined.INPUT.VIDEO_AUG.ENABLED and combined.MODEL.I2V.CLUSTER.ENABLED
    assert not combined.MODEL.I2V.SELF_TRAINING.ENABLED
    teacher_aug = cfgs["self_training_aug"]
    assert teacher_aug.INPUT.VIDEO_AUG.ENABLED and teacher_aug.MODEL.I2V.SELF_TRAINING.ENABLED
    adabn = cfgs["deeplab_adabn"]
    assert adabn.TEST.ADABN.ENABLED and adabn.DATASETS.TRAIN_UNLABELED
    assert not required_inputs(adabn).unlabeled  # the training loader does not read the videos


def train(row, tmp_path, *opts):
    cfg = tiny_cfg(
        config(row), "SOLVER.MAX_ITER", "1", "DATASETS.TEST", "()", "OUTPUT_DIR", str(tmp_path),
        "TEST.ADABN.NUM_ITER", "2", *opts,
    )  # fmt: skip
    torch.manual_seed(0)  # the initial weights (train_net seeds them in default_setup)
    trainer = I2VTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    with open(tmp_path / "metrics.json") as f:
        metrics = [json.loads(line) for line in f]
    return trainer, set().union(*metrics)


@pytest.mark.slow
@pytest.mark.parametrize("row", sorted(set(ROWS) - {"deeplab_adabn"}))  # AdaBN: below
def test_every_row_trains_through_the_trainer(row, synth_root, tmp_path):
    trainer, logged = train(row, tmp_path)
    assert ROWS[row][1] <= logged
    assert (tmp_path / "model_final.pth").exists()


@pytest.mark.slow
def test_adabn_statistics_reach_the_final_checkpoint(synth_root, tmp_path):
    trainer, logged = train("deeplab_adabn", tmp_path / "adabn")
    assert ROWS["deeplab_adabn"][1] <= logged
    train("deeplab_adabn", tmp_path / "plain", "TEST.ADABN.ENABLED", "False")
    saved = torch.load(tmp_path / "adabn" / "model_final.pth", weights_only=False)["model"]
    plain = torch.load(tmp_path / "plain" / "model_final.pth", weights_only=False)["model"]
    layers = {n: m for n, m in trainer.model.named_modules() if isinstance(m, _BatchNorm)}
    assert layers
    for name, layer in layers.items():
        assert torch.equal(saved[f"{name}.running_mean"], layer.running_mean)
    # Same training, then other statistics; the weights are untouched.
    moved = [
        n for n in layers if not torch.equal(saved[f"{n}.running_mean"], plain[f"{n}.running_mean"])
    ]
    assert len(moved) == len(layers)
    weights = [k for k in plain if k.endswith(".weight")]
    assert all(torch.equal(saved[k], plain[k]) for k in weights)


def test_the_manifest_lists_the_rows_with_controls_for_adversarial_ones():
    manifest = load_manifest()
    beyond = plan.select(manifest, suite="beyond")
    assert {row: spec.config for row, spec in beyond.items()} == {row: config(row) for row in ROWS}
    controls = plan.with_controls(beyond, manifest, plan.config_builder(REPO_ROOT))
    assert set(controls) - set(beyond) == {"clustered_self_training_mu0", "clustered_aug_mu0"}
    # The augmentation row's control is the augmentation baseline itself: not trained.
    assert controls["clustered_aug_mu0"].identical_to == "source_only_aug"
    assert controls["clustered_self_training_mu0"].identical_to is None  # self-training on


@pytest.mark.slow
def test_train_benchmark_times_temporal_self_training(synth_root, monkeypatch):
    from benchmark_suites import train_suite

    modes = {mode: train_suite.MODES[mode] for mode in ("source_only", "self_training_temporal")}
    monkeypatch.setattr(train_suite, "MODES", modes)
    step = train_suite.measure_step_times(
        REPO_ROOT, "cpu", rounds=1, warmup=0, opts=TINY_MODEL_OPTS
    )
    assert set(step) == set(modes)
    assert all(seconds > 0 for seconds in step.values())

"""Paired seeds: at one seed every row starts from source-only's segmentation weights, data order,
crops and dropout, and every optional module draws from its own stream. So an adversarial row at
``GRL.MU 0`` with ``UNLABELED_BN batch`` trains the segmentation network bit for bit as
source-only, which is what lets ``tools/reproduce.py`` record such controls as
``identical_to`` source-only instead of training them (``experiments/controls.py``)."""

import logging

import pytest
import torch

from i2v_plugin.engine.trainer import I2VTrainer
from tests.helpers import tiny_cfg

pytestmark = pytest.mark.slow

SYNTH = "configs/synthetic"
CONTROLS = {
    "spatial_mu0": "swin_spatial.yaml",
    "global_mu0": "swin_global.yaml",
    "clustered_mu0": "swin_clustered.yaml",
}


def segmentation_weights(config, tmp_path, *opts):
    """Train 4 iterations with seed 3; the state of everything but the objectives."""
    cfg = tiny_cfg(
        f"{SYNTH}/{config}", "SEED", "3", "SOLVER.MAX_ITER", "4", "DATASETS.TEST", "()",
        "OUTPUT_DIR", str(tmp_path), *opts,
    )  # fmt: skip
    torch.manual_seed(cfg.SEED)  # what default_setup does in train_net
    trainer = I2VTrainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    state = trainer.model.state_dict()
    return {k: v for k, v in state.items() if not k.startswith("objectives.")}


@pytest.fixture(scope="module")
def source_only(synth_root, tmp_path_factory):
    return segmentation_weights("swin_source_only.yaml", tmp_path_factory.mktemp("source_only"))


@pytest.mark.parametrize("control", sorted(CONTROLS))
def test_a_control_at_mu_0_trains_source_only_bit_for_bit(control, source_only, tmp_path):
    weights = segmentation_weights(CONTROLS[control], tmp_path, "MODEL.I2V.GRL.MU", "0.0")
    assert weights.keys() == source_only.keys()
    differ = [k for k in weights if not torch.equal(weights[k], source_only[k])]
    assert differ == []


def test_the_reversed_gradient_is_what_changes_the_network(source_only, tmp_path):
    weights = segmentation_weights("swin_spatial.yaml", tmp_path, "MODEL.I2V.GRL.MU", "1.0")
    encoder = "backbone.swin.patch_embed.proj.weight"
    assert not torch.equal(weights[encoder], source_only[encoder])


BN_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


def deeplab_global_mu0(tmp_path, bn_mode, *opts):
    return segmentation_weights(
        "deeplab_global_davis.yaml", tmp_path / bn_mode, "MODEL.I2V.GRL.MU", "0.0",
        "MODEL.I2V.UNLABELED_BN", bn_mode, *opts,
    )  # fmt: skip


def test_update_statistics_re_estimated_after_training_leave_source_only(
    synth_root, tmp_path, caplog
):
    """The recipe re-estimates the weight average's statistics on labeled data, so the videos'
    share of the running statistics under ``UNLABELED_BN update`` never reaches the network
    (``controls.effective_unlabeled_bn``); the trainer says so."""
    source = segmentation_weights("deeplab_source_only.yaml", tmp_path / "source_only")
    with caplog.at_level(logging.WARNING, logger="i2v_plugin.engine.trainer"):
        update = deeplab_global_mu0(tmp_path, "update")
    assert [k for k in update if not torch.equal(update[k], source[k])] == []
    assert "UNLABELED_BN 'update' has no effect here" in caplog.text


def test_kept_update_statistics_see_the_videos_and_nothing_else_changes(synth_root, tmp_path):
    """Without the re-estimation the two modes differ in the running statistics only: training
    never reads them."""
    keep = ("SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "0")
    batch = deeplab_global_mu0(tmp_path, "batch", *keep)
    update = deeplab_global_mu0(tmp_path, "update", *keep)
    differ = {k for k in update if not torch.equal(update[k], batch[k])}
    assert any(k.endswith("running_mean") for k in differ)
    assert {k for k in differ if not k.endswith(BN_STATISTICS)} == set()

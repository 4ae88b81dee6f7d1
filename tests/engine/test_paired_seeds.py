"""Paired seeds: at one seed every row starts from source-only's segmentation weights, data order,
crops and dropout, and every optional module draws from its own stream. So an adversarial row at
``GRL.MU 0`` with ``UNLABELED_BN batch`` trains the segmentation network bit for bit as
source-only, which is what lets ``tools/reproduce.py`` record such controls as
``identical_to`` source-only instead of training them (``experiments/controls.py``)."""

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

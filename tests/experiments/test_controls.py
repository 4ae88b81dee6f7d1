"""experiments.controls: which objectives a config trains, and the rule that records a mu-0
control as the same run as its reference instead of training it."""

import os

import pytest

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.experiments.controls import (
    CONTROL_OVERRIDES,
    effective_unlabeled_bn,
    identical_to_reference,
    objectives,
)
from tests.helpers import REPO_ROOT

SYNTH = "configs/synthetic"


def cfg(name, *opts):
    return build_cfg(os.path.join(REPO_ROOT, SYNTH, f"{name}.yaml"), list(opts))


def control(name, *opts):
    return cfg(name, *opts, *CONTROL_OVERRIDES)


def test_objectives_of_the_configs():
    assert objectives(cfg("swin_source_only")) == set()
    assert objectives(cfg("swin_spatial")) == {"adversarial"}
    assert objectives(cfg("swin_clustered")) == {"adversarial"}
    assert objectives(cfg("swin_entropy")) == {"EntropyMinimization"}
    assert objectives(cfg("swin_clustered_self_training")) == {"adversarial", "SelfTraining"}


@pytest.mark.parametrize(
    "row, reference",
    [
        ("swin_spatial", "swin_source_only"),  # sigmoid ramp from LOW 0 to mu 0
        ("swin_global", "swin_source_only"),
        ("swin_clustered", "swin_source_only"),
        ("swin_global_still_images", "swin_source_only"),  # other unlabeled data: still the same
        ("deeplab_global_davis", "deeplab_source_only"),
        ("video_swin_spatial", "video_swin_source_only"),
        ("swin_clustered_aug", "swin_source_only_aug"),
        ("swin_joint_labeled_clustered", "swin_joint_labeled"),
    ],
)
def test_a_mu0_control_with_batch_statistics_is_its_reference(row, reference):
    assert identical_to_reference(control(row), cfg(reference))


@pytest.mark.parametrize(
    "opts",
    [
        (),  # the weight average's statistics are re-estimated on labeled data (the recipe)
        ("SOLVER.WEIGHT_EMA.ENABLED", "False", "TEST.ADABN.ENABLED", "True"),  # AdaBN's
    ],
)
def test_update_statistics_re_estimated_after_training_are_batch_statistics(opts):
    row = control("deeplab_global_davis", "MODEL.I2V.UNLABELED_BN", "update", *opts)
    assert effective_unlabeled_bn(row) == "batch"
    assert identical_to_reference(row, cfg("deeplab_source_only", *opts))


def test_frozen_statistics_are_never_batch_statistics():
    row = control("deeplab_global_davis", "MODEL.I2V.UNLABELED_BN", "frozen")
    assert effective_unlabeled_bn(row) == "frozen"
    assert not identical_to_reference(row, cfg("deeplab_source_only"))


def test_the_same_extra_overrides_on_both_keep_the_identity():
    half = ("SOLVER.MAX_ITER", "1500")
    row = control("deeplab_global_davis", *half)
    assert identical_to_reference(row, cfg("deeplab_source_only", *half))
    assert not identical_to_reference(row, cfg("deeplab_source_only"))


@pytest.mark.parametrize(
    "row, reference, opts",
    [
        # The reversed gradient is on.
        ("swin_spatial", "swin_source_only", ("MODEL.I2V.GRL.MU", "0.5")),
        ("swin_spatial", "swin_source_only", ("MODEL.I2V.GRL.LOW", "0.1")),
        # The running statistics see the unlabeled data, and the evaluated network keeps them.
        (
            "deeplab_global_davis",
            "deeplab_source_only",
            ("MODEL.I2V.UNLABELED_BN", "update", "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "0"),
        ),
        (
            "deeplab_global_davis",
            "deeplab_source_only",
            ("MODEL.I2V.UNLABELED_BN", "update", "SOLVER.WEIGHT_EMA.ENABLED", "False"),
        ),
        # Another objective reads the unlabeled data.
        ("swin_clustered_self_training", "swin_self_training_temporal", ()),
        ("swin_clustered", "swin_source_only", ("MODEL.I2V.ENTROPY.ENABLED", "True")),
        # Other labeled data, schedule or augmentation than the reference.
        ("swin_clustered_aug", "swin_source_only", ()),
        ("swin_clustered", "swin_source_only", ("SOLVER.MAX_ITER", "1500")),
        ("swin_joint_labeled_clustered", "swin_source_only", ()),
    ],
)
def test_controls_that_train_something_else_are_trained(row, reference, opts):
    assert not identical_to_reference(cfg(row, *CONTROL_OVERRIDES, *opts), cfg(reference))

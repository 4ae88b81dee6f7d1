"""``I2VTrainer.__init__`` copies ``DefaultTrainer.__init__`` (Detectron2 hard-codes GPU device ids
there). These tests pin the shape of Detectron2's constructor, so an upgrade that changes it fails
here instead of silently diverging, and check the REFERENCE_WORLD_SIZE scaling of both streams."""

import ast
import inspect
import textwrap

import pytest
from detectron2.engine import DefaultTrainer

from i2v_plugin.engine import I2VTrainer, build_cfg

# What Detectron2's DefaultTrainer.__init__ does, in order: the calls it makes and the
# attributes it sets. I2VTrainer.__init__ must do the same (plus its own changes).
PINNED_CALLS = [
    "super",
    "super().__init__",
    "logging.getLogger",
    "logger.isEnabledFor",
    "setup_logger",
    "DefaultTrainer.auto_scale_workers",
    "comm.get_world_size",
    "self.build_model",
    "self.build_optimizer",
    "self.build_train_loader",
    "create_ddp_model",
    "AMPTrainer if cfg.SOLVER.AMP.ENABLED else SimpleTrainer",
    "self.build_lr_scheduler",
    "DetectionCheckpointer",
    "weakref.proxy",
    "self.register_hooks",
    "self.build_hooks",
]
PINNED_ATTRIBUTES = ["_trainer", "scheduler", "checkpointer", "start_iter", "max_iter", "cfg"]


def _shape(function) -> tuple[list[str], list[str]]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    calls, attributes = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append(ast.unparse(node.func))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            attributes.append(node.attr)
    return calls, attributes


def test_detectron2_trainer_constructor_has_the_pinned_shape():
    calls, attributes = _shape(DefaultTrainer.__init__)
    message = (
        "detectron2's DefaultTrainer.__init__ changed; re-copy it into I2VTrainer.__init__ "
        "(i2v_plugin/engine/trainer.py) and update the pin"
    )
    assert sorted(calls) == sorted(PINNED_CALLS), message
    assert sorted(attributes) == sorted(PINNED_ATTRIBUTES), message


def test_our_constructor_sets_every_attribute_detectron2_sets():
    _, ours = _shape(I2VTrainer.__init__)
    assert set(PINNED_ATTRIBUTES) <= set(ours)


def test_reference_world_size_scales_both_streams_and_the_schedule():
    cfg = build_cfg("configs/synthetic/swin_clustered.yaml", ["SOLVER.REFERENCE_WORLD_SIZE", "2"])
    scaled = I2VTrainer.auto_scale_workers(cfg, 4)
    assert scaled.is_frozen()
    assert scaled.SOLVER.IMS_PER_BATCH_LABELED == 2 * cfg.SOLVER.IMS_PER_BATCH_LABELED
    assert scaled.SOLVER.IMS_PER_BATCH_UNLABELED == 2 * cfg.SOLVER.IMS_PER_BATCH_UNLABELED
    assert scaled.SOLVER.BASE_LR == pytest.approx(2 * cfg.SOLVER.BASE_LR)
    assert scaled.SOLVER.MAX_ITER == cfg.SOLVER.MAX_ITER // 2
    assert scaled.SOLVER.IMS_PER_BATCH == (
        scaled.SOLVER.IMS_PER_BATCH_LABELED + scaled.SOLVER.IMS_PER_BATCH_UNLABELED
    )
    assert I2VTrainer.auto_scale_workers(cfg, 2) is cfg  # already the reference size


def test_reference_world_size_that_does_not_divide_a_stream_is_refused():
    cfg = build_cfg(
        "configs/synthetic/swin_clustered.yaml",
        ["SOLVER.REFERENCE_WORLD_SIZE", "3", "SOLVER.IMS_PER_BATCH_UNLABELED", "4"],
    )
    with pytest.raises(ValueError, match="REFERENCE_WORLD_SIZE 3 must divide"):
        I2VTrainer.auto_scale_workers(cfg, 6)

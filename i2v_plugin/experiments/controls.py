"""Mu-0 controls: which runs get one, and when one is the same run as its reference.

A control ``X_mu0`` is ``X`` with ``MODEL.I2V.GRL.MU 0``: the discriminators still train, but no
reversed gradient reaches the encoder. When, besides, the unlabeled pass keeps its own batch
statistics (``UNLABELED_BN batch``), no other objective reads the unlabeled data and everything
else (labeled data, model, schedule) equals the reference's config, the unlabeled data reaches
only the discriminators, so the control trains the same network as the reference: it is recorded
as ``identical_to`` the reference instead of being trained. ``UNLABELED_BN update`` counts as
``batch`` where the running statistics are re-estimated after training
(``engine.adabn.effective_unlabeled_bn``): the statistics the videos moved never reach
the evaluated network.

``objectives`` reads which objectives a config trains from the objectives' own declarations
(``modeling/objectives``): one that owns discriminators is "adversarial"; any other that reads
unlabeled data rules the shortcut out.
"""

import copy

from ..engine.adabn import effective_unlabeled_bn
from ..modeling.objectives import enabled_objective_classes

CONTROL_SUFFIX = "_mu0"
CONTROL_OVERRIDES = ("MODEL.I2V.GRL.MU", "0.0")

# Config keys that, with no reversed gradient, reach only the discriminators or the unlabeled
# stream they read; a control and its reference may differ in these and still be the same run.
DISCRIMINATOR_ONLY_KEYS = (
    "MODEL.I2V.PLACEMENTS",
    "MODEL.I2V.PLACEMENT_WEIGHTS",
    "MODEL.I2V.DISCRIMINATORS",
    "MODEL.I2V.DISC_HIDDEN_DIMS",
    "MODEL.I2V.DISC_LR_FACTOR",
    "MODEL.I2V.HEALTH_WINDOW",
    "MODEL.I2V.GRL",
    "MODEL.I2V.CLUSTER",
    "DATASETS.TRAIN_UNLABELED",
    "SOLVER.IMS_PER_BATCH_UNLABELED",
    "DATALOADER.VIDEO_STREAM",
    "MODEL.I2V.OBJECTIVES",
    # Per run, not per experiment.
    "OUTPUT_DIR",
    "SEED",
)


def objectives(cfg) -> set[str]:
    """The training objectives of ``cfg`` besides the segmentation loss: "adversarial" for those
    that own discriminators, and the registered class name of every other one that reads
    unlabeled data (e.g. "EntropyMinimization", "SelfTraining")."""
    found = set()
    for cls in enabled_objective_classes(cfg):
        if cls.owns_discriminators:
            found.add("adversarial")
        elif cls.input_needs(cfg).unlabeled:
            found.add(cls.__name__)
    return found


def _without(tree: dict, dotted_keys) -> dict:
    """A deep copy of the nested dict ``tree`` without the dotted keys."""
    tree = copy.deepcopy(tree)
    for dotted in dotted_keys:
        *parents, leaf = dotted.split(".")
        node = tree
        for part in parents:
            node = node.get(part, {})
        node.pop(leaf, None)
    return tree


def _plain(node):
    """A CfgNode as plain nested dicts (tuples as lists, so that YAML and code values compare)."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


def identical_to_reference(control_cfg, reference_cfg) -> bool:
    """Whether the control's training is the reference's: no reversed gradient (mu 0, and a
    sigmoid ramp starting at 0), ``UNLABELED_BN batch`` (or ``update`` with the statistics
    re-estimated after training: ``effective_unlabeled_bn``), no objective but the adversarial
    one reading unlabeled data, and equal configs outside ``DISCRIMINATOR_ONLY_KEYS``.

    Args:
        control_cfg: the control's merged config.
        reference_cfg: the reference's merged config (same extra overrides).
    Returns:
        True when the control need not be trained.
    """
    grl = control_cfg.MODEL.I2V.GRL
    if float(grl.MU) != 0.0 or (grl.SCHEDULE != "constant" and float(grl.LOW) != 0.0):
        return False
    if effective_unlabeled_bn(control_cfg) != "batch":
        return False
    if effective_unlabeled_bn(reference_cfg) != "batch":
        return False
    if objectives(control_cfg) - {"adversarial"}:
        return False
    # The BatchNorm mode is compared by its effect (above), not as written.
    keys = DISCRIMINATOR_ONLY_KEYS + ("MODEL.I2V.UNLABELED_BN",)
    return _without(_plain(control_cfg), keys) == _without(_plain(reference_cfg), keys)

"""Build the objectives a config names, and say what input they need without building them.

Each objective class is built under its own forked random stream (``modeling/rng.py``), so its
parameters' initial values never shift the segmentation network's.
"""

from torch import nn

from ...utils.input_needs import InputNeeds
from ..rng import derived_seed, forked_rng
from .base import OBJECTIVE_REGISTRY, TrainingObjective


def objective_classes(cfg) -> list[type[TrainingObjective]]:
    """The registered classes ``MODEL.I2V.OBJECTIVES`` names, in order; an unknown name is an
    error that lists the registered ones."""
    classes = []
    for name in cfg.MODEL.I2V.OBJECTIVES:
        if name not in OBJECTIVE_REGISTRY:
            raise KeyError(
                f"MODEL.I2V.OBJECTIVES names {name!r}, which is not a registered objective; "
                f"registered: {sorted(n for n, _ in OBJECTIVE_REGISTRY)}"
            )
        classes.append(OBJECTIVE_REGISTRY.get(name))
    return classes


def enabled_objective_classes(cfg) -> list[type[TrainingObjective]]:
    """The classes of ``objective_classes`` that ``cfg`` turns on."""
    return [cls for cls in objective_classes(cfg) if cls.enabled(cfg)]


def required_inputs(cfg) -> InputNeeds:
    """What the training batches must hold for ``cfg``'s objectives (the data loader's
    question: does it read ``DATASETS.TRAIN_UNLABELED``, with frame pairs, from both domains)."""
    needs = InputNeeds()
    for cls in objective_classes(cfg):
        needs = needs | cls.input_needs(cfg)
    return needs


def has_discriminators(cfg) -> bool:
    """Whether ``cfg`` trains a domain discriminator (an adversarial objective): such a row has
    a control at ``MODEL.I2V.GRL.MU 0``."""
    return any(cls.owns_discriminators for cls in enabled_objective_classes(cfg))


def build_objectives(
    cfg, backbone, sem_seg_head: nn.Module | None = None, seed: int = 0
) -> dict[str, TrainingObjective]:
    """Build every enabled objective, in ``MODEL.I2V.OBJECTIVES`` order, each class under its
    own random stream.

    Args:
        cfg: the config.
        backbone: the built ``TappableBackbone``.
        sem_seg_head: the built segmentation head (self-training copies it), or None when no
            objective needs it.
        seed: the model's seed; each class's stream is derived from it and the class name.
    Returns:
        name -> objective (names are unique; a clash is an error naming both classes).
    """
    built: dict[str, TrainingObjective] = {}
    for cls in objective_classes(cfg):
        if not cls.enabled(cfg):
            continue
        with forked_rng(derived_seed(seed, "build", cls.__name__)):
            objectives = cls.build(cfg, backbone, sem_seg_head)
        for objective in objectives:
            if objective.name in built:
                raise ValueError(
                    f"Two objectives are named {objective.name!r} "
                    f"({type(built[objective.name]).__name__} and {cls.__name__})"
                )
            built[objective.name] = objective
    return built

"""Build the objectives a config names, and say what input they need without building them."""

from collections.abc import Callable

from torch import nn

from ...utils.input_needs import InputNeeds
from .base import OBJECTIVE_REGISTRY, TrainingObjective


class ModelParts:
    """The segmentation head, built on first use.

    Objectives that only read backbone maps are built before the head; one that needs the head
    (self-training copies it into its teacher) builds it when it asks. The model's random
    initialisation then follows the order the objectives are listed in.
    """

    def __init__(self, build_head: Callable[[], nn.Module]):
        self._build_head = build_head
        self._head = None

    @property
    def sem_seg_head(self) -> nn.Module:
        if self._head is None:
            self._head = self._build_head()
        return self._head


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


def build_objectives(cfg, backbone, parts=None) -> dict[str, TrainingObjective]:
    """Build every enabled objective, in ``MODEL.I2V.OBJECTIVES`` order.

    Args:
        cfg: the config.
        backbone: the built ``TappableBackbone``.
        parts: ``ModelParts`` (the head built on first use), or the head itself, or None when
            no objective needs it.
    Returns:
        name -> objective (names are unique; a clash is an error naming both classes).
    """
    if not isinstance(parts, ModelParts):
        head = parts

        def no_head():
            if head is None:
                raise ValueError("build_objectives: an objective needs the segmentation head")
            return head

        parts = ModelParts(no_head)
    built: dict[str, TrainingObjective] = {}
    for cls in objective_classes(cfg):
        for objective in cls.build(cfg, backbone, parts) if cls.enabled(cfg) else []:
            if objective.name in built:
                raise ValueError(
                    f"Two objectives are named {objective.name!r} "
                    f"({type(built[objective.name]).__name__} and {cls.__name__})"
                )
            built[objective.name] = objective
    return built

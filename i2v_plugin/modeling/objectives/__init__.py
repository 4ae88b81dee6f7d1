"""Training objectives: one registered module per objective, one contract (``base.py``).

Importing the package registers the built-in objectives, in the order of the default
``MODEL.I2V.OBJECTIVES``: entropy minimisation, the general adversarial loss of each placement,
the clustered adversarial loss and self-training.
"""

from ...utils.input_needs import register_needs_provider
from .base import OBJECTIVE_REGISTRY, TrainingObjective
from .build import (
    build_objectives,
    enabled_objective_classes,
    has_discriminators,
    objective_classes,
    required_inputs,
)
from .clustered import ClusteredAdversarial, num_clusters_for
from .entropy import EntropyMinimization, entropy_loss, normalized_entropy
from .placement import PlacementAdversarial
from .self_training import SelfTraining
from .step import TrainingStep, tap_samples

# The data loader asks this when the caller does not say what the batches need.
register_needs_provider(required_inputs)

__all__ = [
    "OBJECTIVE_REGISTRY",
    "ClusteredAdversarial",
    "EntropyMinimization",
    "PlacementAdversarial",
    "SelfTraining",
    "TrainingObjective",
    "TrainingStep",
    "build_objectives",
    "enabled_objective_classes",
    "entropy_loss",
    "has_discriminators",
    "normalized_entropy",
    "num_clusters_for",
    "objective_classes",
    "required_inputs",
    "tap_samples",
]

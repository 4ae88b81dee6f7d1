"""Adversarial building blocks for image-to-video domain adaptation.

Gradient reversal and its schedules, domain discriminators, torch K-means, balanced pair
sampling inside clusters, and the general and clustered adversarial losses. All are plain torch
modules and functions with explicit arguments; the objectives (``modeling/objectives``) wire them
to the config.
"""

from .clustering import KMeansResult, kmeans, kmeans_sklearn, run_kmeans
from .discriminators import (
    DISCRIMINATOR_REGISTRY,
    ConvDiscriminator,
    MLPDiscriminator,
    PairDiscriminator,
    PaperConvDiscriminator,
    PatchGANDiscriminator,
)
from .grl import grad_reverse
from .losses import ClusteredAdversarialLoss, DomainAdversarialLoss
from .pairs import PAIR_KINDS, PairBatch, sample_balanced_pairs
from .schedules import ConstantSchedule, SigmoidRampSchedule, build_schedule

__all__ = [
    "DISCRIMINATOR_REGISTRY",
    "PAIR_KINDS",
    "ClusteredAdversarialLoss",
    "ConstantSchedule",
    "ConvDiscriminator",
    "DomainAdversarialLoss",
    "KMeansResult",
    "MLPDiscriminator",
    "PairBatch",
    "PairDiscriminator",
    "PaperConvDiscriminator",
    "PatchGANDiscriminator",
    "SigmoidRampSchedule",
    "build_schedule",
    "grad_reverse",
    "kmeans",
    "kmeans_sklearn",
    "run_kmeans",
    "sample_balanced_pairs",
]

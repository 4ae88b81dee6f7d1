"""Objectives on the unlabeled frames besides the adversarial losses: entropy minimisation
(ADVENT) and mean-teacher self-training (DAFormer), with ClassMix and temporal agreement on
pairs of video frames."""

from .build import build_self_training, unlabeled_objectives_enabled, uses_unlabeled_data
from .ema import EMATeacher, ema_alpha, frame_logits
from .entropy import entropy_loss, normalized_entropy
from .self_training import SelfTraining, TemporalAgreement
from .strong_aug import StrongPhotometric
from .temporal import phase_correlation_shift, shift_frames, temporal_pseudo_labels

__all__ = [
    "EMATeacher",
    "SelfTraining",
    "StrongPhotometric",
    "TemporalAgreement",
    "build_self_training",
    "ema_alpha",
    "entropy_loss",
    "frame_logits",
    "normalized_entropy",
    "phase_correlation_shift",
    "shift_frames",
    "temporal_pseudo_labels",
    "unlabeled_objectives_enabled",
    "uses_unlabeled_data",
]

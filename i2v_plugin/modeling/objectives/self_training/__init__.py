"""Mean-teacher self-training (DAFormer) on the unlabeled frames, with class-balanced
pseudo-labels, ClassMix and temporal agreement on pairs of video frames."""

from .ema import EMATeacher, ema_alpha
from .self_training import SelfTraining, TemporalAgreement
from .strong_aug import StrongPhotometric
from .temporal import phase_correlation_shift, shift_frames, temporal_pseudo_labels

__all__ = [
    "EMATeacher",
    "SelfTraining",
    "StrongPhotometric",
    "TemporalAgreement",
    "ema_alpha",
    "phase_correlation_shift",
    "shift_frames",
    "temporal_pseudo_labels",
]

"""Evaluation: Detectron2's semantic-segmentation metrics extended with video metrics.

``VideoSemSegEvaluator`` adds per-sequence mIoU, VSPW temporal consistency (VC_n) and DAVIS
foreground J&F; ``video_metrics`` holds the pure numpy functions behind them.
"""

from .foreground import ForegroundBackgroundEvaluator, foreground_background_logits
from .video_evaluator import SequenceStats, VideoSemSegEvaluator, merge_sequence_stats

__all__ = [
    "ForegroundBackgroundEvaluator",
    "foreground_background_logits",
    "SequenceStats",
    "VideoSemSegEvaluator",
    "merge_sequence_stats",
]

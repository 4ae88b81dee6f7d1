"""Inference on videos and image sequences: frame sources, a batched frame predictor, palette
masks and overlays, and the threaded pipeline behind ``tools/predict_video.py``."""

from .frame_predictor import FramePredictor
from .palette import CLASS_PALETTE, colorize, save_mask_png
from .sources import FrameSource, open_frame_source
from .video_predictor import PredictionSummary, predict_video

__all__ = [
    "CLASS_PALETTE",
    "FramePredictor",
    "FrameSource",
    "PredictionSummary",
    "colorize",
    "open_frame_source",
    "predict_video",
    "save_mask_png",
]

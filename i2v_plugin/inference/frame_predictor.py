"""``FramePredictor``: a segmentation model from a config, applied to batches of RGB frames."""

import os

import numpy as np
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data import transforms as T
from detectron2.modeling import build_model
from detectron2.utils.file_io import PathManager

from ..data.mapper import build_augmentations
from ..modeling.class_map import class_map

# Palette PNGs store one byte per pixel.
MAX_CLASSES = 256


def load_model(cfg, weights: str | None = None) -> tuple[torch.nn.Module, dict]:
    """Build the model of ``cfg`` on ``cfg.MODEL.DEVICE`` and load a checkpoint into it.

    Args:
        cfg: a config from ``build_cfg``.
        weights: checkpoint path or a URL Detectron2's PathManager resolves (e.g.
            ``i2v-pretrained://swin``); None uses ``cfg.MODEL.WEIGHTS``; "" keeps the random init.
    Returns:
        (model in training mode, the checkpoint's other entries, e.g. "iteration"; {} if none).
    Raises:
        FileNotFoundError naming a checkpoint that does not exist.
    """
    model = build_model(cfg)
    path = cfg.MODEL.WEIGHTS if weights is None else weights
    if not path:
        return model, {}
    # Registered URLs (e.g. i2v-pretrained://<family>) become their local file, as in training.
    path = PathManager.get_local_path(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint not found: {path}")
    # Extra keys (e.g. a trained adversarial branch) are ignored with a logged warning.
    return model, DetectionCheckpointer(model).load(path)


class FramePredictor:
    """Builds the model of ``cfg`` on ``cfg.MODEL.DEVICE``, loads weights, predicts class maps.

    Frames get the evaluation preprocessing (``INPUT.MIN_SIZE_TEST`` resize, ``INPUT.FORMAT``
    channel order); the logits come back at the frame's own size, as in evaluation.
    """

    def __init__(self, cfg, weights: str | None = None):
        """
        Args:
            cfg: a config from ``build_cfg``.
            weights: checkpoint path or PathManager URL (``load_model``); None uses
                ``cfg.MODEL.WEIGHTS``; "" keeps the random init.
        Raises:
            FileNotFoundError naming a checkpoint that does not exist; ValueError if the model
            has more classes than a palette PNG can hold.
        """
        num_classes = cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES
        if num_classes > MAX_CLASSES:
            raise ValueError(
                f"MODEL.SEM_SEG_HEAD.NUM_CLASSES = {num_classes}: palette masks hold at most "
                f"{MAX_CLASSES} classes"
            )
        self.model, self.checkpoint = load_model(cfg, weights)
        self.model.eval()
        self.augmentations = T.AugmentationList(build_augmentations(cfg, is_train=False))
        self.input_format = cfg.INPUT.FORMAT
        self.device = self.model.device

    def preprocess(self, frame: np.ndarray) -> dict:
        """HxWx3 uint8 RGB frame -> the model's input dict (resized, channel order, CHW)."""
        aug_input = T.AugInput(frame)
        self.augmentations(aug_input)
        image = aug_input.image
        if self.input_format == "BGR":
            image = image[:, :, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        return {"image": tensor, "height": frame.shape[0], "width": frame.shape[1]}

    @torch.inference_mode()
    def logits(self, inputs: list[dict]) -> list[torch.Tensor]:
        """Model outputs for preprocessed inputs: (num_classes, height, width) per input."""
        return [out["sem_seg"] for out in self.model(inputs)]

    @torch.inference_mode()
    def predict(self, inputs: list[dict]) -> list[np.ndarray]:
        """Class maps (argmax of the logits) for preprocessed inputs: (height, width) uint8 each."""
        classes = [class_map(logit).to(torch.uint8) for logit in self.logits(inputs)]
        if len({c.shape for c in classes}) == 1:
            # One device-to-host copy for the batch.
            return list(torch.stack(classes).cpu().numpy())
        return [c.cpu().numpy() for c in classes]

    def predict_frames(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """``predict`` on raw HxWx3 uint8 RGB frames."""
        return self.predict([self.preprocess(f) for f in frames])

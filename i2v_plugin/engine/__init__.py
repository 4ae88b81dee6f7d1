"""Training engine: the trainer, its hooks, atomic checkpoints and the config recipe."""

from .setup import build_cfg, setup_cfg
from .trainer import I2VTrainer

__all__ = ["I2VTrainer", "build_cfg", "setup_cfg"]

"""Training engine: the trainer, its hooks, atomic checkpoints and the config recipe."""

from .pretrained import register_handler
from .setup import build_cfg, setup_cfg
from .trainer import I2VTrainer

# MODEL.WEIGHTS "i2v-pretrained://<family>": the synthetic pretraining stage's cached weights.
register_handler()

__all__ = ["I2VTrainer", "build_cfg", "setup_cfg"]

"""Build the unlabeled-data objectives from ``cfg.MODEL.I2V.ENTROPY`` / ``SELF_TRAINING``."""

from torch import nn

from ..adversarial.build import adversarial_enabled
from .ema import EMATeacher
from .self_training import SelfTraining, TemporalAgreement
from .strong_aug import StrongPhotometric


def unlabeled_objectives_enabled(cfg) -> bool:
    """Whether entropy minimisation or self-training is on."""
    return bool(cfg.MODEL.I2V.ENTROPY.ENABLED or cfg.MODEL.I2V.SELF_TRAINING.ENABLED)


def uses_unlabeled_data(cfg) -> bool:
    """Whether training reads ``DATASETS.TRAIN_UNLABELED``: an adversarial loss, entropy
    minimisation or self-training is on."""
    return adversarial_enabled(cfg) or unlabeled_objectives_enabled(cfg)


def build_self_training(cfg, backbone: nn.Module, sem_seg_head: nn.Module) -> SelfTraining | None:
    """``SelfTraining`` with an EMA teacher copied from ``backbone`` and ``sem_seg_head``; None
    when ``MODEL.I2V.SELF_TRAINING.ENABLED`` is False."""
    st = cfg.MODEL.I2V.SELF_TRAINING
    if not st.ENABLED:
        if st.TEMPORAL.ENABLED:
            raise ValueError(
                "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED needs SELF_TRAINING.ENABLED True"
            )
        return None
    temporal = None
    if st.TEMPORAL.ENABLED:
        if cfg.INPUT.UNLABELED_PAIR_DISTANCE <= 0:
            raise ValueError(
                "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED needs frame pairs: set "
                "INPUT.UNLABELED_PAIR_DISTANCE > 0 (in native frames)"
            )
        temporal = TemporalAgreement(st.TEMPORAL.ALIGN, st.TEMPORAL.MAX_SHIFT)
    if not 0.0 <= st.THRESHOLD <= 1.0:
        raise ValueError(
            f"MODEL.I2V.SELF_TRAINING.THRESHOLD must lie in [0, 1], got {st.THRESHOLD}"
        )
    strong = StrongPhotometric(
        jitter=st.STRONG.JITTER,
        blur_sigma=st.STRONG.BLUR_SIGMA,
        blur_prob=st.STRONG.BLUR_PROB,
        noise_std=st.STRONG.NOISE_STD,
        image_format=cfg.INPUT.FORMAT,
    )
    return SelfTraining(
        teacher=EMATeacher(backbone, sem_seg_head, st.EMA_DECAY),
        threshold=st.THRESHOLD,
        num_classes=cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES,
        loss_weight=st.LOSS_WEIGHT,
        quality_weight=st.QUALITY_WEIGHT,
        strong=strong,
        classmix=st.CLASSMIX,
        temporal=temporal,
        class_portion=st.CLASS_PORTION,
        ignore_value=cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
    )

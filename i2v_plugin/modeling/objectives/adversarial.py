"""What the adversarial objectives share: the gradient-reversal schedule, the discriminators'
health figures and the fixed map size a flat discriminator is built for.

The schedule reads the trainer iteration (``TrainingStep.iteration``), so a resumed run
reproduces it exactly.
"""

import math

from detectron2.layers import ShapeSpec
from detectron2.utils.events import get_event_storage

from ..adversarial.health import HEALTH_KEYS
from ..adversarial.schedules import build_schedule
from .base import TrainingObjective


def grl_schedule(cfg):
    """The gradient-reversal coefficient as a function of the iteration (``MODEL.I2V.GRL``)."""
    grl = cfg.MODEL.I2V.GRL
    if grl.SCHEDULE == "sigmoid":
        return build_schedule(
            "sigmoid", low=grl.LOW, high=grl.MU, gamma=grl.GAMMA, max_iter=cfg.SOLVER.MAX_ITER
        )
    return build_schedule(grl.SCHEDULE, value=grl.MU)


def health_scalars(name: str, stats: dict) -> dict[str, float]:
    """The finite health figures of discriminator ``name`` as ``i2v/disc/<name>/<key>``
    (accuracies are NaN on steps without pairs; they are left out rather than logged)."""
    values = {f"i2v/disc/{name}/{key}": float(stats[key]) for key in HEALTH_KEYS}
    return {key: value for key, value in values.items() if math.isfinite(value)}


def map_size(cfg, shape: ShapeSpec, what: str, divisibility: int) -> tuple[int, int]:
    """Spatial size of a tapped map for the fixed training crop; errors name the crop size."""
    if not (cfg.INPUT.CROP.ENABLED and cfg.INPUT.PAD_TO_CROP_SIZE):
        raise ValueError(
            f"{what} has a fixed input size, so it needs fixed-size training crops: set "
            "INPUT.CROP.ENABLED True and INPUT.PAD_TO_CROP_SIZE True "
            f"(INPUT.CROP.TYPE 'absolute'); got ENABLED={cfg.INPUT.CROP.ENABLED}, "
            f"PAD_TO_CROP_SIZE={cfg.INPUT.PAD_TO_CROP_SIZE}."
        )
    crop_h, crop_w = cfg.INPUT.CROP.SIZE
    if cfg.INPUT.CROP.TYPE != "absolute" or crop_h % divisibility or crop_w % divisibility:
        raise ValueError(
            f"INPUT.CROP.SIZE {tuple(cfg.INPUT.CROP.SIZE)} (type {cfg.INPUT.CROP.TYPE!r}) cannot "
            f"feed {what}: it needs an 'absolute' crop whose sides are multiples of "
            f"{divisibility} (the backbone's size divisibility), e.g. "
            f"({crop_h // divisibility * divisibility or divisibility}, "
            f"{crop_w // divisibility * divisibility or divisibility})."
        )
    return crop_h // shape.stride, crop_w // shape.stride


class AdversarialObjective(TrainingObjective):
    """Base of the objectives with a discriminator behind a gradient reversal layer: they read
    the tapped maps of every sample (unlabeled frames when configured) and need both domains.

    Subclasses call ``coefficient(step)`` for the reversal coefficient of the step and
    ``log(coeff, domains, figures)`` for their figures (with ``i2v/grl_coeff`` and
    ``i2v/video_fraction``).
    """

    unlabeled_input = "frames"
    needs_both_domains = True
    owns_discriminators = True

    def __init__(self, name: str, feature: str, weight: float, schedule):
        """
        Args:
            name: instance name.
            feature: the backbone map it taps.
            weight: weight of its loss.
            schedule: iteration -> gradient-reversal coefficient.
        """
        super().__init__(name)
        self.feature = feature
        self.weight = float(weight)
        self.schedule = schedule

    @property
    def taps(self) -> list[str]:
        return [self.feature]

    def coefficient(self, step) -> float:
        return float(self.schedule(step.iteration))

    @staticmethod
    def log(coeff: float, domains, figures: dict) -> None:
        """Put ``figures`` with the coefficient and the video fraction of ``domains`` (N,)."""
        figures = {
            "i2v/grl_coeff": coeff,
            "i2v/video_fraction": domains.float().mean().item(),
            **figures,
        }
        get_event_storage().put_scalars(**figures, smoothing_hint=False)

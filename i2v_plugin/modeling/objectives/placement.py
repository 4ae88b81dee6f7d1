"""``PlacementAdversarial``: the general adversarial loss of one placement (the paper's L_g).

A domain discriminator behind a gradient reversal layer judges the map a placement taps:
"spatial" (the patch embedding) and intermediate stages per channel, "global" (the encoder
output) as one flat vector (tokens concatenated), dense discriminators (conv, PatchGAN) on the map
itself. One instance per entry of ``MODEL.I2V.PLACEMENTS``; loss ``loss_adv_<placement>``.
"""

from ..adversarial.discriminators import DISCRIMINATOR_REGISTRY, DomainDiscriminator
from ..adversarial.losses import DomainAdversarialLoss
from .adversarial import AdversarialObjective, grl_schedule, health_scalars, map_size
from .base import OBJECTIVE_REGISTRY


def _placement_loss(cfg, name, disc_name, shape, backbone) -> DomainAdversarialLoss:
    disc_cls = DISCRIMINATOR_REGISTRY.get(disc_name)
    if not issubclass(disc_cls, DomainDiscriminator):
        raise ValueError(
            f"MODEL.I2V.DISCRIMINATORS names {disc_name!r} for placement {name!r}, which is not a "
            "general domain discriminator (a DomainDiscriminator subclass)"
        )
    if disc_cls.dense:
        kwargs = {"in_channels": shape.channels}
        if backbone.takes_clips and disc_cls.judges_clips:
            # A clip backbone's frames are judged as whole clips (e.g. the 3D PatchGAN).
            kwargs["clip_length"] = cfg.INPUT.CLIP.LENGTH
        return DomainAdversarialLoss(disc_cls(**kwargs), mode="dense")
    what = f"the {disc_name} at placement {name!r}"
    h, w = map_size(cfg, shape, what, backbone.size_divisibility)
    # Spatial and intermediate placements judge each channel's map; "global" judges the whole
    # encoder output (tokens concatenated), as in the paper.
    mode = "flatten" if name == "global" else "per_channel"
    in_features = h * w * (shape.channels if mode == "flatten" else 1)
    disc = disc_cls(in_features=in_features, hidden_dims=tuple(cfg.MODEL.I2V.DISC_HIDDEN_DIMS))
    return DomainAdversarialLoss(disc, mode=mode)


@OBJECTIVE_REGISTRY.register()
class PlacementAdversarial(AdversarialObjective):
    """``loss_adv_<placement>``: BCE of a domain discriminator on one tapped map.

    Config: ``MODEL.I2V.PLACEMENTS`` (one instance each, named ``adv_<placement>``),
    ``PLACEMENT_WEIGHTS``, ``DISCRIMINATORS``, ``DISC_HIDDEN_DIMS``, ``GRL.*``.
    Figures: ``i2v/disc/<placement>/{acc,loss,const_loss,logit_std,dead_units}``.
    """

    def __init__(self, placement: str, feature: str, loss: DomainAdversarialLoss, weight, schedule):
        """
        Args:
            placement: placement name ("spatial", "global", "res3", ...).
            feature: the backbone map it taps.
            loss: the discriminator and its BCE.
            weight: loss weight; schedule: iteration -> reversal coefficient.
        """
        super().__init__(f"adv_{placement}", feature, weight, schedule)
        self.placement = placement
        self.loss = loss

    @classmethod
    def enabled(cls, cfg) -> bool:
        return bool(cfg.MODEL.I2V.PLACEMENTS)

    @classmethod
    def build(cls, cfg, backbone, sem_seg_head) -> list["PlacementAdversarial"]:
        i2v = cfg.MODEL.I2V
        placements = list(i2v.PLACEMENTS)
        tap_of = backbone.placement_features
        unknown = [p for p in placements if p not in tap_of]
        if unknown:
            raise ValueError(
                f"Unknown MODEL.I2V placement(s) {unknown}; choose from {sorted(tap_of)}"
            )
        for key, values in (
            ("PLACEMENT_WEIGHTS", i2v.PLACEMENT_WEIGHTS),
            ("DISCRIMINATORS", i2v.DISCRIMINATORS),
        ):
            if values and len(values) != len(placements):
                raise ValueError(
                    f"MODEL.I2V.{key} has {len(values)} entries but PLACEMENTS has "
                    f"{len(placements)}"
                )
        weights = list(i2v.PLACEMENT_WEIGHTS) or [1.0] * len(placements)
        disc_names = list(i2v.DISCRIMINATORS) or ["MLPDiscriminator"] * len(placements)
        shapes = backbone.feature_shapes()
        schedule = grl_schedule(cfg)
        return [
            cls(
                name,
                tap_of[name],
                _placement_loss(cfg, name, disc, shapes[tap_of[name]], backbone),
                weight,
                schedule,
            )
            for name, disc, weight in zip(placements, disc_names, weights)
        ]

    def forward(self, step) -> dict:
        tapped, domains = step.tapped()
        coeff = self.coefficient(step)
        loss, stats = self.loss(tapped[self.feature], domains, coeff)
        self.log(coeff, domains, health_scalars(self.placement, stats))
        return {f"loss_adv_{self.placement}": loss * self.weight}

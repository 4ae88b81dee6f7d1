"""``TrainingObjective``: the one contract every training objective follows, and its registry.

An objective is a module the meta-architecture calls once per training step, after the
segmentation loss. It says

- which backbone maps it taps on every sample, labeled and unlabeled (``taps``);
- what unlabeled input it needs: none, single frames, or frame pairs (``unlabeled_input``), and
  whether the batch must hold both domains (``needs_both_domains``);
- whether it owns domain discriminators (``owns_discriminators``: their parameters take
  ``MODEL.I2V.DISC_LR_FACTOR``, their health is watched, and ``GRL.MU 0`` is its control);

and its ``forward(step)`` returns its weighted ``loss_*`` terms and logs its figures to the
event storage. Building and every step of an objective run on its own forked random stream, so
a seed gives the segmentation network the same draws with or without it. Everything a step
offers (the labeled pass, the unlabeled samples, tapped maps, the student's pass on new views)
comes through ``TrainingStep`` (``step.py``), so a new objective never edits the
meta-architecture.

Adding one: subclass ``TrainingObjective``, register it with ``@OBJECTIVE_REGISTRY.register()``,
implement ``enabled`` and ``build`` (read your own config keys) and ``forward``, and list its
name in ``MODEL.I2V.OBJECTIVES``. ``docs/ARCHITECTURE.md`` walks through an example.
"""

from detectron2.utils.registry import Registry
from torch import nn

from ...utils.input_needs import InputNeeds

OBJECTIVE_REGISTRY = Registry("I2V_OBJECTIVE")
OBJECTIVE_REGISTRY.__doc__ = """
Registry of training objectives (``TrainingObjective`` subclasses). ``MODEL.I2V.OBJECTIVES``
names the ones a model builds, in order; each builds nothing unless its own keys enable it.
"""


class TrainingObjective(nn.Module):
    """Base class of the training objectives (see the module docstring).

    Class attributes a subclass sets:
        unlabeled_input: "none", "frames" or "frame_pairs" (``utils/input_needs.py``);
            ``unlabeled_input_for(cfg)`` may refine it per config.
        needs_both_domains: the batch must hold image and video samples.
        owns_discriminators: its parameters are domain discriminators.
    """

    unlabeled_input: str = "none"
    needs_both_domains: bool = False
    owns_discriminators: bool = False

    @classmethod
    def enabled(cls, cfg) -> bool:
        """Whether ``cfg`` turns this objective on (read from the objective's own keys)."""
        raise NotImplementedError

    @classmethod
    def build(cls, cfg, backbone, sem_seg_head) -> list["TrainingObjective"]:
        """The instances ``cfg`` asks for (one per placement, say); called only when
        ``enabled(cfg)``, under the objective's own random stream.

        Args:
            cfg: the config.
            backbone: the built ``TappableBackbone`` (its contract: placements, map shapes).
            sem_seg_head: the built segmentation head.
        """
        raise NotImplementedError

    @classmethod
    def unlabeled_input_for(cls, cfg) -> str:
        """What unlabeled input the objective needs under ``cfg`` (default: the class's)."""
        return cls.unlabeled_input

    @classmethod
    def input_needs(cls, cfg) -> InputNeeds:
        """``InputNeeds`` of this objective under ``cfg`` (nothing when not enabled)."""
        if not cls.enabled(cfg):
            return InputNeeds()
        return InputNeeds.of(cls.unlabeled_input_for(cfg), cls.needs_both_domains)

    def __init__(self, name: str):
        """
        Args:
            name: the instance's name: its key in the model's ``objectives`` (checkpoint names
                ``objectives.<name>.*``) and in messages.
        """
        super().__init__()
        self.name = name

    @property
    def taps(self) -> list[str]:
        """Backbone maps the objective reads on every sample (default: none)."""
        return []

    def forward(self, step) -> dict:
        """
        Args:
            step: the ``TrainingStep`` of this iteration.
        Returns:
            dict of weighted losses, each key starting with ``loss_``.
        """
        raise NotImplementedError

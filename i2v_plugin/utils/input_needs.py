"""``InputNeeds``: what the training batches must contain for a config's objectives.

The objectives (``modeling/objectives``) say what they need; the trainer passes the answer to the
data loader (``data/loader.py``), so that the data layer never imports the model. A caller that
passes nothing gets the answer of the registered provider (``modeling.objectives`` registers
``required_inputs`` when it is imported, as ``import i2v_plugin`` does).
"""

from collections.abc import Callable
from typing import NamedTuple

# What unlabeled input an objective needs, from least to most.
UNLABELED_INPUTS = ("none", "frames", "frame_pairs")


class InputNeeds(NamedTuple):
    """Attributes:
    unlabeled: batches carry unlabeled samples (``DATASETS.TRAIN_UNLABELED``).
    frame_pairs: every unlabeled video sample also carries frame t + k ("pair_image",
        ``INPUT.UNLABELED_PAIR_DISTANCE``).
    both_domains: the training data must hold images and videos (a domain discriminator).
    """

    unlabeled: bool = False
    frame_pairs: bool = False
    both_domains: bool = False

    @classmethod
    def of(cls, unlabeled_input: str, both_domains: bool = False) -> "InputNeeds":
        """The needs of one objective: ``unlabeled_input`` in ``UNLABELED_INPUTS``."""
        if unlabeled_input not in UNLABELED_INPUTS:
            raise ValueError(
                f"unlabeled_input must be one of {UNLABELED_INPUTS}, got {unlabeled_input!r}"
            )
        return cls(
            unlabeled=unlabeled_input != "none",
            frame_pairs=unlabeled_input == "frame_pairs",
            both_domains=bool(both_domains),
        )

    def __or__(self, other: "InputNeeds") -> "InputNeeds":
        """Needs of two objectives together."""
        return InputNeeds(*(a or b for a, b in zip(self, other)))


_PROVIDER: list[Callable] = []


def register_needs_provider(provider: Callable) -> None:
    """Make ``provider(cfg) -> InputNeeds`` the answer of ``needs_of`` (the last one wins)."""
    _PROVIDER[:] = [provider]


def needs_of(cfg) -> InputNeeds:
    """What ``cfg``'s training batches must hold, from the registered provider."""
    if not _PROVIDER:
        raise RuntimeError(
            "No input-needs provider is registered: import i2v_plugin (which registers the "
            "objectives' required_inputs) before building the training loader"
        )
    return _PROVIDER[0](cfg)

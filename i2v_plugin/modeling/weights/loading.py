"""``load_converted_weights``: load a converted state dict into a model and report, in one
message, every missing, unexpected and shape-mismatched key."""

import logging
from dataclasses import dataclass, field

import torch
from torch import nn

from .checkpoint_io import load_checkpoint_file

logger = logging.getLogger(__name__)


class WeightLoadError(RuntimeError):
    """A strict load found missing, unexpected or shape-mismatched keys (see the message)."""


@dataclass
class LoadReport:
    """Outcome of ``load_converted_weights``.

    Attributes:
        loaded: keys copied into the model.
        missing: model keys the checkpoint lacks (they keep their initial values).
        unexpected: checkpoint keys the model lacks (ignored).
        mismatched: key -> (checkpoint shape, model shape); the model keeps its initial values.
    """

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether every model key was loaded and nothing was left over."""
        return not (self.missing or self.unexpected or self.mismatched)

    def message(self, source: str = "checkpoint") -> str:
        lines = [f"Loaded {len(self.loaded)} tensors from {source}."]
        if self.missing:
            lines.append(f"Missing in the checkpoint ({len(self.missing)}, left as initialised):")
            lines += [f"  {k}" for k in self.missing]
        if self.unexpected:
            lines.append(f"Unexpected in the checkpoint ({len(self.unexpected)}, ignored):")
            lines += [f"  {k}" for k in self.unexpected]
        if self.mismatched:
            lines.append(f"Shape mismatch ({len(self.mismatched)}, left as initialised):")
            lines += [
                f"  {k}: checkpoint {list(a)} vs model {list(b)}"
                for k, (a, b) in sorted(self.mismatched.items())
            ]
        return "\n".join(lines)


def load_converted_weights(
    model: nn.Module, weights, *, strict: bool = False, source: str | None = None
) -> LoadReport:
    """Copy matching tensors into ``model``; report the rest in ONE message.

    Args:
        model: the target model (e.g. ``I2VSemanticSegmentor``).
        weights: a state dict with the model's names, or the path of a checkpoint file
            (``{"model": ...}`` as written by tools/convert_weights.py, or a plain state dict).
        strict: raise ``WeightLoadError`` (with the message) unless the load is complete.
        source: how the message names the weights (default: the path, or "state dict").
    Returns:
        LoadReport. The message is logged (warning when incomplete, info otherwise).
    """
    if isinstance(weights, dict):
        state_dict = weights
        source = source or "state dict"
    else:
        state_dict = load_checkpoint_file(weights)
        source = source or str(weights)
    own = model.state_dict()
    report = LoadReport()
    loadable = {}
    for key, value in state_dict.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(value.shape) != tuple(own[key].shape):
            report.mismatched[key] = (tuple(value.shape), tuple(own[key].shape))
        else:
            loadable[key] = value
    report.missing = sorted(k for k in own if k not in loadable and k not in report.mismatched)
    report.unexpected.sort()
    report.loaded = sorted(loadable)
    with torch.no_grad():
        model.load_state_dict(loadable, strict=False)
    message = report.message(source)
    if strict and not report.complete:
        raise WeightLoadError(message)
    logger.log(logging.INFO if report.complete else logging.WARNING, "%s", message)
    return report

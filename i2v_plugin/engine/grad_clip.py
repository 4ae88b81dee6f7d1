"""Gradient clipping by group (``SOLVER.GROUP_CLIP``): the global gradient norm of the
segmentation network and that of the discriminators are clipped separately, so a discriminator's
large gradients never shrink the segmentation network's step (and the other way round).

A hook on ``after_backward`` of Detectron2's stock training step, registered on the inner
``SimpleTrainer`` / ``AMPTrainer`` (the one that runs the step); under fp16 mixed precision the
gradients are unscaled first (the grad scaler then skips its own unscale).
"""

from detectron2.engine import HookBase
from detectron2.utils.events import get_event_storage
from torch import nn
from torch.nn.parallel import DistributedDataParallel


def clip_groups(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """{"segmentation": ..., "discriminators": ...}: the trainable parameters of the objectives
    that own discriminators, and all the others."""
    if isinstance(model, DistributedDataParallel):
        model = model.module
    prefixes = tuple(
        f"objectives.{name}."
        for name, objective in getattr(model, "objectives", {}).items()
        if objective.owns_discriminators
    )
    groups = {"segmentation": [], "discriminators": []}
    for name, param in model.named_parameters():
        if param.requires_grad:
            key = "discriminators" if prefixes and name.startswith(prefixes) else "segmentation"
            groups[key].append(param)
    return groups


class GroupClipHook(HookBase):
    """Clip each group's global L2 gradient norm to ``max_norm`` after every backward; logs the
    norms before clipping as ``i2v/grad_norm/<group>``."""

    def __init__(self, model: nn.Module, max_norm: float):
        if max_norm <= 0:
            raise ValueError(f"SOLVER.GROUP_CLIP.MAX_NORM must be > 0, got {max_norm}")
        self.groups = {k: v for k, v in clip_groups(model).items() if v}
        self.max_norm = float(max_norm)

    def after_backward(self):
        scaler = getattr(self.trainer, "grad_scaler", None)
        if scaler is not None and scaler.is_enabled():
            scaler.unscale_(self.trainer.optimizer)
        norms = {}
        for name, params in self.groups.items():
            norm = nn.utils.clip_grad_norm_(params, self.max_norm)
            norms[f"i2v/grad_norm/{name}"] = float(norm)
        get_event_storage().put_scalars(**norms, smoothing_hint=False)

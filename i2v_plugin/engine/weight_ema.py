"""Weight EMA for evaluation (``SOLVER.WEIGHT_EMA``): an exponential moving average of the
model's weights, kept beside training and put into the model before the final checkpoint and
evaluation.

The average is PyTorch's ``torch.optim.swa_utils.AveragedModel`` with an EMA rule whose decay
warms up with the number of averaged steps, ``min(decay, 1 - 1 / (n + 1))`` (so the first steps
are not dominated by the initial weights); integer buffers (BatchNorm's step count) are copied.
It is a checkpointable of the trainer, so ``--resume`` continues it exactly.
"""

import logging

import torch
from detectron2.engine import HookBase
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel

logger = logging.getLogger(__name__)


def warmup_ema(decay: float):
    """A ``multi_avg_fn`` for ``AveragedModel``: averaged = d * averaged + (1 - d) * current with
    d = min(decay, 1 - 1 / (n + 1)), n the number of updates so far; non-float tensors copied."""

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n) -> None:
        n = int(n)
        d = min(decay, 1.0 - 1.0 / (n + 1))
        if averaged and not averaged[0].is_floating_point():
            torch._foreach_copy_(averaged, current)
            return
        torch._foreach_lerp_(averaged, current, 1.0 - d)

    return update


def build_weight_ema(model: nn.Module, decay: float) -> AveragedModel:
    """The average of ``model`` (its DDP wrapper is looked through), parameters and buffers."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"SOLVER.WEIGHT_EMA.DECAY must lie in [0, 1), got {decay}")
    if isinstance(model, DistributedDataParallel):
        model = model.module
    return AveragedModel(model, multi_avg_fn=warmup_ema(decay), use_buffers=True)


class WeightEMAHook(HookBase):
    """Updates the average after every step; after the last step (insert it before the
    ``PeriodicCheckpointer``, the ``EvalHook`` and AdaBN) it copies the averaged weights into the
    model, so ``model_final.pth`` and the final evaluation use them."""

    def __init__(self, model: nn.Module, average: AveragedModel):
        self._model = model.module if isinstance(model, DistributedDataParallel) else model
        self._average = average

    def after_step(self):
        self._average.update_parameters(self._model)
        if self.trainer.iter + 1 >= self.trainer.max_iter:
            with torch.no_grad():
                target = list(self._model.parameters()) + list(self._model.buffers())
                source = list(self._average.module.parameters())
                source += list(self._average.module.buffers())
                for t, s in zip(target, source):
                    t.copy_(s)
            logger.info(
                "Weight EMA: the model now holds the average of %d steps.",
                int(self._average.n_averaged),
            )

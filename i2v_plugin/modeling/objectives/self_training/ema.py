"""The EMA teacher of self-training (mean teacher, as in DAFormer): a copy of the student's
backbone and head whose weights follow an exponential moving average of the student's.

The teacher is a registered submodule of the model, so it is in ``model.state_dict()`` and in
every checkpoint, and a resumed run continues it exactly. Its parameters never require gradients,
so the optimizer (Detectron2's ``get_default_optimizer_params`` skips them) and DDP leave them
alone. The EMA coefficient is a function of the trainer iteration only,
``alpha = min(1 - 1 / (iter + 1), decay)``: iteration 0 copies the student (so weights loaded
into the student after the model was built reach the teacher), later ones average over about
``1 / (1 - decay)`` steps.
"""

import copy

import torch
from torch import nn

from ....utils.precision import float32_region
from ...clips import frame_logits


def ema_alpha(iteration: int, decay: float) -> float:
    """Weight of the teacher's own weights at ``iteration`` (DAFormer's warm-up rule)."""
    return min(1.0 - 1.0 / (iteration + 1), decay)


class EMATeacher(nn.Module):
    """Frozen copies of a backbone and a head, updated by ``update`` and always in eval mode
    (no dropout or stochastic depth; BatchNorm normalises with the EMA of the student's running
    statistics)."""

    def __init__(self, backbone: nn.Module, sem_seg_head: nn.Module, decay: float):
        """
        Args:
            backbone, sem_seg_head: the student's modules; they are deep-copied.
            decay: the EMA decay (``MODEL.I2V.SELF_TRAINING.EMA_DECAY``), in [0, 1).
        """
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"MODEL.I2V.SELF_TRAINING.EMA_DECAY must lie in [0, 1), got {decay}")
        self.backbone = copy.deepcopy(backbone)
        self.sem_seg_head = copy.deepcopy(sem_seg_head)
        self.decay = float(decay)
        for param in self.parameters():
            param.requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True):
        # The teacher predicts in eval mode whatever mode the model is put in.
        return super().train(False)

    @torch.no_grad()
    def update(self, backbone: nn.Module, sem_seg_head: nn.Module, iteration: int) -> float:
        """``teacher = alpha * teacher + (1 - alpha) * student`` for every parameter and floating
        buffer (integer buffers, e.g. BatchNorm's step count, are copied); returns alpha. Runs
        with autocast off: the average is taken in the tensors' own (float32) dtype."""
        alpha = ema_alpha(iteration, self.decay)
        device = next(self.parameters()).device
        with float32_region(device):
            self._average(backbone, sem_seg_head, alpha)
        return alpha

    def _average(self, backbone: nn.Module, sem_seg_head: nn.Module, alpha: float) -> None:
        """The update itself: teacher tensors in place, for ``alpha`` in [0, 1)."""
        for teacher, student in ((self.backbone, backbone), (self.sem_seg_head, sem_seg_head)):
            sources = dict(student.named_parameters())
            sources.update(student.named_buffers())
            targets = dict(teacher.named_parameters())
            targets.update(teacher.named_buffers())
            if sources.keys() != targets.keys():
                raise ValueError("The EMA teacher's tensors no longer match the student's")
            for name, target in targets.items():
                source = sources[name].detach()
                if alpha == 0.0 or not target.is_floating_point():
                    target.copy_(source)
                else:
                    target.lerp_(source, 1.0 - alpha)

    @torch.no_grad()
    def predict(self, clips: torch.Tensor) -> torch.Tensor:
        """Float32 softmax probabilities (B*T, num_classes, H, W) of normalised clips
        (B, T, 3, H, W); the networks run under the caller's autocast, the softmax in float32."""
        logits = frame_logits(self.backbone, self.sem_seg_head, clips)
        with float32_region(logits.device):
            return logits.float().softmax(dim=1)

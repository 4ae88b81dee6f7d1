"""Mixed-precision training on any device autocast supports (``SOLVER.AMP``).

Detectron2's ``AMPTrainer`` asserts CUDA and runs ``torch.cuda.amp.autocast``. ``I2VAMPTrainer``
keeps its step (same order: forward under autocast, zero_grad, scaled backward, metrics,
optimizer step through the scaler) with two changes: autocast runs on the model's device, and the
gradients are unscaled before the ``after_backward`` hooks, so that a hook that clips them
(``SOLVER.GROUP_CLIP``, ``grad_clip.py``) sees their true norm.

- ``float16`` (CUDA only): a ``GradScaler`` scales the loss so that small gradients do not
  underflow float16's 5-bit exponent.
- ``bfloat16`` (CUDA or CPU): bfloat16 has float32's 8-bit exponent, so the loss is not scaled
  (the scaler is built disabled: ``scale`` returns the loss, ``step`` is ``optimizer.step``).

Weights, gradients and optimizer state stay float32. The numerically sensitive parts of the
objectives run in float32 inside the step (``utils/precision.py``).
"""

import time

import torch
from detectron2.engine import AMPTrainer
from detectron2.utils.events import get_event_storage

PRECISIONS = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def amp_dtype(precision: str, device_type: str) -> torch.dtype:
    """The autocast dtype of ``SOLVER.AMP.PRECISION`` on a device type.

    Args:
        precision: "float16" or "bfloat16".
        device_type: the model's device type ("cuda", "cpu", ...).
    Raises:
        ValueError for an unknown precision, or float16 off CUDA (no loss scaling there).
    """
    if precision not in PRECISIONS:
        raise ValueError(
            f"SOLVER.AMP.PRECISION must be one of {sorted(PRECISIONS)}, got {precision!r}"
        )
    if precision == "float16" and device_type != "cuda":
        raise ValueError(
            f"SOLVER.AMP.PRECISION float16 needs a CUDA model (MODEL.DEVICE cuda); the model is "
            f"on {device_type!r}: use SOLVER.AMP.PRECISION bfloat16 there"
        )
    return PRECISIONS[precision]


class I2VAMPTrainer(AMPTrainer):
    """``AMPTrainer`` whose autocast runs on the model's device (see the module docstring)."""

    def __init__(self, model, data_loader, optimizer, precision: str):
        """
        Args:
            model, data_loader, optimizer: as for Detectron2's ``SimpleTrainer`` (``model`` may
                be wrapped in DDP).
            precision: ``SOLVER.AMP.PRECISION``, "float16" (CUDA) or "bfloat16".
        """
        device_type = next(model.parameters()).device.type
        dtype = amp_dtype(precision, device_type)
        scaler = torch.amp.GradScaler(device_type, enabled=dtype == torch.float16)
        super().__init__(model, data_loader, optimizer, grad_scaler=scaler, precision=dtype)
        self.device_type = device_type

    def run_step(self):
        """Detectron2's ``AMPTrainer.run_step`` with ``torch.autocast(self.device_type)`` and
        the gradients unscaled before ``after_backward`` (a no-op without loss scaling)."""
        assert self.model.training, "[I2VAMPTrainer] model was changed to eval mode!"
        start = time.perf_counter()
        data = next(self._data_loader_iter)
        data_time = time.perf_counter() - start

        if self.zero_grad_before_forward:
            self.optimizer.zero_grad()
        with torch.autocast(device_type=self.device_type, dtype=self.precision):
            loss_dict = self.model(data)
            if isinstance(loss_dict, torch.Tensor):
                losses = loss_dict
                loss_dict = {"total_loss": loss_dict}
            else:
                losses = sum(loss_dict.values())

        if not self.zero_grad_before_forward:
            self.optimizer.zero_grad()

        self.grad_scaler.scale(losses).backward()

        if self.log_grad_scaler:
            storage = get_event_storage()
            storage.put_scalar("[metric]grad_scaler", self.grad_scaler.get_scale())

        # step() below knows the gradients are unscaled already and skips the step on inf/NaN.
        self.grad_scaler.unscale_(self.optimizer)
        self.after_backward()

        if self.async_write_metrics:
            self.concurrent_executor.submit(
                self._write_metrics, loss_dict, data_time, iter=self.iter
            )
        else:
            self._write_metrics(loss_dict, data_time)

        self.grad_scaler.step(self.optimizer)
        self.grad_scaler.update()

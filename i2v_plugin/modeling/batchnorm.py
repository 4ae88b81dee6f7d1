"""BatchNorm behaviour of the unlabeled pass.

With a BatchNorm network, a forward pass of unlabeled target samples in train mode moves the
running statistics towards the target domain. Those statistics are what the model normalises
with at test time, so the target accuracy changes whether or not any loss uses the pass (the
AdaBN effect). ``UNLABELED_BN_MODES`` makes this explicit:

- "frozen": the unlabeled pass normalises with the running statistics and does not update them
  (BatchNorm layers in eval mode for that pass only). Test-time statistics are those of the
  labeled data, and the discriminators see the unlabeled features as the model computes them at
  test time. With a BatchNorm *backbone* under an adversarial loss this is unstable: nothing
  normalises the unlabeled activations, the reversed gradient grows them freely, and on the
  synthetic DeepLab runs segmentation collapsed (docs/RESULTS.md, tuning).
- "batch": the unlabeled pass normalises with its own batch statistics, like the labeled pass,
  and the running statistics are put back afterwards, so they only ever see the labeled data.
  Stable, and an adversarial gain still cannot be an AdaBN effect.
- "update": train mode, the running statistics see both domains (the first implementation).
  Training never reads running statistics, so where they are re-estimated after training (the
  weight average's ``PRECISE_BN_ITERS``, ``TEST.ADABN``) this is "batch" bit for bit
  (``engine/adabn.py: final_statistics_reestimated``).
"""

import contextlib

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

UNLABELED_BN_MODES = ("frozen", "batch", "update")


@contextlib.contextmanager
def unlabeled_batchnorm(module: nn.Module, mode: str):
    """Context for the unlabeled forward pass of ``module`` under ``mode``.

    "frozen" puts every BatchNorm layer that is in train mode into eval mode and restores it on
    exit; "batch" keeps train mode and gives back every layer's original running buffers on exit
    (any BatchNorm subclass, synchronised ones included); "update" changes nothing.
    """
    if mode not in UNLABELED_BN_MODES:
        raise ValueError(
            f"MODEL.I2V.UNLABELED_BN must be one of {UNLABELED_BN_MODES}, got {mode!r}"
        )
    layers = [m for m in module.modules() if isinstance(m, _BatchNorm) and m.training]
    if mode == "update" or not layers:
        yield
        return
    if mode == "frozen":
        for layer in layers:
            layer.train(False)
        try:
            yield
        finally:
            for layer in layers:
                layer.train(True)
        return
    # The pass updates copies of the buffers; the originals are put back afterwards (put back,
    # not copied into: autograd keeps the tensors the pass used).
    saved = [dict(layer.named_buffers(recurse=False)) for layer in layers]
    for layer, buffers in zip(layers, saved):
        for name, buffer in buffers.items():
            setattr(layer, name, buffer.clone())
    try:
        yield
    finally:
        for layer, buffers in zip(layers, saved):
            for name, buffer in buffers.items():
                setattr(layer, name, buffer)

"""BatchNorm behaviour of the unlabeled pass.

With a BatchNorm network, a forward pass of unlabeled target samples in train mode moves the
running statistics towards the target domain. Those statistics are what the model normalises
with at test time, so the target accuracy changes whether or not any loss uses the pass (the
AdaBN effect). ``UNLABELED_BN_MODES`` makes this explicit:

- "frozen": the unlabeled pass normalises with the running statistics and does not update them
  (BatchNorm layers in eval mode for that pass only). Test-time statistics are those of the
  labeled data, as in a source-only run, so a gain over the source-only row cannot come from them.
  The discriminators see the unlabeled features exactly as the model computes them at test time.
- "update": train mode, the running statistics see both domains (the first implementation).
"""

import contextlib

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

UNLABELED_BN_MODES = ("frozen", "update")


@contextlib.contextmanager
def unlabeled_batchnorm(module: nn.Module, mode: str):
    """Context for the unlabeled forward pass of ``module`` under ``mode``.

    "frozen" puts every BatchNorm layer that is in train mode into eval mode and restores it on
    exit; "update" changes nothing.
    """
    if mode not in UNLABELED_BN_MODES:
        raise ValueError(
            f"MODEL.I2V.UNLABELED_BN must be one of {UNLABELED_BN_MODES}, got {mode!r}"
        )
    layers = []
    if mode == "frozen":
        layers = [m for m in module.modules() if isinstance(m, _BatchNorm) and m.training]
    for layer in layers:
        layer.train(False)
    try:
        yield
    finally:
        for layer in layers:
            layer.train(True)

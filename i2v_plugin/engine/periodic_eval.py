"""Periodic evaluation (``TEST.EVAL_PERIOD``) of what the final evaluation would see.

With ``SOLVER.WEIGHT_EMA`` the final evaluation uses the weight average with BatchNorm statistics
re-estimated for it (``PRECISE_BN_ITERS``). The live network's running statistics are no stand-in
for them: on the 64 px synthetic configs, UperNet's pooling branches normalise pooled maps whose
batch SD is tiny, and a live checkpoint at 500 iterations scores 10.1 mIoU on images-tune where
its average scores 88. So a periodic evaluation copies the current average, re-estimates the
copy's statistics on the labeled stream as the final step does, and evaluates the copy; the
training network, the average and their statistics are not touched.
"""

import copy
import logging

from fvcore.nn.precise_bn import get_bn_modules
from torch.optim.swa_utils import AveragedModel

from .adabn import TargetFramesPass, average_across_processes, average_batch_statistics

logger = logging.getLogger(__name__)


def averaged_network_for_evaluation(average: AveragedModel, build_loader, num_iter: int):
    """A copy of the weight average's network with BatchNorm statistics of its own.

    Args:
        average: the weight average (``engine/weight_ema.py``), left unchanged.
        build_loader: () -> iterable of labeled training batches (labels not needed).
        num_iter: batches the statistics are averaged over (``PRECISE_BN_ITERS``).
    Returns:
        the copy, in eval mode; with several processes every process holds the same statistics
        (averaged across processes, as the final step does).
    """
    network = copy.deepcopy(average.module)
    frames = TargetFramesPass(network).train()
    average_batch_statistics(frames, build_loader(), num_iter)
    average_across_processes(get_bn_modules(frames))
    logger.info(
        "Periodic evaluation: the weight average of %d steps, BatchNorm statistics over %d "
        "batches.",
        int(average.n_averaged), num_iter,
    )  # fmt: skip
    return network.eval()

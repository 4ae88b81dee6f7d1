"""What the self-training teacher handed the student, from a run's ``metrics.json``.

``SelfTraining`` logs per step (``modeling/objectives/self_training``): ``i2v/pseudo/confident``
(fraction of pixels kept), ``quality`` (DAFormer's weight), ``class_<k>`` (share of the kept
pixels per class), and with frame pairs ``temporal_agreement`` (of the pixels confident on both
aligned frames, the fraction whose classes agree) and ``shift_px``.
"""

import statistics

from ..visualization.curves import load_metrics

PREFIX = "i2v/pseudo/"


def pseudo_label_summary(metrics_path: str, last: int = 200) -> dict[str, float]:
    """Mean of every ``i2v/pseudo/*`` series over the last ``last`` iterations that log it.

    Args:
        metrics_path: a run's metrics.json.
        last: window in iterations, counted back from the last logged iteration.
    Returns:
        key without the prefix -> mean (e.g. "confident", "class_3", "temporal_agreement").
    Raises:
        FileNotFoundError / ValueError naming the file if it is missing, holds no record, or
        holds no pseudo-label series (not a self-training run).
    """
    records = [r for r in load_metrics(metrics_path) if any(k.startswith(PREFIX) for k in r)]
    if not records:
        raise ValueError(
            f"{metrics_path}: no {PREFIX}* series; expected the metrics.json of a self-training "
            "run (MODEL.I2V.SELF_TRAINING.ENABLED)"
        )
    end = max(r["iteration"] for r in records)
    window = [r for r in records if r["iteration"] > end - last]
    keys = sorted({k for r in window for k in r if k.startswith(PREFIX)})
    return {k.removeprefix(PREFIX): statistics.fmean(r[k] for r in window if k in r) for k in keys}

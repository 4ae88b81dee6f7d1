"""Training curves from a run's ``metrics.json`` (Detectron2's JSON lines, one dict per write).

One panel per group of series; series absent from the file, and groups left empty, are skipped.
"""

import json
import math
import os
from fnmatch import fnmatch

from matplotlib.figure import Figure

# (panel title, key patterns, y value of a reference line or None)
CURVE_GROUPS = (
    ("Segmentation loss", ("loss_sem_seg", "total_loss"), None),
    ("Adversarial losses", ("loss_adv_*",), None),
    ("Discriminator balanced accuracy", ("i2v/disc/*/acc",), 0.5),
    (
        "Discriminator loss vs constant predictor (dashed)",
        ("i2v/disc/*/loss", "i2v/disc/*/const_loss"),
        None,
    ),
    ("Discriminator logit std", ("i2v/disc/*/logit_std",), None),
    ("Discriminator dead hidden units", ("i2v/disc/*/dead_units",), None),
    ("Gradient reversal coefficient", ("i2v/grl_coeff",), None),
    ("Evaluation mIoU", ("*/sem_seg/mIoU",), None),
)


def load_metrics(path: str) -> list[dict]:
    """Parse a metrics.json; lines that are not JSON objects (e.g. one cut short by a running
    job) are skipped. Raises FileNotFoundError / ValueError naming the file if nothing is read.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Metrics file not found: {path}")
    records = []
    with open(path) as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "iteration" in record:
                records.append(record)
    if not records:
        raise ValueError(
            f"{path}: no metrics record found; expected JSON lines with an 'iteration' key "
            "(Detectron2's metrics.json)"
        )
    return records


def collect_series(records: list[dict]) -> dict[str, tuple[list[int], list[float]]]:
    """{key: (iterations, values)} of every finite numeric scalar, sorted by iteration.

    A resumed run appends to the file, so an iteration logged twice keeps its last value.
    """
    points: dict[str, dict[int, float]] = {}
    for record in records:
        iteration = int(record["iteration"])
        for key, value in record.items():
            if key == "iteration" or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)) and math.isfinite(value):
                points.setdefault(key, {})[iteration] = float(value)
    return {
        key: (sorted(by_iter), [by_iter[i] for i in sorted(by_iter)])
        for key, by_iter in points.items()
    }


def group_series(series: dict) -> list[tuple[str, list[str], float | None]]:
    """The non-empty groups of ``CURVE_GROUPS``: (title, matching keys, reference line)."""
    groups = []
    for title, patterns, reference in CURVE_GROUPS:
        keys = [k for p in patterns for k in sorted(series) if fnmatch(k, p)]
        keys = list(dict.fromkeys(keys))  # a key matched by two patterns is drawn once
        if keys:
            groups.append((title, keys, reference))
    return groups


def series_label(key: str) -> str:
    """Legend text: evaluation keys by dataset name, ``i2v/`` figures without the prefix."""
    if key.endswith("/sem_seg/mIoU"):
        return key[: -len("/sem_seg/mIoU")]
    return key.removeprefix("i2v/")


def training_curves(metrics_path: str) -> Figure:
    """Figure with one panel per non-empty group of ``CURVE_GROUPS``.

    Raises ValueError naming the file if none of the known series is in it.
    """
    series = collect_series(load_metrics(metrics_path))
    groups = group_series(series)
    if not groups:
        patterns = [p for _, group, _ in CURVE_GROUPS for p in group]
        raise ValueError(f"{metrics_path}: none of the plotted series {patterns} is present")
    columns = min(2, len(groups))
    rows = math.ceil(len(groups) / columns)
    fig = Figure(figsize=(6.0 * columns, 3.2 * rows), layout="constrained")
    # One iteration axis for all panels, so sparse evaluations line up with the training curves.
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True).ravel()
    for ax, (title, keys, reference) in zip(axes, groups):
        for key in keys:
            iterations, values = series[key]
            # Evaluations are sparse: markers keep single points visible.
            marker = "o" if len(values) < 20 else None
            ax.plot(
                iterations,
                values,
                label=series_label(key),
                marker=marker,
                markersize=3,
                linewidth=1.2,
                linestyle="--" if key.endswith("/const_loss") else "-",
            )
        if reference is not None:
            ax.axhline(reference, color="grey", linestyle="--", linewidth=0.8, label="chance")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("iteration")
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    fig.suptitle(os.path.normpath(metrics_path), fontsize=9)
    return fig

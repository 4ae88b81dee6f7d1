"""Result summaries: a compact table for the terminal and a JSON record of a run's final metrics."""

import csv
import json
import math
import os

from tabulate import tabulate

from ..evaluation.video_evaluator import PER_SEQUENCE_CSV
from ..utils.atomic import atomic_write

SUMMARY_METRICS = ("mIoU", "fwIoU", "pACC")


def format_results_table(results: dict) -> str:
    """``{dataset: {"sem_seg": {metric: value}}}`` -> a small aligned text table (metrics with
    two decimals, "nan" where a dataset lacks one)."""
    rows = []
    for dataset, tasks in results.items():
        metrics = tasks.get("sem_seg", {})
        rows.append((dataset, *(f"{metrics.get(m, float('nan')):.2f}" for m in SUMMARY_METRICS)))
    header = ("dataset", *SUMMARY_METRICS)
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)


def save_final_results(cfg, results: dict, iteration: int, **extra) -> str:
    """Write ``OUTPUT_DIR/final_results.json``: the final iteration's metrics (``results``, empty
    without evaluation) plus ``extra`` sections (e.g. ``discriminators``: their health).
    The file appears atomically (``utils.atomic``). Returns the path."""
    path = os.path.join(cfg.OUTPUT_DIR, "final_results.json")
    record = {"iteration": iteration, "seed": cfg.SEED, "results": results or {}, **extra}
    with atomic_write(path) as f:
        json.dump(record, f, indent=2)
    return path


def per_sequence_scores(cfg) -> dict[str, dict[str, float]]:
    """``{dataset: {sequence: mIoU}}`` of every video test set evaluated into
    ``OUTPUT_DIR/inference/<dataset>/`` (the video evaluator's per-sequence CSV), so that
    differences between runs can be bootstrapped over sequences; NaN scores are left out."""
    scores = {}
    for dataset in cfg.DATASETS.TEST:
        path = os.path.join(cfg.OUTPUT_DIR, "inference", dataset, PER_SEQUENCE_CSV)
        if not os.path.exists(path):
            continue
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        values = {row["sequence"]: float(row["mIoU"]) for row in rows if row.get("mIoU")}
        scores[dataset] = {k: round(v, 4) for k, v in values.items() if math.isfinite(v)}
    return scores

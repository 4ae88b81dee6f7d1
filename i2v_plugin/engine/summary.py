"""Result summaries: a compact table for the terminal and a JSON record of a run's final metrics."""

import json
import os

from detectron2.utils.file_io import PathManager

SUMMARY_METRICS = ("mIoU", "fwIoU", "pACC")


def format_results_table(results: dict) -> str:
    """``{dataset: {"sem_seg": {metric: value}}}`` -> a small aligned text table."""
    rows = [("dataset",) + SUMMARY_METRICS]
    for dataset, tasks in results.items():
        metrics = tasks.get("sem_seg", {})
        rows.append(
            (dataset,) + tuple(f"{metrics.get(m, float('nan')):.2f}" for m in SUMMARY_METRICS)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save_final_results(cfg, results: dict, iteration: int) -> str:
    """Write ``OUTPUT_DIR/final_results.json`` (the final iteration's metrics); returns the path."""
    path = os.path.join(cfg.OUTPUT_DIR, "final_results.json")
    record = {"iteration": iteration, "seed": cfg.SEED, "results": results}
    with PathManager.open(path, "w") as f:
        json.dump(record, f, indent=2)
    return path

"""Small timing helpers: wall time of a callable with device synchronisation."""

import statistics
import time

import torch


def synchronize(device: torch.device | str | None = None) -> None:
    """Wait for queued CUDA work so wall-clock times measure the work itself."""
    if torch.cuda.is_available() and (device is None or torch.device(device).type == "cuda"):
        torch.cuda.synchronize()


def time_call(fn, device=None) -> float:
    """Seconds taken by ``fn()`` (synchronised before and after)."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def median(values) -> float:
    return float(statistics.median(values))


def format_table(rows: list[tuple], header: tuple) -> str:
    """Aligned plain-text table of ``rows`` (cells are converted with str)."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

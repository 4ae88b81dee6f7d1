"""Small helpers of the suites: wall time of a callable with device synchronisation, and the
printed table of figures."""

import statistics
import time

import torch
from tabulate import tabulate


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
    """Aligned plain-text table of ``rows``, every cell printed as ``str`` and left-aligned."""
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)

"""Skipped samples: a sample that cannot be read (a corrupt, truncated or vanished video) is
replaced by another draw, reported once per file, and counted.

Every mapped training sample carries ``SKIPPED_KEY``: the number of draws that failed before it
was obtained (0 almost always). The train loader sums it over each batch and records the sum as
the metric ``SKIPPED_METRIC`` of that step, so the count crosses the loader's worker processes
with the data itself.
"""

import logging
import os

logger = logging.getLogger(__name__)

# Key of a mapped sample: failed draws replaced by this sample.
SKIPPED_KEY = "skipped_samples"
# EventStorage scalar: skipped samples of a training step (summed over its batch).
SKIPPED_METRIC = "i2v/skipped_samples"

# Files already reported by this process.
_reported: set[str] = set()


def report_skip(path, frames, reason: str) -> None:
    """Warn that a draw of ``path`` at ``frames`` (a frame index or a list of them) failed; each
    file is reported once per process (each loader worker is one), later failures are only
    counted."""
    path = os.fspath(path)
    if path in _reported:
        return
    _reported.add(path)
    where = f"frames {list(frames)}" if isinstance(frames, (list, tuple)) else f"frame {frames}"
    logger.warning(
        "Skipping unreadable video %s at %s: %s. Another sample is drawn instead; later "
        "failures of this file are counted in %s, not logged.",
        path,
        where,
        reason,
        SKIPPED_METRIC,
    )

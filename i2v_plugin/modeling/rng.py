"""Forked random streams: every optional part of the model draws from its own stream.

A seed then gives every row of an experiment the same initial weights, data order, crops and
dropout for the segmentation network as the source-only row: the discriminators' initial
weights, their dropout, the teacher's strong views and any other objective's draws come from
streams derived from (seed, purpose, ...) and leave the main stream untouched.
"""

import contextlib
import zlib

import numpy as np
import torch


def derived_seed(*parts) -> int:
    """A 63-bit seed from ints and strings (strings by CRC-32), stable across runs and
    platforms."""
    words = [zlib.crc32(p.encode()) if isinstance(p, str) else int(p) for p in parts]
    if any(w < 0 for w in words):
        raise ValueError(f"derived_seed takes non-negative ints and strings, got {parts}")
    return int(np.random.SeedSequence(words).generate_state(2, np.uint64)[0] >> np.uint64(1))


@contextlib.contextmanager
def forked_rng(seed: int, device: torch.device | None = None):
    """Run the body on torch's global generators seeded with ``seed``, then restore them.

    Args:
        seed: the stream's seed (``derived_seed``).
        device: the model's device; a CUDA device's generator is forked too.
    """
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield

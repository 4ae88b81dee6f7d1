"""A resumable, seeded training stream: the data a run sees is a pure function of the seed and
the stream position, so ``--resume`` continues exactly where the checkpoint stopped.

``ResumableTrainingSampler`` yields ``(position, index)`` keys; ``SeededMapDataset`` maps a key by
seeding NumPy / Python / torch RNGs from ``(seed, position)`` before calling the mapper, so random
augmentations and frame choices do not depend on worker count or on where a run was resumed. The
caller's RNG states are put back afterwards: mapping in the training process itself
(``NUM_WORKERS 0``) then leaves the model's draws (dropout) as they would be with workers, and an
extra stream (unlabeled samples) does not change them.
"""

import contextlib
import itertools
import logging
import random

import numpy as np
import torch
from detectron2.data.samplers import TrainingSampler
from torch.utils.data import Dataset

from .skips import SKIPPED_KEY

logger = logging.getLogger(__name__)


class ResumableTrainingSampler(TrainingSampler):
    """Detectron2's infinite shuffled stream, keyed by global position and able to skip ahead.

    Set ``start_position`` (items of the global stream already consumed, i.e. iteration x total
    batch size) before the loader is iterated to continue a stream after a resume.
    """

    def __init__(self, size: int, seed: int):
        super().__init__(size, shuffle=True, seed=seed)
        self.start_position = 0

    def __iter__(self):
        keyed = enumerate(self._infinite_indices())
        start = self.start_position + self._rank
        yield from itertools.islice(keyed, start, None, self._world_size)


class SeededMapDataset(Dataset):
    """Maps ``(position, index)`` keys with RNGs seeded from ``(seed, position)``.

    A mapper may return None for a sample it cannot read (e.g. a corrupt video; the mapper
    reports the file, see ``skips.py``); another index, chosen from the same seeded RNG, is tried
    instead. Every mapped sample carries ``SKIPPED_KEY``: the failed tries before it.
    """

    def __init__(self, dataset, mapper, seed: int, max_retries: int = 20):
        """
        Args:
            dataset: indexable list of dataset dicts (e.g. ``DatasetFromList``).
            mapper: callable dict -> mapped dict or None.
            seed: stream seed (the same on every rank and worker).
            max_retries: how many replacement samples to try before giving up.
        """
        self.dataset = dataset
        self.mapper = mapper
        self.seed = int(seed)
        self.max_retries = max_retries

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        position, index = key
        rng_seed = int(np.random.SeedSequence([self.seed, position]).generate_state(1)[0])
        with _restored_rngs():
            random.seed(rng_seed)
            np.random.seed(rng_seed)
            torch.manual_seed(rng_seed)
            return self._map(index)

    def _map(self, index):
        for failures in range(self.max_retries + 1):
            mapped = self.mapper(self.dataset[index])
            if mapped is not None:
                mapped[SKIPPED_KEY] = failures
                return mapped
            logger.debug("Sample %d could not be read; drawing another one.", index)
            index = random.randrange(len(self.dataset))
        raise RuntimeError(
            f"{self.max_retries + 1} samples in a row could not be read; last index {index}. "
            "Check the dataset for corrupt files."
        )


@contextlib.contextmanager
def _restored_rngs():
    """Put Python's, NumPy's and torch's (CPU) global RNG states back on exit."""
    python, numpy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(python)
            np.random.set_state(numpy)

"""Training hooks of the plugin."""

import random

import numpy as np
import torch
from detectron2.engine import HookBase
from detectron2.utils import comm


class StepSeedHook(HookBase):
    """Seeds Python, NumPy and torch from ``(seed, iteration, rank)`` before every step.

    The model's own randomness (dropout, stochastic depth) then depends only on the step, not on
    what consumed random numbers before it (evaluation, an earlier run's steps), so a run resumed
    at iteration i draws exactly what the uninterrupted run drew.

    The step fetches its batch after this hook, so nothing in the loader may draw from these RNGs
    in one run and not in the other: the train loader has its own generator (starting it in the
    first step of a resumed run once shifted that step's dropout). With ``NUM_WORKERS 0`` the main
    process maps the samples, and ``SeededMapDataset`` re-seeds the RNGs from the stream
    position; that too is the same in both runs.
    """

    def __init__(self, seed: int):
        self.seed = int(seed)

    def before_step(self):
        state = np.random.SeedSequence([self.seed, self.trainer.iter, comm.get_rank()])
        step_seed = int(state.generate_state(1)[0])
        random.seed(step_seed)
        np.random.seed(step_seed)
        torch.manual_seed(step_seed)  # also seeds every CUDA device

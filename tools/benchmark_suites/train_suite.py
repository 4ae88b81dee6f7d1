"""``--suite train``: training-step cost of each adversarial mode relative to source-only, and
the project's K-means against scikit-learn on the paper-size problem.

Every configuration trains on the same labeled batch (and the same unlabeled batch where it
uses one); steps are interleaved round-robin so machine noise hits all modes alike.
"""

import copy
import logging
from functools import partial

import numpy as np
import torch
from detectron2.data import DatasetCatalog
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.adversarial.clustering import kmeans, kmeans_sklearn

from .timing import format_table, median, time_call

logger = logging.getLogger(__name__)

MODES = {
    "source_only": "configs/synthetic/swin_source_only.yaml",
    "spatial": "configs/synthetic/swin_spatial.yaml",
    "global": "configs/synthetic/swin_global.yaml",
    "clustered": "configs/synthetic/swin_clustered.yaml",
}


def _fixed_batch(cfg) -> list[dict]:
    """The first labeled and unlabeled samples of the synthetic benchmark, mapped once."""
    mapper = I2VDatasetMapper(cfg, is_train=True)
    np.random.seed(0)
    labeled = DatasetCatalog.get(cfg.DATASETS.TRAIN[0])[: cfg.SOLVER.IMS_PER_BATCH_LABELED]
    unlabeled = DatasetCatalog.get("i2v_synth_videos_train")[: cfg.SOLVER.IMS_PER_BATCH_UNLABELED]
    return [mapper(d) for d in labeled] + [mapper(d) for d in unlabeled]


def _trainer_step(model, optimizer, batch):
    def step():
        losses = model(batch)
        optimizer.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        optimizer.step()

    return step


def measure_step_times(repo_root: str, device: str, rounds: int, warmup: int, opts=()) -> dict:
    """Median seconds per training step of every mode in ``MODES``."""
    steps, batches = {}, {}
    for mode, config in MODES.items():
        cfg = build_cfg(f"{repo_root}/{config}", ["MODEL.DEVICE", device, *opts])
        torch.manual_seed(0)
        model = build_model(cfg).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        if not batches:
            batches["all"] = _fixed_batch(cfg)
        batch = copy.copy(batches["all"])
        if model.adversarial is None:  # source-only sees the labeled half only
            batch = [d for d in batch if "sem_seg" in d]
        steps[mode] = _trainer_step(model, optimizer, batch)
    times = {mode: [] for mode in MODES}
    with EventStorage(0) as storage:
        for r in range(warmup + rounds):
            for mode, step in steps.items():
                seconds = time_call(step, device)
                if r >= warmup:
                    times[mode].append(seconds)
            storage.iter += 1
    return {mode: median(t) for mode, t in times.items()}


def _store(out: dict, fn, *args):
    out["result"] = fn(*args)


def measure_kmeans(device: str, seeds=(0, 1, 2), shape=(768, 56 * 56), k=11) -> dict:
    """Mean seconds and inertia of torch vs scikit-learn K-means (n_init=1) on maps of the
    paper's size: 8 samples x 96 channels = 768 maps of 56 x 56."""
    torch_times, sk_times, rel = [], [], []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        # Correlated per-channel maps (smooth blobs + noise), closer to real activations than
        # i.i.d. noise, which has no cluster structure.
        base = torch.randn(k * 2, shape[1], generator=gen)
        x = base[torch.randint(0, k * 2, (shape[0],), generator=gen)]
        x = (x + 0.5 * torch.randn(shape, generator=gen)).to(device)
        kmeans(x, k, seed=seed)  # warm-up (allocations, kernels)
        ours, reference = {}, {}
        torch_times.append(time_call(partial(_store, ours, kmeans, x, k, seed), device))
        sk_times.append(time_call(partial(_store, reference, kmeans_sklearn, x, k, seed)))
        rel.append(float(ours["result"].inertia) / float(reference["result"].inertia))
    return {
        "kmeans_torch_s": float(np.mean(torch_times)),
        "kmeans_sklearn_s": float(np.mean(sk_times)),
        "kmeans_speedup": float(np.mean(sk_times) / np.mean(torch_times)),
        "kmeans_inertia_rel": float(np.mean(rel)),
    }


def run(repo_root: str, device: str = "cpu", rounds: int = 20, warmup: int = 3) -> dict:
    """All figures of the train suite, plus a printable table under the key "_table"."""
    step = measure_step_times(repo_root, device, rounds, warmup)
    figures = {f"step_s_{mode}": s for mode, s in step.items()}
    for mode in ("spatial", "global", "clustered"):
        figures[f"ratio_{mode}"] = step[mode] / step["source_only"]
    figures.update(measure_kmeans(device))
    targets = {"ratio_spatial": "<= 1.10", "ratio_clustered": "<= 1.25", "kmeans_speedup": ">= 5",
               "kmeans_inertia_rel": "<= 1.02"}  # fmt: skip
    rows = [(k, f"{v:.4f}", targets.get(k, "")) for k, v in figures.items()]
    figures["_table"] = format_table(rows, ("figure", "value", "target"))
    return figures

"""``--suite train``: training-step cost of each adversarial mode and of temporal self-training
relative to source-only, on the synthetic configs (``ratio_<mode>``) and at the paper's size
(``paper_ratio_<mode>``: Swin-T + UperNet, 224 crops, 4 + 4, ``paper_size.py``), and
the project's K-means against scikit-learn on the paper-size problem (768 maps of 56 x 56), on
synthetic blob maps and on real-like maps (a Swin-T patch embedding of benchmark frames).

Every configuration trains on the same labeled batch (and the same unlabeled batch where it
uses one; temporal self-training gets each unlabeled frame with its pair); steps are interleaved
round-robin so machine noise hits all modes alike.
"""

import copy
import logging
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from detectron2.data import DatasetCatalog
from detectron2.data.detection_utils import read_image
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.video import read_frames
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.adversarial.clustering import kmeans, kmeans_sklearn
from i2v_plugin.modeling.backbone.swin import D2SwinTransformer
from i2v_plugin.modeling.objectives import required_inputs

from .paper_size import PAPER_MODES, build_step, paper_cfg
from .timing import format_table, median, time_call

logger = logging.getLogger(__name__)

MODES = {
    "source_only": "configs/synthetic/swin_source_only.yaml",
    "spatial": "configs/synthetic/swin_spatial.yaml",
    "global": "configs/synthetic/swin_global.yaml",
    "clustered": "configs/synthetic/swin_clustered.yaml",
    # Entropy minimisation: the student's own pass over the unlabeled frames and nothing else,
    # the reference for what the EMA teacher of temporal self-training adds (one forward pass
    # over the same number of unlabeled frames: 4 pairs against 8 single frames).
    "entropy": "configs/synthetic/swin_entropy.yaml",
    "self_training_temporal": "configs/synthetic/swin_self_training_temporal.yaml",
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
        # Every batch is mapped with the same seed: the labeled half is the same for all modes;
        # pairs add "pair_image" to the first IMS_PER_BATCH_UNLABELED unlabeled samples.
        key = (cfg.INPUT.UNLABELED_PAIR_DISTANCE, cfg.SOLVER.IMS_PER_BATCH_UNLABELED)
        if key not in batches:
            batches[key] = _fixed_batch(cfg)
        batch = copy.copy(batches[key])
        if not required_inputs(cfg).unlabeled:  # source-only sees the labeled half only
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


# Paper-size steps take seconds each on a CPU thread: a few per mode.
PAPER_ROUNDS = 3
PAPER_WARMUP = 1


def measure_paper_step_times(
    repo_root: str, device: str, rounds: int = PAPER_ROUNDS, warmup: int = PAPER_WARMUP
) -> dict:
    """Median seconds per trainer step (float32) of every mode in ``PAPER_MODES`` at the paper's
    size, steps interleaved round-robin."""
    steps = {mode: build_step(paper_cfg(repo_root, mode, device))[1] for mode in PAPER_MODES}
    times = {mode: [] for mode in PAPER_MODES}
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


def blob_maps(seed: int, shape=(768, 56 * 56), k=11) -> torch.Tensor:
    """Synthetic blob maps: 2k smooth prototypes, each map one of them plus noise."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.randn(k * 2, shape[1], generator=gen)
    x = base[torch.randint(0, k * 2, (shape[0],), generator=gen)]
    return x + 0.5 * torch.randn(shape, generator=gen)


def real_like_maps(seed: int, size: int = 224) -> torch.Tensor:
    """The clustered loss's input at paper size: the patch embedding of a Swin-T (timm layout,
    random initialisation with seed 0) on 4 images and 4 frames decoded from the synthetic
    benchmark's images and videos, resized to ``size``: 8 x 96 = 768 maps of 56 x 56."""
    rng = np.random.default_rng(seed)
    images = DatasetCatalog.get("i2v_synth_images_train")
    videos = DatasetCatalog.get("i2v_synth_videos_train")
    frames = [
        read_image(images[i]["file_name"], format="RGB")
        for i in rng.choice(len(images), 4, replace=False)
    ]
    for i in rng.choice(len(videos), 4, replace=False):
        video = videos[i]
        frames += read_frames(video["video_file"], [int(rng.integers(video["num_frames"]))])
    x = torch.stack([torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1) for f in frames])
    x = F.interpolate(x.float(), size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    torch.manual_seed(0)
    backbone = D2SwinTransformer().eval()
    with torch.no_grad():
        maps = backbone((x - mean) / std, out_features=["patch_embed"])["patch_embed"]
    return maps.reshape(-1, maps.shape[-2] * maps.shape[-1]).contiguous()


def measure_kmeans(device: str, make_maps, prefix: str, seeds=range(10), k=11) -> dict:
    """Mean seconds of torch vs scikit-learn K-means (n_init=1), their ratio, and the mean ratio
    of their inertias, over ``seeds`` (maps and K-means seeds alike)."""
    torch_times, sk_times, rel = [], [], []
    for seed in seeds:
        x = make_maps(seed).to(device)
        kmeans(x, k, seed=seed)  # warm-up (allocations, kernels)
        ours, reference = {}, {}
        torch_times.append(time_call(partial(_store, ours, kmeans, x, k, seed), device))
        sk_times.append(time_call(partial(_store, reference, kmeans_sklearn, x, k, seed)))
        rel.append(float(ours["result"].inertia) / float(reference["result"].inertia))
    return {
        f"{prefix}_torch_s": float(np.median(torch_times)),
        f"{prefix}_sklearn_s": float(np.median(sk_times)),
        f"{prefix}_speedup": float(np.median(sk_times) / np.median(torch_times)),
        f"{prefix}_inertia_rel": float(np.mean(rel)),
        f"{prefix}_inertia_rel_worst": float(np.max(rel)),
    }


def run(repo_root: str, device: str = "cpu", rounds: int = 20, warmup: int = 3) -> dict:
    """All figures of the train suite, plus a printable table under the key "_table"."""
    step = measure_step_times(repo_root, device, rounds, warmup)
    figures = {f"step_s_{mode}": s for mode, s in step.items()}
    for mode in ("spatial", "global", "clustered", "entropy", "self_training_temporal"):
        figures[f"ratio_{mode}"] = step[mode] / step["source_only"]
    figures["ratio_self_training_temporal_vs_entropy"] = (
        step["self_training_temporal"] / step["entropy"]
    )
    figures.update(measure_kmeans(device, blob_maps, "kmeans"))
    figures.update(measure_kmeans(device, real_like_maps, "kmeans_real"))
    paper = measure_paper_step_times(repo_root, device)
    figures.update({f"paper_step_s_{mode}": s for mode, s in paper.items()})
    for mode in PAPER_MODES:
        if mode != "source_only":
            figures[f"paper_ratio_{mode}"] = paper[mode] / paper["source_only"]
    figures["paper_ratio_self_training_vs_entropy"] = paper["self_training"] / paper["entropy"]
    targets = {"ratio_spatial": "<= 1.10", "ratio_clustered": "<= 1.25",
               "ratio_self_training_temporal": "<= 1.6",
               "ratio_self_training_temporal_vs_entropy": "<= 1.6", "kmeans_speedup": ">= 5",
               "kmeans_inertia_rel": "<= 1.02", "kmeans_real_speedup": ">= 5",
               "kmeans_real_inertia_rel": "<= 1.02", "paper_ratio_spatial": "<= 1.10",
               "paper_ratio_clustered": "<= 1.25",
               "paper_ratio_self_training": "<= 1.25 x paper_ratio_entropy",
               "paper_ratio_self_training_vs_entropy": "<= 1.25"}  # fmt: skip
    rows = [(k, f"{v:.4f}", targets.get(k, "")) for k, v in figures.items()]
    figures["_table"] = format_table(rows, ("figure", "value", "target"))
    return figures

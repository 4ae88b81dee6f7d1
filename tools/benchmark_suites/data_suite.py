"""``--suite data``: can the unlabeled video stream keep up with training, and how fast is a video
folder indexed?

* ``video_frames_per_s``: frames per second delivered by the unlabeled stream of the synthetic
  clustered config (``TrainStream`` + train mapper over ``i2v_synth_videos_train``, the config's
  ``DATALOADER.NUM_WORKERS``), timed over N batches after a warm-up.
* ``data_vs_train``: that rate over the rate at which the clustered training step consumes
  unlabeled frames (``IMS_PER_BATCH_UNLABELED / step seconds``); >= 3 leaves the loader idle
  most of the time.
* ``index_videos_per_s``: ``build_video_index`` on 200 freshly written small videos (mp4, webm
  and avi; only the build is timed), and ``index_reload_s``, loading that index when up to date.

Both rates are measured in turn, not at once, on the same machine.
"""

import itertools
import os
import tempfile
import time

import numpy as np
import torch
from detectron2.data import DatasetCatalog
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.data.loader import TrainStream
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.video import write_video
from i2v_plugin.data.video_index import build_video_index
from i2v_plugin.engine.setup import build_cfg

from .timing import format_table, median, time_call

CLUSTERED_CONFIG = "configs/synthetic/swin_clustered.yaml"
VIDEO_DATASET = "i2v_synth_videos_train"


def _video_dicts() -> list[dict]:
    try:
        return DatasetCatalog.get(VIDEO_DATASET)
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"The data suite reads the synthetic videos ({VIDEO_DATASET}); create them with "
            f"`python datasets/prepare_synthetic.py` first. ({err})"
        ) from err


def measure_video_stream(cfg, batches: int, warmup: int) -> float:
    """Frames per second of the unlabeled training stream, after ``warmup`` batches."""
    stream = TrainStream(
        _video_dicts(),
        I2VDatasetMapper(cfg, is_train=True),
        cfg.SOLVER.IMS_PER_BATCH_UNLABELED,
        cfg.DATALOADER.NUM_WORKERS,
        seed=0,
    )
    iterator = iter(stream)
    for _ in range(warmup):  # worker start-up and first decodes
        next(iterator)
    start = time.perf_counter()
    frames = sum(len(batch) for batch in itertools.islice(iterator, batches))
    seconds = time.perf_counter() - start
    del iterator  # stops the worker processes
    return frames / seconds


def _mapped_batch(cfg) -> list[dict]:
    mapper = I2VDatasetMapper(cfg, is_train=True)
    np.random.seed(0)
    labeled = DatasetCatalog.get(cfg.DATASETS.TRAIN[0])[: cfg.SOLVER.IMS_PER_BATCH_LABELED]
    unlabeled = _video_dicts()[: cfg.SOLVER.IMS_PER_BATCH_UNLABELED]
    return [mapper(d) for d in labeled + unlabeled]


def measure_clustered_step(cfg, rounds: int, warmup: int) -> float:
    """Median seconds of one clustered training step (forward, backward, AdamW) on a fixed batch."""
    torch.manual_seed(0)
    model = build_model(cfg).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = _mapped_batch(cfg)

    def step():
        losses = model(batch)
        optimizer.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        optimizer.step()

    times = []
    with EventStorage(0) as storage:
        for r in range(warmup + rounds):
            seconds = time_call(step, cfg.MODEL.DEVICE)
            if r >= warmup:
                times.append(seconds)
            storage.iter += 1
    return median(times)


def measure_index_rate(num_videos: int = 200, workers: int | None = None) -> tuple[float, float]:
    """(videos indexed per second, seconds to reload the up-to-date index) on a fresh folder."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (32, 48, 3), np.uint8) for _ in range(8)]
    with tempfile.TemporaryDirectory(prefix="i2v_index_bench_") as folder:
        for i in range(num_videos):
            subfolder = os.path.join(folder, f"{i // 50:02d}")
            os.makedirs(subfolder, exist_ok=True)
            extension = ("mp4", "webm", "avi")[i % 3]
            write_video(os.path.join(subfolder, f"v{i:04d}.{extension}"), frames, 24)
        start = time.perf_counter()
        summary = build_video_index(folder, workers=workers, progress=False)
        build_seconds = time.perf_counter() - start
        if summary.ok != num_videos:
            raise RuntimeError(f"index benchmark: only {summary.ok} of {num_videos} indexed")
        start = time.perf_counter()
        build_video_index(folder, workers=workers, progress=False)
        reload_seconds = time.perf_counter() - start
    return num_videos / build_seconds, reload_seconds


def run(repo_root: str, device: str = "cpu", rounds: int = 20, warmup: int = 3) -> dict:
    """All figures of the data suite, plus a printable table under the key "_table".

    Args:
        repo_root: the checkout (configs are read from it).
        device: where the training step runs ("cpu" or "cuda"); data loading is always CPU.
        rounds: timed training steps; the stream is timed over 5 x rounds batches.
        warmup: untimed steps / batches first.
    """
    cfg = build_cfg(os.path.join(repo_root, CLUSTERED_CONFIG), ["MODEL.DEVICE", device])
    frames_per_s = measure_video_stream(cfg, batches=5 * rounds, warmup=warmup)
    step_s = measure_clustered_step(cfg, rounds, warmup)
    consumed_per_s = cfg.SOLVER.IMS_PER_BATCH_UNLABELED / step_s
    index_rate, reload_s = measure_index_rate()
    figures = {
        "video_frames_per_s": frames_per_s,
        "loader_workers": cfg.DATALOADER.NUM_WORKERS,
        "step_s_clustered": step_s,
        "train_frames_per_s": consumed_per_s,
        "data_vs_train": frames_per_s / consumed_per_s,
        "index_videos_per_s": index_rate,
        "index_reload_s": reload_s,
    }
    targets = {"data_vs_train": ">= 3"}
    rows = [
        (k, f"{v:.4f}" if isinstance(v, float) else v, targets.get(k, ""))
        for k, v in figures.items()
    ]
    figures["_table"] = format_table(rows, ("figure", "value", "target"))
    return figures

"""``--suite data``: can the unlabeled video stream keep up with training, at the synthetic size
and at YouTube size, and how fast is a video folder indexed?

Synthetic (the toy setting):

* ``video_frames_per_s``: frames per second delivered by the unlabeled stream of the synthetic
  clustered config (train mapper over ``i2v_synth_videos_train``, the config's
  ``DATALOADER.NUM_WORKERS`` and reading path), timed over N batches after a warm-up.
* ``data_vs_train``: that rate over the rate at which the toy clustered training step consumes
  unlabeled frames (``IMS_PER_BATCH_UNLABELED / step seconds``); >= 3 leaves the loader idle
  most of the time.

YouTube size (the paper's unlabeled data: 720p H.264, keyframe every 250 frames):

* a pool of 1280 x 720, 30 fps videos (x264 "veryfast", ``g=250``, moving textured content, so
  P and B frames carry real motion) is generated once and cached in
  ``$DETECTRON2_DATASETS/i2v_bench_youtube/`` (``params.json`` is the cache key);
* ``youtube_frames_per_s_per_worker``: mapped frames per second of the unlabeled video stream
  (``video_stream.py``, the paper config's mapper: random resize to 224..384, 224 crop, flip;
  ``DATALOADER.VIDEO_STREAM`` defaults) with one loader worker, timed over whole blocks after
  the first;
* ``single_seek_frames_per_s``: the one-frame-per-seek baseline, ``read_frames(path, [i])`` at
  random i (decode and RGB only, no mapping); ``stream_vs_single_seek`` is the ratio;
* the same three per CPU second (``..._per_cpu_s...``, ``stream_vs_single_seek_cpu``): on a
  machine shared with other jobs a worker gets less than a core, and wall-clock rates drop with
  the load; CPU-second rates are what one free core gives;
* ``sequential_decode_frames_per_s``: plain decoding of one pool video (no RGB), the ceiling;
  ``youtube_b_frame_share``: the share of B-frames in it;
* ``step_s_paper_clustered`` / ``data_vs_train_paper``: one training step of the paper-size
  clustered model (Swin-T UperNet, 224 crops, batch 4 + 4) on the suite's device, and the
  stream's rate over what that step consumes (4 / step seconds).

Index: ``index_videos_per_s`` (``build_video_index`` on 200 freshly written small videos of three
containers; only the build is timed) and ``index_reload_s`` (loading that index when up to date).

Every figure is measured in turn, not at once, on the machine the JSON names.
"""

import itertools
import json
import os
import tempfile
import time

import av
import numpy as np
import torch
from av.video.frame import PictureType
from detectron2.data import DatasetCatalog
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from i2v_plugin.data.loader import TrainStream, build_unlabeled_stream
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.video import probe_video, read_frames, write_video
from i2v_plugin.data.video_index import build_video_index
from i2v_plugin.engine.setup import build_cfg

from .timing import format_table, median, time_call

CLUSTERED_CONFIG = "configs/synthetic/swin_clustered.yaml"
PAPER_CONFIG = "configs/swin_clustered.yaml"
VIDEO_DATASET = "i2v_synth_videos_train"
POOL_FOLDER = "i2v_bench_youtube"
# The generated YouTube-like pool: count, seconds, size, rate, x264 keyframe interval and preset.
POOL_PARAMS = {
    "version": 1,
    "num_videos": 4,
    "seconds": 20,
    "width": 1280,
    "height": 720,
    "fps": 30,
    "gop": 250,
    "preset": "veryfast",
    "crf": 23,
}


def _video_dicts() -> list[dict]:
    try:
        return DatasetCatalog.get(VIDEO_DATASET)
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"The data suite reads the synthetic videos ({VIDEO_DATASET}); create them with "
            f"`python datasets/prepare_synthetic.py` first. ({err})"
        ) from err


def measure_video_stream(cfg, batches: int, warmup: int) -> float:
    """Frames per second of the synthetic unlabeled training stream, after ``warmup`` batches."""
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


def _step_seconds(cfg, batch: list[dict], rounds: int, warmup: int) -> float:
    """Median seconds of one training step (forward, backward, AdamW) on a fixed batch."""
    torch.manual_seed(0)
    model = build_model(cfg).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

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


def _mapped_batch(cfg, unlabeled_dicts: list[dict]) -> list[dict]:
    mapper = I2VDatasetMapper(cfg, is_train=True)
    np.random.seed(0)
    labeled = DatasetCatalog.get(cfg.DATASETS.TRAIN[0])[: cfg.SOLVER.IMS_PER_BATCH_LABELED]
    unlabeled = unlabeled_dicts[: cfg.SOLVER.IMS_PER_BATCH_UNLABELED]
    return [mapper(d) for d in labeled + unlabeled]


def measure_clustered_step(cfg, rounds: int, warmup: int) -> float:
    """Median seconds of one toy clustered training step on a fixed synthetic batch."""
    return _step_seconds(cfg, _mapped_batch(cfg, _video_dicts()), rounds, warmup)


# ---- the YouTube-size pool -------------------------------------------------------------------


def _moving_frames(seed: int, params: dict):
    """RGB frames with real motion: a smooth texture under a panning, bobbing camera, coloured
    boxes moving on their own paths, and a light grain in 4 x 4 blocks (about 2 Mbit/s at
    crf 23, within YouTube's range for 720p)."""
    rng = np.random.default_rng(seed)
    width, height = params["width"], params["height"]
    num_frames = params["seconds"] * params["fps"]
    pan = 4 * num_frames
    coarse = rng.integers(0, 250, ((height + 80) // 8, (width + pan) // 8 + 1, 3), np.uint8)
    texture = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)
    texture = (texture.astype(np.float32) * 0.5 + np.roll(texture, 4, axis=1) * 0.5).astype(
        np.uint8
    )
    boxes = rng.uniform(0, 1, (5, 5))  # phase x, phase y, speed, colour seed, size
    for t in range(num_frames):
        y0 = int(40 + 30 * np.sin(t / 40))
        frame = texture[y0 : y0 + height, 4 * t : 4 * t + width].copy()
        for phase_x, phase_y, speed, colour, size in boxes:
            cx = int(width / 2 + width / 3 * np.sin(t * (0.02 + 0.03 * speed) + 6 * phase_x))
            cy = int(height / 2 + height / 3 * np.cos(t * (0.03 + 0.02 * speed) + 6 * phase_y))
            half = int(40 + 60 * size)
            frame[max(0, cy - half) : cy + half, max(0, cx - half) : cx + half] = (
                np.array([255 * colour, 255 * (1 - colour), 128]) + 40 * np.sin(t / 15)
            ).clip(0, 250)
        grain = rng.integers(0, 3, (height // 4, width // 4, 1), np.uint8)
        yield frame + np.repeat(np.repeat(grain, 4, axis=0), 4, axis=1)


def youtube_pool(root: str | None = None, params: dict | None = None) -> list[str]:
    """Paths of the generated YouTube-size pool, written once under
    ``<root>/i2v_bench_youtube`` (root: ``$DETECTRON2_DATASETS``, default ``datasets``) and
    rewritten only when ``params`` (default ``POOL_PARAMS``) change."""
    params = dict(POOL_PARAMS if params is None else params)
    root = root or os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))
    folder = os.path.join(root, POOL_FOLDER)
    key_path = os.path.join(folder, "params.json")
    paths = [os.path.join(folder, f"video_{i:02d}.mp4") for i in range(params["num_videos"])]
    if os.path.isfile(key_path) and all(os.path.isfile(p) for p in paths):
        with open(key_path) as f:
            if json.load(f) == params:
                return paths
    os.makedirs(folder, exist_ok=True)
    if os.path.isfile(key_path):
        os.remove(key_path)  # the pool is stale until every video is rewritten
    options = {"preset": params["preset"], "g": str(params["gop"]), "threads": "0"}
    for i, path in enumerate(paths):
        write_video(
            path,
            _moving_frames(i, params),
            params["fps"],
            crf=params["crf"],
            deterministic=False,
            options=options,
        )
    with open(key_path, "w") as f:
        json.dump(params, f, indent=2)
    return paths


def _pool_dicts(paths: list[str]) -> list[dict]:
    """Video-folder style dicts (30 fps time steps) of the pool."""
    dicts = []
    for path in paths:
        info = probe_video(path)
        dicts.append(
            {
                "video_file": path,
                "num_frames": info.num_frames,
                "fps": info.fps,
                "sample_fps": 30.0,
                "height": info.height,
                "width": info.width,
                "domain": "video",
                "video_id": os.path.basename(path),
            }
        )
    return dicts


def _children_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process's live child processes, e.g. the
    loader workers (Linux ``/proc``; NaN elsewhere)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as f:
                pids = f.read().split()
            for pid in pids:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return total
    except (OSError, ValueError):
        return float("nan")


def measure_youtube_stream(cfg, dicts: list[dict], blocks: int = 3) -> dict:
    """Mapped frames per second of the unlabeled video stream with one loader worker, timed over
    ``blocks`` whole blocks after the first (worker start-up): per wall-clock second, and per
    CPU second of the worker (what one free core gives when the machine is shared)."""
    stream = build_unlabeled_stream(cfg, dicts, I2VDatasetMapper(cfg, is_train=True), seed=0)
    steps = stream.dataset.steps_per_block
    iterator = iter(stream)
    for _ in itertools.islice(iterator, steps):
        pass
    start, cpu_start = time.perf_counter(), _children_cpu_seconds()
    frames = sum(len(batch) for batch in itertools.islice(iterator, blocks * steps))
    seconds, cpu_seconds = time.perf_counter() - start, _children_cpu_seconds() - cpu_start
    del iterator
    return {
        "frames_per_s": frames / seconds,
        "frames_per_cpu_s": frames / cpu_seconds if cpu_seconds > 0 else float("nan"),
        "block_frames": stream.dataset.block_size,
    }


def measure_single_seek(paths: list[str], draws: int = 16) -> dict:
    """Frames per wall-clock and per CPU second of ``read_frames(path, [i])`` at random videos
    and frames (decoding and RGB conversion, no mapping)."""
    rng = np.random.default_rng(0)
    counts = [probe_video(p).num_frames for p in paths]
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(draws):
        v = int(rng.integers(len(paths)))
        read_frames(paths[v], [int(rng.integers(counts[v]))])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {"frames_per_s": draws / seconds, "frames_per_cpu_s": draws / cpu_seconds}


def measure_sequential_decode(path: str) -> tuple[float, float]:
    """(frames per second of decoding ``path`` start to end on one thread, no RGB conversion;
    the share of its frames that are B-frames)."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        start = time.perf_counter()
        kinds = [int(frame.pict_type) for frame in container.decode(stream)]
        seconds = time.perf_counter() - start
    return len(kinds) / seconds, kinds.count(int(PictureType.B)) / len(kinds)


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


def youtube_figures(repo_root: str, device: str, paper_rounds: int = 2, blocks: int = 3) -> dict:
    """The YouTube-size figures (see the module docstring)."""
    cfg = build_cfg(
        os.path.join(repo_root, PAPER_CONFIG),
        ["MODEL.DEVICE", device, "DATALOADER.NUM_WORKERS", "1", "DATASETS.TRAIN",
         "('i2v_synth_images_train',)"],
    )  # fmt: skip
    paths = youtube_pool()
    dicts = _pool_dicts(paths)
    stream = measure_youtube_stream(cfg, dicts, blocks)
    seek = measure_single_seek(paths)
    decode_fps, b_share = measure_sequential_decode(paths[0])
    step_s = _step_seconds(cfg, _mapped_batch(cfg, dicts), paper_rounds, warmup=1)
    consumed = cfg.SOLVER.IMS_PER_BATCH_UNLABELED / step_s
    megabits = sum(os.path.getsize(p) for p in paths) * 8 / 1e6
    p = POOL_PARAMS
    return {
        "youtube_frames_per_s_per_worker": stream["frames_per_s"],
        "single_seek_frames_per_s": seek["frames_per_s"],
        "stream_vs_single_seek": stream["frames_per_s"] / seek["frames_per_s"],
        "youtube_frames_per_cpu_s_per_worker": stream["frames_per_cpu_s"],
        "single_seek_frames_per_cpu_s": seek["frames_per_cpu_s"],
        "stream_vs_single_seek_cpu": stream["frames_per_cpu_s"] / seek["frames_per_cpu_s"],
        "sequential_decode_frames_per_s": decode_fps,
        "youtube_pool": f"{len(paths)} x {p['seconds']} s, {p['width']}x{p['height']} "
        f"{p['fps']} fps, x264 {p['preset']} g={p['gop']}, "
        f"{megabits / (len(paths) * p['seconds']):.1f} Mbit/s",
        "youtube_b_frame_share": b_share,
        "stream_frames_per_window": cfg.DATALOADER.VIDEO_STREAM.FRAMES_PER_WINDOW,
        "stream_windows_per_block": cfg.DATALOADER.VIDEO_STREAM.WINDOWS_PER_BLOCK,
        "stream_block_frames": stream["block_frames"],
        "step_s_paper_clustered": step_s,
        "train_frames_per_s_paper": consumed,
        "data_vs_train_paper": stream["frames_per_s"] / consumed,
    }


def run(repo_root: str, device: str = "cpu", rounds: int = 20, warmup: int = 3) -> dict:
    """All figures of the data suite, plus a printable table under the key "_table".

    Args:
        repo_root: the checkout (configs are read from it).
        device: where the training steps run ("cpu" or "cuda"); data loading is always CPU.
        rounds: timed toy training steps; the toy stream is timed over 5 x rounds batches.
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
        **youtube_figures(repo_root, device),
        "index_videos_per_s": index_rate,
        "index_reload_s": reload_s,
    }
    targets = {
        "data_vs_train": ">= 3",
        "youtube_frames_per_s_per_worker": ">= 100",
        "stream_vs_single_seek": ">= 20",
    }
    rows = [
        (k, f"{v:.4f}" if isinstance(v, float) else v, targets.get(k, ""))
        for k, v in figures.items()
    ]
    figures["_table"] = format_table(rows, ("figure", "value", "target"))
    return figures

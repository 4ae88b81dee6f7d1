"""``--suite predict``: end-to-end frames/s of the predict pipeline (decode, batched model,
masks and overlay video) against the model's own forward-only frames/s.

Both run on the same frames with the same batch size: a PyAV-encoded clip, by default of
generated 480 x 480 frames (DAVIS height: the resolution the tool is for), or of the 64 px
synthetic val sequences. On a small CPU, where the model alone keeps every core busy, nothing
overlaps for free and the ratio grows with the frame size, because the model's cost per pixel
exceeds that of decoding, PNG writing and encoding; on tiny frames, fixed per-frame costs (a
file per mask, one encoder call per frame) weigh most. Measurements alternate
between the two so machine noise hits both alike; each figure is the median over the repeats.
"""

import os
import tempfile

import numpy as np
from detectron2.data import DatasetCatalog

from i2v_plugin.data.video import write_video
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.inference.frame_predictor import FramePredictor
from i2v_plugin.inference.sources import open_frame_source, read_rgb_image
from i2v_plugin.inference.video_predictor import predict_video

from .timing import format_table, median, time_call

SOURCE_ONLY_CONFIG = "configs/synthetic/swin_source_only.yaml"
CLIP_FPS = 24
CLIP_SIZE = 128
DEFAULT_FRAME_SIZE = 480
TARGET_RATIO = 0.85


def _val_frames(num_frames: int) -> list[np.ndarray] | None:
    """The first ``num_frames`` frames of the synthetic val sequences (cycled), or None if the
    benchmark is not prepared."""
    try:
        dicts = DatasetCatalog.get("i2v_synth_videos_val")
    except FileNotFoundError:
        return None
    if not dicts:
        return None
    files = [dicts[i % len(dicts)]["file_name"] for i in range(min(num_frames, len(dicts)))]
    frames = [read_rgb_image(f) for f in files]
    return [frames[i % len(frames)] for i in range(num_frames)]


def _generated_frames(
    num_frames: int, size: int = CLIP_SIZE, width: int | None = None
) -> list[np.ndarray]:
    """A disk moving over a colour gradient: a stand-in clip needing no prepared data; frames
    are ``size`` high and ``width`` (default ``size``) wide."""
    width = width or size
    yy, xx = np.mgrid[0:size, 0:width] / np.array([size, width]).reshape(2, 1, 1)
    frames = []
    for t in range(num_frames):
        frame = np.stack([xx, yy, 0.5 + 0.5 * np.sin(6 * xx + t / 5)], axis=-1)
        cx, cy = 0.5 + 0.3 * np.cos(t / 8), 0.5 + 0.3 * np.sin(t / 8)
        frame[(xx - cx) ** 2 + (yy - cy) ** 2 < 0.02] = (1.0, 0.8, 0.1)
        frames.append((frame * 255).astype(np.uint8))
    return frames


def write_benchmark_clip(
    path: str, num_frames: int, frame_size: int = 0, frame_width: int | None = None
) -> str:
    """Encode a ``num_frames`` clip at ``CLIP_FPS`` to ``path``; returns where frames came from.

    ``frame_size`` 0 uses the synthetic val frames (generated ones if the benchmark is not
    prepared); a positive (even) value generates ``frame_size`` x ``frame_size`` frames instead,
    e.g. 480 to time the pipeline at DAVIS resolution, or ``frame_size`` high and
    ``frame_width`` (even) wide ones when ``frame_width`` is given (854 x 480: DAVIS 480p).
    """
    frames = _val_frames(num_frames) if frame_size <= 0 else None
    if frames is not None:
        origin = "i2v_synth_videos_val"
    elif frame_width:
        size = frame_size if frame_size > 0 else CLIP_SIZE
        frames = _generated_frames(num_frames, size, frame_width)
        origin = f"generated {frame_width} x {size} px"
    else:
        size = frame_size if frame_size > 0 else CLIP_SIZE  # stand-in for unprepared val frames
        frames, origin = _generated_frames(num_frames, size), f"generated {size} px"
    write_video(path, frames, CLIP_FPS)
    return origin


def _model_pass(predictor: FramePredictor, batches: list[list[dict]]):
    def run_all():
        for inputs in batches:
            predictor.logits(inputs)

    return run_all


def run(
    repo_root: str,
    device: str = "cpu",
    rounds: int = 20,
    batch_size: int = 8,
    repeats: int = 3,
    config: str = SOURCE_ONLY_CONFIG,
    weights: str = "",
    frame_size: int = DEFAULT_FRAME_SIZE,
    frame_width: int | None = None,
) -> dict:
    """Figures of the predict suite, plus a printable table under the key "_table".

    Args:
        repo_root: repository root (configs are found under it).
        device: "cpu" or "cuda".
        rounds: batches per pass; the clip has ``rounds * batch_size`` frames.
        batch_size: frames per model call, for both measurements.
        repeats: alternating passes of each kind (medians are reported).
        config: model config, relative to ``repo_root``.
        weights: checkpoint; "" keeps the random init (speed does not depend on the weights).
        frame_size: side of generated square frames; 0 = the synthetic val frames (64 px)
            (``write_benchmark_clip``).
        frame_width: width of generated frames ``frame_size`` high (default: square).
    Returns:
        predict_fps, model_fps, predict_vs_model (target >= 0.85), num_frames, batch_size,
        clip (where the frames came from).
    """
    cfg = build_cfg(os.path.join(repo_root, config), ["MODEL.DEVICE", device])
    predictor = FramePredictor(cfg, weights=weights)
    num_frames = rounds * batch_size
    with tempfile.TemporaryDirectory(prefix="i2v_predict_bench_") as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        origin = write_benchmark_clip(clip, num_frames, frame_size, frame_width)
        frames = list(open_frame_source(clip).frames())
        inputs = [predictor.preprocess(f) for f in frames]
        batches = [inputs[i : i + batch_size] for i in range(0, len(inputs), batch_size)]
        model_pass = _model_pass(predictor, batches)
        model_pass()  # warm-up: allocations, kernel selection, CUDA context
        model_s, predict_s = [], []
        written = []

        def pipeline_pass():
            source = open_frame_source(clip)
            out = os.path.join(tmp, "out")
            summary = predict_video(
                predictor, source, out, batch_size, overwrite=True, progress=False
            )
            written.append(summary.num_frames)

        for _ in range(repeats):
            model_s.append(time_call(model_pass, device))
            predict_s.append(time_call(pipeline_pass, device))
        if set(written) != {len(frames)}:
            raise RuntimeError(f"predict pipeline wrote {written} frames, expected {len(frames)}")
    figures = {
        "predict_fps": len(frames) / median(predict_s),
        "model_fps": len(frames) / median(model_s),
    }
    figures["predict_vs_model"] = figures["predict_fps"] / figures["model_fps"]
    figures.update({"num_frames": len(frames), "batch_size": batch_size, "clip": origin})
    targets = {"predict_vs_model": f">= {TARGET_RATIO}"}
    rows = [(k, f"{v:.4g}", targets.get(k, "")) for k, v in figures.items() if k != "clip"]
    figures["_table"] = format_table(rows, ("figure", "value", "target")) + f"\nclip: {origin}"
    return figures

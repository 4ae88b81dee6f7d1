"""The predict pipeline: frames -> batched model -> palette PNG masks + an overlay video.

Three stages overlap: a reader thread decodes and preprocesses batches, the calling thread runs
the model, and a writer thread saves the masks and encodes the overlay video, so end-to-end
throughput stays close to the model's own rate.

Output folder layout::

    masks/<frame name>.png   mode "P" (``CLASS_PALETTE``), value = argmax class of the frame
    overlay.mp4              frames blended with their mask colours (or frame | overlay), at the
                             input's frame rate, one video frame per input frame
"""

import glob
import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from tqdm import tqdm

from .background import BackgroundConsumer, BackgroundIterator
from .frame_predictor import FramePredictor
from .overlay import overlay_frame
from .palette import save_mask_png
from .sources import FrameSource
from .video_writer import StreamingVideoWriter

MASK_DIR = "masks"
OVERLAY_VIDEO = "overlay.mp4"


@dataclass(frozen=True)
class PredictionSummary:
    """What ``predict_video`` wrote.

    Attributes:
        input: the source as given; num_frames: frames predicted and written; fps: output rate;
        mask_dir, video_path: outputs; seconds: end-to-end wall time (opening to last write).
    """

    input: str
    num_frames: int
    fps: float
    mask_dir: str
    video_path: str
    seconds: float

    @property
    def frames_per_s(self) -> float:
        return self.num_frames / self.seconds if self.seconds > 0 else float("nan")


def default_writer_threads(device) -> int:
    """Writer threads that will not steal cores from the model: up to 4 on a GPU, and only the
    cores torch's own threads leave free on a CPU (at least 1; extra threads on a busy CPU
    stall torch's parallel regions and slow the whole pipeline)."""
    cores = os.cpu_count() or 1
    if torch.device(device).type == "cpu":
        cores -= torch.get_num_threads()
    return int(min(4, max(1, cores)))


def _input_batches(source: FrameSource, predictor: FramePredictor, batch_size: int) -> Iterator:
    """(frames, model inputs) per batch of ``batch_size`` consecutive frames (last may be short)."""
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == batch_size:
            yield frames, [predictor.preprocess(f) for f in frames]
            frames = []
    if frames:
        yield frames, [predictor.preprocess(f) for f in frames]


def _finish_frame(frame, mask, mask_path, alpha, side_by_side, background) -> np.ndarray:
    """Save one mask PNG and return the frame's overlay (runs in the writer's pool)."""
    save_mask_png(mask, mask_path)
    return overlay_frame(frame, mask, alpha, side_by_side, background)


def _write_outputs(
    results: Iterator,
    source: FrameSource,
    mask_dir: str,
    video_path: str,
    frame_work,
    pool: ThreadPoolExecutor,
    max_pending: int,
    preset: str,
) -> int:
    """Save each (frames, masks) batch's masks and encode the overlays; returns frames written.

    Per-frame work (PNG compression, blending) runs in ``pool`` with up to ``max_pending``
    frames in flight, while this thread encodes the finished overlays in order.
    """
    pending: deque[Future] = deque()
    submitted = 0
    names = source.frame_names
    with StreamingVideoWriter(video_path, source.fps, preset=preset) as video:
        for frames, masks in results:
            for frame, mask in zip(frames, masks):
                # A decoder may yield more frames than the container announced.
                name = names[submitted] if submitted < len(names) else f"{submitted:06d}"
                path = os.path.join(mask_dir, f"{name}.png")
                pending.append(pool.submit(frame_work, frame, mask, path))
                submitted += 1
            while len(pending) > max_pending:
                video.write(pending.popleft().result())
        while pending:
            video.write(pending.popleft().result())
    return video.num_frames


def _prepare_mask_dir(mask_dir: str, overwrite: bool) -> None:
    old = glob.glob(os.path.join(mask_dir, "*.png"))
    if old and not overwrite:
        raise FileExistsError(
            f"{mask_dir} already holds {len(old)} mask PNGs; choose another output folder or "
            "pass overwrite=True (--overwrite) to replace them"
        )
    for path in old:
        os.remove(path)
    os.makedirs(mask_dir, exist_ok=True)


def predict_video(
    predictor: FramePredictor,
    source: FrameSource,
    output_dir: str,
    batch_size: int = 8,
    alpha: float = 0.5,
    side_by_side: bool = False,
    background: int | None = 0,
    overwrite: bool = False,
    progress: bool = True,
    queue_batches: int = 4,
    writer_threads: int | None = None,
    preset: str = "ultrafast",
) -> PredictionSummary:
    """Segment every frame of ``source`` and write masks and the overlay video to ``output_dir``.

    Args:
        predictor: the model (its device decides CPU or GPU inference).
        source: frames to segment (``open_frame_source``).
        output_dir: created if needed; see the module docstring for its layout.
        batch_size: frames per model call.
        alpha: weight of the mask colours in the overlay, in [0, 1].
        side_by_side: write ``frame | overlay`` instead of the overlay alone.
        background: class left untinted in the overlay (None tints every class).
        overwrite: replace mask PNGs left in ``output_dir/masks`` by an earlier run.
        progress: show a tqdm progress bar (frames).
        queue_batches: batches buffered between the stages (bounds memory).
        writer_threads: threads saving masks and blending overlays; None picks
            ``default_writer_threads`` for the predictor's device.
        preset: x264 preset of the overlay video ("ultrafast": the encoder must keep up with a
            GPU; the video is a preview, so a larger file is the better trade).
    Returns:
        PredictionSummary.
    Raises:
        VideoReadError / ValueError naming the input if it cannot be read; FileExistsError if
        old masks are in the way.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    mask_dir = os.path.join(output_dir, MASK_DIR)
    video_path = os.path.join(output_dir, OVERLAY_VIDEO)
    _prepare_mask_dir(mask_dir, overwrite)
    start = time.perf_counter()
    frame_work = partial(
        _finish_frame, alpha=alpha, side_by_side=side_by_side, background=background
    )
    if writer_threads is None:
        writer_threads = default_writer_threads(predictor.device)
    writer_threads = max(1, writer_threads)
    pool = ThreadPoolExecutor(max_workers=writer_threads, thread_name_prefix="predict-frame")
    write = partial(
        _write_outputs,
        source=source,
        mask_dir=mask_dir,
        video_path=video_path,
        frame_work=frame_work,
        pool=pool,
        max_pending=4 * writer_threads,
        preset=preset,
    )
    writer = BackgroundConsumer(write, maxsize=queue_batches, name="predict-writer")
    reader = BackgroundIterator(
        _input_batches(source, predictor, batch_size), maxsize=queue_batches, name="predict-reader"
    )
    bar = tqdm(
        total=source.num_frames,
        unit="frame",
        desc=os.path.basename(source.path.rstrip("/")),
        disable=not progress,
    )
    try:
        for frames, inputs in reader:
            masks: list[np.ndarray] = predictor.predict(inputs)
            writer.put((frames, masks))
            bar.update(len(frames))
    except BaseException:
        writer.abort()
        pool.shutdown(cancel_futures=True)
        raise
    finally:
        reader.close()
        bar.close()
    try:
        num_frames = writer.finish()
    finally:
        pool.shutdown()
    return PredictionSummary(
        input=source.path,
        num_frames=num_frames,
        fps=float(source.fps),
        mask_dir=mask_dir,
        video_path=video_path,
        seconds=time.perf_counter() - start,
    )

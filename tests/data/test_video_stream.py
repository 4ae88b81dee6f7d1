"""The unlabeled video stream: GOP decoding gives the right frames; the sampling is uniform in
time, spreads batches over videos and covers the pool; the stream is a pure function of (seed,
step) whatever the worker or process count and after a resume; broken and truncated files are
skipped, reported once and counted; a mostly broken pool stops the run.

Stated tolerances: each frame's frequency within 15 % of its expected value (60k samples of 2
frames per window, about 4 standard deviations); decoded frames: each 10-frame bin of time
positions within 25 % of its share (2k samples, 1000 windows, about 4 standard deviations).
Batches: B = 4 <= V = 8 samples from 4 different videos; over n consecutive batches no video
gives more than ceil(n B / V) samples within a block, one more across a block boundary.
"""

import collections
import itertools
import logging
import math

import numpy as np
import pytest

from i2v_plugin.data import video_stream
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.skips import SKIPPED_KEY
from i2v_plugin.data.video import (
    VideoReadError,
    decode_gop,
    iter_gop_frames,
    probe_video,
    read_frames,
    write_video,
)
from i2v_plugin.data.video_stream import TimeGrid, VideoFrameStream, VideoTrainStream

HEIGHT, WIDTH, FPS, GOP = 48, 64, 30, 20


def coded_frame(index: int) -> np.ndarray:
    """A grey frame whose index is written as 7 black / white squares (robust to codec loss)."""
    frame = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    for bit in range(7):
        frame[8:16, 4 + 9 * bit : 12 + 9 * bit] = 255 if (index >> bit) & 1 else 0
    return frame


def frame_code(frame: np.ndarray) -> int:
    return sum(1 << b for b in range(7) if frame[10:14, 6 + 9 * b : 10 + 9 * b].mean() > 128)


def write_coded(path, num_frames: int, faststart: bool = False) -> str:
    frames = [coded_frame(i) for i in range(num_frames)]
    write_video(path, frames, FPS, options={"g": str(GOP)}, faststart=faststart)
    return str(path)


@pytest.fixture(scope="module")
def coded_video(tmp_path_factory):
    return write_coded(tmp_path_factory.mktemp("gop") / "coded.mp4", 90)


def video_dict(path: str, video_id: str) -> dict:
    info = probe_video(path)
    return {
        "video_file": path,
        "num_frames": info.num_frames,
        "fps": info.fps,
        "sample_fps": 30.0,
        "domain": "video",
        "video_id": video_id,
    }


def tag_mapper(d):
    """The sample's origin and one random draw (so augmentation seeding is observable)."""
    return {
        "video_id": d["video_id"],
        "frame_index": d["frame_index"],
        "draw": float(np.random.rand()),
    }


# ---- GOP decoding ----------------------------------------------------------------------------


def test_gop_frames_are_the_frames_read_one_at_a_time(coded_video):
    for anchor in (0, 19, 20, 47, 89):
        gop = []
        frames = decode_gop(coded_video, anchor, lambda g, gop=gop: gop.extend(g) or g)
        assert anchor in gop and gop == list(range(gop[0], gop[-1] + 1))
        assert sorted(frames) == gop
        for index in (gop[0], anchor, gop[-1]):
            assert frame_code(frames[index]) == index
            assert np.array_equal(frames[index], read_frames(coded_video, [index])[0])


def test_only_chosen_frames_come_out_in_presentation_order(coded_video):
    out = list(iter_gop_frames(coded_video, 45, lambda g: {g[-1], g[3], g[1]}))
    assert [i for i, _ in out] == sorted(i for i, _ in out) and len(out) == 3
    assert all(frame_code(f) == i for i, f in out)


def test_frames_are_scaled_down_to_the_bounds(coded_video):
    frames = decode_gop(coded_video, 5, lambda g: g[:2], short_edge=24)
    assert {f.shape for f in frames.values()} == {(24, 32, 3)}
    frames = decode_gop(coded_video, 5, lambda g: g[:2], short_edge=100, long_edge=100)
    assert {f.shape for f in frames.values()} == {(HEIGHT, WIDTH, 3)}  # never scaled up


def test_truncated_faststart_mp4_reads_only_what_is_there(tmp_path):
    path = write_coded(tmp_path / "cut.mp4", 120, faststart=True)
    data = (tmp_path / "cut.mp4").read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # the index comes first
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    assert probe_video(path).num_frames == 120  # the header still promises every frame
    frames = decode_gop(path, 3, lambda g: g)
    assert all(frame_code(f) == i for i, f in frames.items())
    with pytest.raises(VideoReadError, match="frame 110 is not in the file's data"):
        decode_gop(path, 110, lambda g: g)


# ---- sampling (a stand-in decoder with chosen GOP boundaries; no video needed) ---------------

GOP_STARTS = (0, 7, 30, 31, 45)  # uneven GOPs of a 60-frame video


def fake_gops(path, anchor, choose, *bounds):
    """``iter_gop_frames`` of a 60-frame video with GOPs starting at ``GOP_STARTS``."""
    start = max(s for s in GOP_STARTS if s <= anchor)
    end = min([s for s in GOP_STARTS if s > anchor] + [60])
    for index in sorted(choose(list(range(start, end)))):
        yield index, np.full((2, 2, 3), index % 256, np.uint8)


def pool(num_videos: int, fps: float = 30.0, num_frames: int = 60) -> list[dict]:
    return [
        {"video_file": f"v{i}", "num_frames": num_frames, "fps": fps, "sample_fps": 30.0,
         "video_id": f"v{i}"}
        for i in range(num_videos)
    ]  # fmt: skip


def fake_stream(dicts, batch=4, seed=0, read_gop=fake_gops, **options):
    options = {"frames_per_window": 16, "windows_per_block": 8, **options}
    return VideoFrameStream(dicts, tag_mapper, batch, seed, read_gop=read_gop, **options)


def take(dataset, steps, workers=0):
    return list(itertools.islice(iter(VideoTrainStream(dataset, workers)), steps))


@pytest.mark.slow
@pytest.mark.parametrize("fps", [30.0, 24.0])
def test_time_positions_are_uniform(fps):
    grid = TimeGrid(60, fps, 30.0)
    samples = [s for b in take(fake_stream(pool(3, fps), frames_per_window=2), 15000) for s in b]
    counts = collections.Counter(s["frame_index"] for s in samples)
    # A frame shown for two steps of 30 fps (24 fps video) is drawn twice as often.
    shown = collections.Counter(grid.frame_at(k) for k in range(grid.num_steps))
    for frame in range(60):
        expected = len(samples) * shown[frame] / grid.num_steps
        assert abs(counts[frame] - expected) <= 0.15 * expected, (frame, counts[frame], expected)


def code_mapper(d):
    return {"frame_index": d["frame_index"], "code": frame_code(d["video_frame"])}


@pytest.mark.slow
def test_decoded_time_positions_are_uniform(coded_video):
    dicts = [video_dict(coded_video, "a"), video_dict(coded_video, "b")]
    stream = VideoFrameStream(dicts, code_mapper, 4, 0, frames_per_window=2, windows_per_block=4)
    samples = [s for b in take(stream, 500) for s in b]
    assert all(s["code"] == s["frame_index"] for s in samples)  # each sample is its frame
    bins = collections.Counter(s["frame_index"] // 10 for s in samples)
    for b in range(9):
        assert abs(bins[b] - len(samples) / 9) <= 0.25 * len(samples) / 9, bins


def test_batches_draw_from_distinct_videos_and_no_video_dominates():
    batch, windows = 4, 8
    dataset = fake_stream(pool(20), batch=batch, windows_per_block=windows)
    videos = [[s["video_id"] for s in b] for b in take(dataset, 200)]
    assert all(len(set(v)) == batch for v in videos)  # every batch: 4 different videos
    steps = dataset.steps_per_block
    for n in (2, 3, 8):  # any n consecutive batches
        for i in range(len(videos) - n + 1):
            run = collections.Counter(itertools.chain(*videos[i : i + n]))
            one_block = i // steps == (i + n - 1) // steps
            assert max(run.values()) <= math.ceil(n * batch / windows) + (not one_block)


def test_every_video_of_the_pool_is_read_each_epoch():
    dataset = fake_stream(pool(20))  # 8 windows per block: an epoch is 3 blocks
    for epoch in range(3):
        seen = {v for b in range(3 * epoch, 3 * epoch + 3) for v in dataset.block_videos(b)}
        assert seen == set(range(20))
    assert all(len(set(dataset.block_videos(b))) == 8 for b in range(9))


# ---- exact resume, workers, processes ---------------------------------------------------------


def test_resumed_stream_continues_exactly():
    full = take(fake_stream(pool(5)), 100)  # 32 steps per block
    for start in (1, 32, 45):
        resumed = fake_stream(pool(5))
        resumed.start_step = start
        assert take(resumed, 100 - start) == full[start:]


@pytest.mark.parametrize("workers", [1, 2])
def test_stream_does_not_depend_on_worker_count(workers):
    expected = take(fake_stream(pool(5), windows_per_block=4, frames_per_window=4), 20)
    dataset = fake_stream(pool(5), windows_per_block=4, frames_per_window=4)
    assert take(dataset, 20, workers=workers) == expected


def test_processes_share_the_single_process_stream(monkeypatch):
    single = take(fake_stream(pool(9)), 40)
    per_rank, reads = [], collections.Counter()
    for rank in range(2):
        monkeypatch.setattr(video_stream.comm, "get_rank", lambda rank=rank: rank)
        monkeypatch.setattr(video_stream.comm, "get_world_size", lambda: 2)

        def counting(path, anchor, choose, *bounds, rank=rank):
            reads[rank] += 1
            yield from fake_gops(path, anchor, choose, *bounds)

        per_rank.append(take(fake_stream(pool(9), read_gop=counting), 40))
    for step in range(40):
        merged = sorted(per_rank[0][step] + per_rank[1][step], key=lambda s: s["draw"])
        assert merged == sorted(single[step], key=lambda s: s["draw"])
    assert reads[0] == reads[1] == 4 * 2  # each rank reads half the windows of its 2 blocks


# ---- broken files ----------------------------------------------------------------------------


def test_broken_and_truncated_files_are_skipped_reported_once_and_counted(tmp_path, caplog):
    good = write_coded(tmp_path / "good.mp4", 60)
    cut = write_coded(tmp_path / "cut.mp4", 120, faststart=True)
    data = (tmp_path / "cut.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    dicts = [video_dict(good, "good"), video_dict(cut, "cut")]
    (tmp_path / "gone.mp4").write_bytes(b"\0" * 100)
    dicts.append({**dicts[0], "video_file": str(tmp_path / "gone.mp4"), "video_id": "gone"})
    caplog.set_level(logging.WARNING)
    stream = VideoFrameStream(
        dicts, tag_mapper, 4, 0, frames_per_window=4, windows_per_block=4, min_checked_draws=1000
    )
    batches = take(stream, 40)
    samples = [s for b in batches for s in b]
    assert {s["video_id"] for s in samples} <= {"good", "cut"}
    assert max(s["frame_index"] for s in samples if s["video_id"] == "cut") < 60
    assert sum(s[SKIPPED_KEY] for s in samples) > 0
    for path in (cut, str(tmp_path / "gone.mp4")):
        reports = [r.getMessage() for r in caplog.records if path in r.getMessage()]
        assert len(reports) == 1 and "frame" in reports[0]


def test_mostly_broken_pool_stops_with_a_clear_error():
    dicts = pool(10)

    def first_is_fine(path, anchor, choose, *bounds):
        if path != "v0":
            raise VideoReadError(path, "not a readable video container")
        yield from fake_gops(path, anchor, choose, *bounds)

    stream = fake_stream(dicts, read_gop=first_is_fine, min_checked_draws=20)
    with pytest.raises(RuntimeError, match="MAX_SKIP_FRACTION"):
        take(stream, 100)
    # One bad video in four is a normal run.
    healthy = fake_stream(pool(4), read_gop=first_or_all_but_last, min_checked_draws=20)
    samples = [s for b in take(healthy, 100) for s in b]
    assert {s["video_id"] for s in samples} == {"v0", "v1", "v2"}


def first_or_all_but_last(path, anchor, choose, *bounds):
    if path == "v3":
        raise VideoReadError(path, "not a readable video container")
    yield from fake_gops(path, anchor, choose, *bounds)


# ---- the mapper takes the decoded frame ------------------------------------------------------


def test_mapper_uses_the_decoded_frame_and_refuses_it_for_clips():
    frame = np.full((HEIGHT, WIDTH, 3), 77, np.uint8)
    d = {"video_file": "unused.mp4", "num_frames": 10, "domain": "video", "frame_index": 3}
    out = I2VDatasetMapper(is_train=True, augmentations=[], num_classes=2)(
        {**d, "video_frame": frame}
    )
    assert out["image"].shape == (3, HEIGHT, WIDTH) and int(out["image"].float().mean()) == 77
    assert out["frame_index"] == 3 and "video_frame" not in out
    clips = I2VDatasetMapper(is_train=True, augmentations=[], num_classes=2, clip_length=2)
    with pytest.raises(ValueError, match="single frame"):
        clips({**d, "video_frame": frame})


@pytest.mark.parametrize("workers", [0, 1])
def test_fetching_leaves_the_global_rngs_alone(workers):
    import random

    import torch

    stream = iter(VideoTrainStream(fake_stream(pool(3)), workers))
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    states = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    next(stream)  # starts the workers, computes a block
    assert torch.equal(torch.get_rng_state(), states[0])
    assert np.array_equal(np.random.get_state()[1], states[1]) and random.getstate() == states[2]

"""``--suite data`` at YouTube size, on a small pool: the generated pool has the asked keyframe
interval and inter frames, is written once and rewritten when its parameters change; the
stream, single-seek and decode rates come out of the same code the suite runs (the suite's JSON
records the share of B-frames of its 720p pool)."""

import os

import av
from av.video.frame import PictureType
from benchmark_suites import data_suite

from i2v_plugin.data.video import probe_video
from i2v_plugin.engine.setup import build_cfg
from tests.helpers import REPO_ROOT

SMALL_POOL = {
    **data_suite.POOL_PARAMS,
    "num_videos": 2,
    "seconds": 2,
    "width": 160,
    "height": 96,
    "gop": 25,
}


def test_pool_has_long_gops_with_b_frames_and_is_cached(tmp_path):
    paths = data_suite.youtube_pool(str(tmp_path), SMALL_POOL)
    assert len(paths) == 2
    info = probe_video(paths[0])
    assert (info.num_frames, info.fps, info.width, info.height) == (60, 30.0, 160, 96)
    with av.open(paths[0]) as container:
        keyframes = sum(p.is_keyframe for p in container.demux(video=0) if p.size)
    with av.open(paths[0]) as container:
        kinds = {PictureType(frame.pict_type).name for frame in container.decode(video=0)}
    assert 2 <= keyframes <= 4 and {"I", "P"} <= kinds
    written = [os.path.getmtime(p) for p in paths]
    assert data_suite.youtube_pool(str(tmp_path), SMALL_POOL) == paths
    assert [os.path.getmtime(p) for p in paths] == written  # cached
    data_suite.youtube_pool(str(tmp_path), {**SMALL_POOL, "seconds": 1})
    assert probe_video(paths[0]).num_frames == 30  # rewritten for new parameters


def test_stream_seek_and_decode_rates_on_a_small_pool(synth_root, tmp_path):
    paths = data_suite.youtube_pool(str(tmp_path), SMALL_POOL)
    cfg = build_cfg(
        os.path.join(REPO_ROOT, data_suite.PAPER_CONFIG),
        ["DATALOADER.NUM_WORKERS", "0", "DATALOADER.VIDEO_STREAM.FRAMES_PER_WINDOW", "8",
         "DATALOADER.VIDEO_STREAM.WINDOWS_PER_BLOCK", "2"],
    )  # fmt: skip
    stream = data_suite.measure_youtube_stream(cfg, data_suite._pool_dicts(paths), blocks=1)
    assert stream["frames_per_s"] > 0 and stream["block_frames"] == 16
    seek = data_suite.measure_single_seek(paths, draws=2)
    assert seek["frames_per_s"] > 0 and seek["frames_per_cpu_s"] > 0
    frames_per_s, b_share = data_suite.measure_sequential_decode(paths[0])
    assert frames_per_s > 0 and 0 <= b_share < 1

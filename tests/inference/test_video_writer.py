"""``StreamingVideoWriter``: the H.264 formats of ``data.video``'s one table, frames checked as
``write_video`` checks them, and a failed or empty video leaves no file."""

import os
from fractions import Fraction

import numpy as np
import pytest

from i2v_plugin.data.video import VIDEO_FORMATS, probe_video, read_frames
from i2v_plugin.inference.video_writer import H264_FORMATS, StreamingVideoWriter


def test_writes_the_h264_formats_of_the_shared_table(tmp_path):
    assert sorted(H264_FORMATS) == [".mkv", ".mov", ".mp4"]
    assert all(VIDEO_FORMATS[ext] == fmt for ext, fmt in H264_FORMATS.items())
    frames = [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(5)]
    for extension in H264_FORMATS:
        path = tmp_path / f"clip{extension.upper()}"  # the extension is matched in any case
        with StreamingVideoWriter(path, Fraction(30000, 1001)) as writer:
            for frame in frames:
                writer.write(frame)
        assert writer.num_frames == 5
        info = probe_video(path)
        assert (info.num_frames, info.width, info.height) == (5, 48, 32)
        assert abs(info.fps - 30000 / 1001) < 1e-3
        assert abs(int(read_frames(path, [4])[0].mean()) - 160) <= 2
    assert len(os.listdir(tmp_path)) == 3


@pytest.mark.parametrize(
    ("name", "frames", "message"),
    [
        ("clip.webm", [], r"unsupported extension '\.webm'; expected one of \['\.mkv'"),
        ("odd.mp4", [np.zeros((31, 48, 3), np.uint8)], "needs even width and height, got 48x31"),
        ("gray.mp4", [np.zeros((32, 48), np.uint8)], "frame 0 must be an HxWx3 uint8"),
        ("sizes.mp4", [np.zeros((32, 48, 3), np.uint8)] * 2 + [np.zeros((32, 32, 3), np.uint8)],
         "frame 2 has size"),
        ("empty.mp4", [], "no frames given"),
    ],
)  # fmt: skip
def test_bad_videos_are_clear_errors_and_leave_no_file(tmp_path, name, frames, message):
    with pytest.raises(ValueError, match=message) as info:
        with StreamingVideoWriter(tmp_path / name, 24) as writer:
            for frame in frames:
                writer.write(frame)
    assert name in str(info.value)
    assert os.listdir(tmp_path) == []

"""Frame sources: missing or inconsistent inputs are clear errors naming what was expected."""

import pytest
from PIL import Image

from i2v_plugin.data.video import VideoReadError, write_video
from i2v_plugin.inference import open_frame_source
from tests.helpers.media import make_frames

CONFIG = "configs/synthetic/swin_source_only.yaml"


def test_missing_inputs_name_what_was_expected(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=f"{empty}.*no image file"):
        open_frame_source(str(empty))
    with pytest.raises(FileNotFoundError, match="matches the pattern"):
        open_frame_source(str(tmp_path / "*.jpg"))
    with pytest.raises(VideoReadError, match="does not exist"):
        open_frame_source(str(tmp_path / "nowhere.mp4"))
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(make_frames(1)[0]).save(mixed / "a.png")
    Image.fromarray(make_frames(1, 32, 32)[0]).save(mixed / "b.png")
    with pytest.raises(ValueError, match=r"b\.png: frame size 32x32 differs"):
        list(open_frame_source(str(mixed)).frames())
    with pytest.raises(ValueError, match="--fps applies to frame folders"):
        clip = tmp_path / "c.mp4"
        write_video(clip, make_frames(2), 24)
        open_frame_source(str(clip), fps=30)

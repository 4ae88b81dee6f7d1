"""tools/predict_video.py and i2v_plugin.inference: a PyAV clip gives one mask and one overlay
frame per input frame at the input's rate, masks equal the model's argmax, frame folders and
globs work, bad input is a clear error naming the file, and a failing stage leaves no video."""

import os
from fractions import Fraction

import numpy as np
import pytest
import torch
from detectron2.modeling import build_model
from PIL import Image

from i2v_plugin.data.video import VideoReadError, probe_video, read_frames, write_video
from i2v_plugin.inference import FramePredictor, open_frame_source
from tests.helpers import TINY_MODEL_OPTS, tiny_cfg
from tests.helpers.media import make_frames, read_mask
from tests.helpers.tools import load_tool

CONFIG = "configs/synthetic/swin_source_only.yaml"
NUM_FRAMES, SIZE, FPS = 7, 64, Fraction(25, 2)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A tiny random model's checkpoint, saved the way Detectron2 checkpoints are."""
    torch.manual_seed(0)
    model = build_model(tiny_cfg(CONFIG))
    path = tmp_path_factory.mktemp("weights") / "tiny.pth"
    torch.save({"model": model.state_dict(), "iteration": 9}, path)
    return str(path)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    write_video(path, make_frames(NUM_FRAMES), FPS)
    return str(path)


@pytest.fixture(scope="module")
def predict_tool():
    return load_tool("predict_video")


def cli_args(input_path, output, weights, *extra):
    return [
        "--config-file", os.path.join(os.path.dirname(__file__), "..", "..", CONFIG),
        "--input", str(input_path), "--output", str(output), "--no-progress", *extra,
        *TINY_MODEL_OPTS, "MODEL.WEIGHTS", weights,
    ]  # fmt: skip


def model_input(frame: np.ndarray) -> dict:
    """The meta-architecture's inference input for an RGB frame, built by hand."""
    image = torch.from_numpy(frame.transpose(2, 0, 1).copy())
    return {"image": image, "height": frame.shape[0], "width": frame.shape[1]}


def test_video_gives_same_count_and_rate_and_masks_equal_model_argmax(
    clip, weights, predict_tool, tmp_path
):
    out = tmp_path / "out"
    predict_tool.main(cli_args(clip, out, weights, "--batch-size", "3"))

    overlay = probe_video(out / "overlay.mp4")
    assert overlay.num_frames == NUM_FRAMES
    assert overlay.fps == pytest.approx(float(FPS))
    assert (overlay.height, overlay.width) == (SIZE, SIZE)
    names = sorted(os.listdir(out / "masks"))
    assert names == [f"{i:06d}.png" for i in range(NUM_FRAMES)]

    # Reference: the model itself on the same decoded frames, in the same batches of 3.
    cfg = tiny_cfg(CONFIG, "MODEL.WEIGHTS", weights)
    model = FramePredictor(cfg).model
    frames = read_frames(clip, range(NUM_FRAMES))
    expected = []
    with torch.no_grad():
        for start in range(0, NUM_FRAMES, 3):
            inputs = [model_input(f) for f in frames[start : start + 3]]
            expected += [o["sem_seg"].argmax(0).numpy() for o in model(inputs)]
    masks = [read_mask(out / "masks" / name) for name in names]
    for index, (mask, reference) in enumerate(zip(masks, expected)):
        assert np.array_equal(mask, reference), f"frame {index} differs from the model's argmax"
    # The random model predicts several classes, so the equality above is not a constant map.
    assert len(np.unique(np.stack(masks))) > 1


@pytest.mark.parametrize("kind", ["folder", "glob"])
def test_frame_folder_or_glob_side_by_side(kind, weights, predict_tool, tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    height, width = 48, 64
    for index, frame in enumerate(make_frames(5, height, width)):
        Image.fromarray(frame).save(frames_dir / f"shot_{index:02d}.png")
    (frames_dir / "notes.txt").write_text("not a frame")
    source = frames_dir if kind == "folder" else frames_dir / "shot_*.png"
    out = tmp_path / "out"
    predict_tool.main(cli_args(source, out, weights, "--fps", "10", "--side-by-side"))

    assert sorted(os.listdir(out / "masks")) == [f"shot_{i:02d}.png" for i in range(5)]
    overlay = probe_video(out / "overlay.mp4")
    assert (overlay.num_frames, overlay.fps) == (5, 10.0)
    assert (overlay.height, overlay.width) == (height, 2 * width)
    # The left half of the side-by-side video is the input frame (up to codec loss).
    first = read_frames(out / "overlay.mp4", [0])[0]
    left = first[:, :width].astype(int)
    assert np.abs(left - make_frames(1, height, width)[0]).mean() < 12

    with pytest.raises(SystemExit, match="already holds 5 mask PNGs"):
        predict_tool.main(cli_args(source, out, weights, "--fps", "10"))
    predict_tool.main(cli_args(source, out, weights, "--fps", "10", "--overwrite"))
    assert probe_video(out / "overlay.mp4").width == width


def test_unreadable_video_is_a_clear_error_naming_the_file(weights, predict_tool, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(VideoReadError, match="broken.mp4"):
        open_frame_source(str(bad))
    with pytest.raises(SystemExit, match=r"Cannot read video .*broken\.mp4"):
        predict_tool.main(cli_args(bad, tmp_path / "out", weights))
    assert not (tmp_path / "out" / "overlay.mp4").exists()


def test_help_has_usage_examples(predict_tool, capsys):
    with pytest.raises(SystemExit):
        predict_tool.main(["--help"])
    assert "--side-by-side" in capsys.readouterr().out

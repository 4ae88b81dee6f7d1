"""tools/predict_video.py and i2v_plugin.inference: a PyAV clip gives one mask and one overlay
frame per input frame at the input's rate, masks equal the model's argmax, frame folders and
globs work, bad input is a clear error naming the file, and a failing stage leaves no video."""

import os
from fractions import Fraction

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL_OPTS, tiny_cfg
from detectron2.modeling import build_model
from PIL import Image
from tool_loading import load_tool

from i2v_plugin.data.video import VideoReadError, probe_video, read_frames, write_video
from i2v_plugin.inference import FramePredictor, open_frame_source, predict_video
from i2v_plugin.inference.background import BackgroundConsumer, BackgroundIterator
from i2v_plugin.inference.overlay import blend, overlay_frame
from i2v_plugin.inference.palette import CLASS_PALETTE, save_mask_png

CONFIG = "configs/synthetic/swin_source_only.yaml"
NUM_FRAMES, SIZE, FPS = 7, 64, Fraction(25, 2)


def make_frames(num: int, height: int = SIZE, width: int = SIZE) -> list[np.ndarray]:
    """A bright square moving over a colour gradient (varied content, so argmax varies)."""
    yy, xx = np.mgrid[0:height, 0:width]
    frames = []
    for t in range(num):
        frame = np.stack([xx * 4 % 256, yy * 4 % 256, np.full_like(xx, 40 * t % 256)], axis=-1)
        frame[10 + 3 * t : 30 + 3 * t, 8 + 4 * t : 28 + 4 * t] = (250, 230, 20)
        frames.append(frame.astype(np.uint8))
    return frames


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


def read_mask(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "P"
        return np.asarray(image)


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


class FailingSource:
    """Yields three frames, then fails like a damaged stream."""

    path, fps, num_frames = "failing.mp4", Fraction(24), 8
    frame_names = [f"{i:06d}" for i in range(8)]

    def frames(self):
        yield from make_frames(3)
        raise VideoReadError(self.path, "decoding failed after 3 frames")


def test_a_failing_reader_raises_and_leaves_no_video(weights, tmp_path):
    predictor = FramePredictor(tiny_cfg(CONFIG), weights=weights)
    with pytest.raises(VideoReadError, match="failing.mp4"):
        predict_video(predictor, FailingSource(), str(tmp_path), batch_size=2, progress=False)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".mp4")]


def test_background_stages_hand_over_items_and_errors():
    with BackgroundIterator(range(50), maxsize=2) as items:
        assert list(items) == list(range(50))

    def broken():
        yield 1
        raise OSError("disk gone")

    with BackgroundIterator(broken(), maxsize=2) as items, pytest.raises(OSError, match="gone"):
        list(items)

    consumer = BackgroundConsumer(lambda items: sum(items), maxsize=2)
    for value in range(10):
        consumer.put(value)
    assert consumer.finish() == 45

    def fails_at_three(items):
        for value in items:
            if value == 3:
                raise RuntimeError("writer failed")

    failing = BackgroundConsumer(fails_at_three, maxsize=1)
    with pytest.raises(RuntimeError, match="writer failed"):
        for value in range(1000):
            failing.put(value)
        failing.finish()


def test_overlay_blend_and_palette_masks(tmp_path):
    frame = np.full((4, 6, 3), 100, np.uint8)
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 3
    full = blend(frame, mask, alpha=1.0)
    assert np.array_equal(full[mask == 3], np.tile(CLASS_PALETTE[3], (6, 1)))
    assert np.array_equal(full[mask == 0], frame[mask == 0])  # background stays the frame
    assert np.array_equal(blend(frame, mask, alpha=0.0), frame)
    tinted = blend(frame, mask, alpha=1.0, background=None)
    assert np.array_equal(tinted[mask == 0][0], CLASS_PALETTE[0])
    # Odd sizes are padded to even ones for yuv420p.
    assert overlay_frame(frame[:3, :5], mask[:3, :5]).shape == (4, 6, 3)

    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    save_mask_png(values, tmp_path / "m.png")
    assert np.array_equal(read_mask(tmp_path / "m.png"), values)
    # Every class 1..254 has its own colour.
    assert len({tuple(c) for c in CLASS_PALETTE[1:255]}) == 254


def test_help_has_usage_examples(predict_tool, capsys):
    with pytest.raises(SystemExit):
        predict_tool.main(["--help"])
    assert "--side-by-side" in capsys.readouterr().out


def test_writer_threads_leave_torch_its_cores(monkeypatch):
    from i2v_plugin.inference.video_predictor import default_writer_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 14)
    assert default_writer_threads("cpu") == 2
    assert default_writer_threads("cuda") == 4  # the CPU is free while the GPU runs the model
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)
    assert default_writer_threads("cpu") == 1

"""The video predictor: a failing reader leaves no video; writer threads leave torch its cores."""

import os
from fractions import Fraction

import pytest
import torch
from detectron2.modeling import build_model

from i2v_plugin.data.video import VideoReadError
from i2v_plugin.inference import FramePredictor, predict_video
from tests.helpers import tiny_cfg
from tests.helpers.media import make_frames

CONFIG = "configs/synthetic/swin_source_only.yaml"


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A tiny random model's checkpoint, saved the way Detectron2 checkpoints are."""
    torch.manual_seed(0)
    model = build_model(tiny_cfg(CONFIG))
    path = tmp_path_factory.mktemp("weights") / "tiny.pth"
    torch.save({"model": model.state_dict(), "iteration": 9}, path)
    return str(path)


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


def test_writer_threads_leave_torch_its_cores(monkeypatch):
    from i2v_plugin.inference.video_predictor import default_writer_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 14)
    assert default_writer_threads("cpu") == 2
    assert default_writer_threads("cuda") == 4  # the CPU is free while the GPU runs the model
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)
    assert default_writer_threads("cpu") == 1

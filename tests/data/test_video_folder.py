"""A folder of videos as an unlabeled video dataset: the dicts the mapper needs, clear errors for
an empty or missing folder, and a training stream that keeps going past a corrupt video."""

import itertools
import logging
import os
import uuid

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from i2v_plugin.data.datasets import register_video_folder
from i2v_plugin.data.datasets.video_folder import load_video_folder
from i2v_plugin.data.loader import TrainStream
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.video import write_video

CLIPS = {"cats/c1.mp4": 24.0, "dogs/d1.webm": 12.0, "d2.avi": 30.0}  # path -> native fps
NUM_FRAMES, HEIGHT, WIDTH = 12, 32, 48


def frame_of(index: int) -> np.ndarray:
    """A flat frame whose brightness encodes ``index`` (robust to codec loss)."""
    return np.full((HEIGHT, WIDTH, 3), 10 + 20 * index, np.uint8)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "ytbb" / "videos"
    for rel, fps in CLIPS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_video(root / rel, [frame_of(i) for i in range(NUM_FRAMES)], fps)
    (root / "broken.mp4").write_bytes(b"\0" * 100)
    (root / "empty.mkv").write_bytes(b"")
    return str(root)


def mapper():
    return I2VDatasetMapper(is_train=True, augmentations=[], num_classes=12)


def test_dicts_describe_each_readable_video(folder):
    dicts = load_video_folder(folder, progress=False)
    by_id = {d["video_id"]: d for d in dicts}
    assert sorted(by_id) == ["cats/c1", "d2", "dogs/d1"]
    for rel, fps in CLIPS.items():
        d = by_id[os.path.splitext(rel)[0]]
        assert d["video_file"] == os.path.join(folder, rel)
        assert (d["num_frames"], d["fps"], d["height"], d["width"]) == (
            NUM_FRAMES,
            fps,
            HEIGHT,
            WIDTH,
        )
        assert d["duration_s"] == pytest.approx(NUM_FRAMES / fps, abs=1.5 / fps)
        assert d["domain"] == "video" and d["sample_fps"] == 30.0
        assert "sem_seg_file_name" not in d


def test_mapper_decodes_the_frame_it_chose(folder):
    m = mapper()
    for d in load_video_folder(folder, progress=False):
        np.random.seed(3)
        out = m(d)
        assert out["image"].shape == (3, HEIGHT, WIDTH)
        index = out["frame_index"]
        assert 0 <= index < NUM_FRAMES
        assert abs(float(out["image"].float().mean()) - frame_of(index).mean()) < 6


def test_stream_keeps_going_past_a_video_that_turned_corrupt(folder, caplog):
    dicts = load_video_folder(folder, progress=False)
    corrupt = next(d for d in dicts if d["video_id"] == "cats/c1")
    with open(corrupt["video_file"], "r+b") as f:  # damaged after indexing
        f.seek(0)
        f.write(b"\0" * 4096)
    caplog.set_level(logging.WARNING)
    stream = TrainStream(dicts, mapper(), total_batch_size=2, num_workers=0, seed=0)
    batches = list(itertools.islice(iter(stream), 6))
    samples = [s for batch in batches for s in batch]
    assert len(samples) == 12
    assert all(
        s["video_id"] != "cats/c1" and s["image"].shape == (3, HEIGHT, WIDTH) for s in samples
    )
    assert any("Skipping unreadable sample" in r.getMessage() for r in caplog.records)
    assert mapper()(corrupt) is None


def test_empty_and_missing_folders_are_clear_errors(tmp_path):
    bad_only = tmp_path / "bad_only"
    bad_only.mkdir()
    (bad_only / "x.mp4").write_bytes(b"")
    with pytest.raises(
        ValueError, match=r"No readable video under .*bad_only: 1 video files found"
    ):
        load_video_folder(str(bad_only), progress=False)
    with pytest.raises(FileNotFoundError, match="missing"):
        load_video_folder(str(tmp_path / "missing"), progress=False)


def test_register_video_folder(folder):
    name = f"test_videos_{uuid.uuid4().hex}"
    register_video_folder(name, folder)
    assert len(DatasetCatalog.get(name)) == 3
    assert MetadataCatalog.get(name).ignore_label == 255
    assert "ytbb_videos_train" in DatasetCatalog.list()

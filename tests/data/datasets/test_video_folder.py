"""A folder of videos as an unlabeled video dataset: the dicts the mapper needs, clear errors for
an empty or missing folder, a training stream that keeps going past a corrupt video, and a folder
named in the config (``video_folder:<path>``) read by the video stream, through
``tools/train_net.py`` too."""

import itertools
import json
import logging
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.utils.events import EventStorage

from i2v_plugin.data import build_i2v_train_loader
from i2v_plugin.data.datasets import register_video_folder
from i2v_plugin.data.datasets.video_folder import load_video_folder, resolve_video_folder_name
from i2v_plugin.data.loader import TrainStream
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.video import write_video
from i2v_plugin.data.video_stream import VideoTrainStream
from tests.helpers import REPO_ROOT, TINY_MODEL_OPTS, tiny_cfg

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
    reports = [r.getMessage() for r in caplog.records if corrupt["video_file"] in r.getMessage()]
    assert len(reports) == 1 and "Skipping unreadable video" in reports[0]
    assert sum(s["skipped_samples"] for s in samples) > 0
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


# ---- a folder named in the config ------------------------------------------------------------


def test_video_folder_names_register_on_first_use(folder, tmp_path):
    name = f"video_folder:{folder}"
    assert resolve_video_folder_name(name) and name in DatasetCatalog
    assert len(DatasetCatalog.get(name)) == 3
    assert not resolve_video_folder_name("i2v_synth_videos_train")
    with pytest.raises(FileNotFoundError, match="not found"):
        resolve_video_folder_name(f"video_folder:{tmp_path / 'nowhere'}")


def folder_cfg(folder, *opts):
    return tiny_cfg(
        "configs/synthetic/swin_clustered.yaml",
        "DATASETS.TRAIN_UNLABELED", f"('video_folder:{folder}',)",
        "DATALOADER.VIDEO_STREAM.ENABLED", "True",
        "DATALOADER.VIDEO_STREAM.FRAMES_PER_WINDOW", "4",
        "DATALOADER.VIDEO_STREAM.WINDOWS_PER_BLOCK", "2",
        *opts,
    )  # fmt: skip


def test_a_folder_in_the_config_is_read_by_the_video_stream(synth_root, folder):
    loader = build_i2v_train_loader(folder_cfg(folder))
    assert isinstance(loader.streams[1], VideoTrainStream)
    with EventStorage(0) as storage:
        batches = list(itertools.islice(iter(loader), 12))  # every container: mp4, webm, avi
        assert storage.history("i2v/skipped_samples").latest() == 0
    for batch in batches:
        assert [s["domain"] for s in batch] == ["image"] * 2 + ["video"] * 2
        for sample in batch[2:]:
            assert sample["video_file"].startswith(folder) and sample["image"].shape == (3, 64, 64)
    assert {s["video_id"] for b in batches for s in b[2:]} == {"cats/c1", "dogs/d1", "d2"}


def test_resumed_loader_gives_the_same_decoded_and_augmented_frames(synth_root, folder):
    def batches(start, count, workers):
        loader = build_i2v_train_loader(folder_cfg(folder, "DATALOADER.NUM_WORKERS", workers))
        loader.set_start_iter(start)
        return [
            [(s.get("video_id"), s.get("frame_index"), s["image"]) for s in b[2:]]
            for b in itertools.islice(iter(loader), count)
        ]

    def same(a, b):
        return all(
            x[:2] == y[:2] and np.array_equal(x[2], y[2])
            for u, v in zip(a, b)
            for x, y in zip(u, v)
        )

    full = batches(0, 10, "0")  # 4 steps per block: the resume lands mid-block
    assert same(batches(5, 5, "1"), full[5:]) and len(full) == 10


@pytest.mark.parametrize(
    "opts", [("DATALOADER.VIDEO_STREAM.ENABLED", "False"), ("INPUT.CLIP.LENGTH", "2")]
)
def test_stream_off_or_clips_read_one_sample_at_a_time(synth_root, folder, opts):
    loader = build_i2v_train_loader(folder_cfg(folder, *opts))
    assert isinstance(loader.streams[1], TrainStream)


@pytest.mark.slow
def test_train_net_trains_on_a_video_folder_named_in_the_config(synth_root, folder, tmp_path):
    out = tmp_path / "out"
    cmd = [
        sys.executable, os.path.join(REPO_ROOT, "tools", "train_net.py"),
        "--config-file", os.path.join(REPO_ROOT, "configs/synthetic/swin_clustered.yaml"),
        *TINY_MODEL_OPTS,
        "DATASETS.TRAIN_UNLABELED", f"('video_folder:{folder}',)",
        "DATALOADER.VIDEO_STREAM.ENABLED", "True",
        "DATALOADER.NUM_WORKERS", "1",
        "SOLVER.MAX_ITER", "4",
        "DATASETS.TEST", "()",
        "OUTPUT_DIR", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    metrics = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    assert metrics[-1]["iteration"] == 3
    assert "i2v/skipped_samples" in set().union(*metrics)

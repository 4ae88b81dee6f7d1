"""The video index: metadata of mp4 / webm / avi files, unreadable files (truncated, zero-byte,
corrupt) recorded and warned about once each, resume after an interruption, re-probing of
changed files, and an up-to-date index that opens no video file (10,000 entries)."""

import json
import logging
import os
import time

import numpy as np
import pytest

from i2v_plugin.data import video_index
from i2v_plugin.data.video import write_video
from i2v_plugin.data.video_index import INDEX_FILENAME, build_video_index

GOOD = {  # relative path -> (frames, fps, height, width)
    "a/clip.mp4": (10, 24.0, 32, 48),
    "a/b/clip.webm": (6, 12.0, 16, 32),
    "clip.avi": (8, 30.0, 32, 32),
}
BAD = {"truncated.mp4": "unreadable", "zero.mp4": "empty", "noise.mkv": "unreadable"}


def write_clip(path, frames, fps, height, width, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_video(
        path, [rng.integers(0, 255, (height, width, 3), np.uint8) for _ in range(frames)], fps
    )


@pytest.fixture
def video_folder(tmp_path):
    folder = tmp_path / "videos"
    for rel, spec in GOOD.items():
        write_clip(str(folder / rel), *spec)
    data = (folder / "a/clip.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 2])  # moov atom cut off
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "noise.mkv").write_bytes(np.random.default_rng(1).bytes(3000))
    (folder / "notes.txt").write_text("not a video")
    (folder / ".tmp-half-written.mp4").write_bytes(b"\0" * 10)  # write_video's temp name
    return str(folder)


def indexed_paths(index_path) -> set[str]:
    """Paths of the complete entry lines of an index file (a line cut off by a kill is not one)."""
    paths = set()
    with open(index_path) as f:
        for line in f:
            try:
                paths.add(json.loads(line)["path"])
            except (json.JSONDecodeError, KeyError):
                continue
    return paths


def unreadable_warnings(caplog, name):
    return [r for r in caplog.records if r.levelno == logging.WARNING and name in r.getMessage()]


def test_index_reports_metadata_and_bad_files_once_each(video_folder, caplog):
    caplog.set_level(logging.WARNING, logger="i2v_plugin.data.video_index")
    summary = build_video_index(video_folder, workers=2, progress=False)
    assert (summary.total, summary.ok, summary.bad) == (6, 3, 3)
    assert summary.by_reason == {"unreadable": 2, "empty": 1}
    assert summary.probed == 6
    entries = {e["path"]: e for e in summary.entries}
    assert sorted(entries) == sorted([*GOOD, *BAD])
    for rel, (frames, fps, height, width) in GOOD.items():
        e = entries[rel]
        assert e["ok"] and (e["num_frames"], e["fps"], e["height"], e["width"]) == (
            frames, fps, height, width,
        )  # fmt: skip
        assert e["duration_s"] == pytest.approx(frames / fps, abs=1.5 / fps)
    for rel, reason in BAD.items():
        assert not entries[rel]["ok"] and entries[rel]["reason"] == reason
        assert len(unreadable_warnings(caplog, rel)) == 1
    with open(os.path.join(video_folder, INDEX_FILENAME)) as f:
        assert len(f.readlines()) == 6
    assert "3 readable, 3 skipped (empty: 1, unreadable: 2)" in str(summary)


def test_up_to_date_index_probes_nothing_and_warns_once_in_total(video_folder, caplog, monkeypatch):
    build_video_index(video_folder, progress=False)
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="i2v_plugin.data.video_index")

    def no_probe(path):
        raise AssertionError(f"{path} was probed again")

    monkeypatch.setattr(video_index, "probe_video", no_probe)
    summary = build_video_index(video_folder, progress=False)
    assert (summary.ok, summary.bad, summary.probed) == (3, 3, 0)
    assert len(caplog.records) == 1 and "3 unreadable videos" in caplog.records[0].getMessage()


def test_interrupted_build_resumes_where_it_stopped(video_folder, monkeypatch):
    calls = []
    real_probe = video_index.probe_video

    def probe_then_crash(path):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(path)
        return real_probe(path)

    monkeypatch.setattr(video_index, "probe_video", probe_then_crash)
    with pytest.raises(KeyboardInterrupt):
        build_video_index(video_folder, workers=1, progress=False)
    index_path = os.path.join(video_folder, INDEX_FILENAME)
    assert len(indexed_paths(index_path)) == 2
    with open(index_path, "a") as f:
        f.write('{"path": "clip.avi", "si')  # a line cut off by the kill
    monkeypatch.setattr(video_index, "probe_video", real_probe)
    summary = build_video_index(video_folder, workers=1, progress=False)
    assert summary.probed == 4 and summary.total == 6
    with open(index_path) as f:
        lines = [json.loads(line) for line in f]  # compacted: every line valid, one per file
    assert sorted(e["path"] for e in lines) == sorted([*GOOD, *BAD])


def test_changed_and_removed_files_are_noticed(video_folder):
    build_video_index(video_folder, progress=False)
    path = os.path.join(video_folder, "clip.avi")
    write_clip(path, 14, 30.0, 32, 32, seed=5)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    os.remove(os.path.join(video_folder, "zero.mp4"))
    write_clip(os.path.join(video_folder, "truncated.mp4"), 4, 10.0, 16, 16)  # repaired
    summary = build_video_index(video_folder, progress=False)
    entries = {e["path"]: e for e in summary.entries}
    assert summary.probed == 2 and summary.total == 5 and summary.by_reason == {"unreadable": 1}
    assert entries["clip.avi"]["num_frames"] == 14
    assert entries["truncated.mp4"]["ok"] and entries["truncated.mp4"]["num_frames"] == 4
    assert "zero.mp4" not in indexed_paths(os.path.join(video_folder, INDEX_FILENAME))


def test_ten_thousand_indexed_videos_load_without_opening_any(tmp_path, monkeypatch):
    folder = tmp_path / "many"
    lines = []
    for i in range(10_000):
        rel = f"d{i // 1000}/v{i:05d}.mp4"
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        stat = os.stat(path)
        lines.append(json.dumps({
            "path": rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ok": True,
            "num_frames": 300, "fps": 30.0, "width": 64, "height": 48, "duration_s": 10.0,
        }))  # fmt: skip
    (folder / INDEX_FILENAME).write_text("\n".join(lines) + "\n")

    def refuse_open(*args, **kwargs):
        raise AssertionError(f"a video file was opened: {args}")

    monkeypatch.setattr(video_index, "probe_video", refuse_open)
    monkeypatch.setattr("av.open", refuse_open)
    start = time.perf_counter()
    summary = build_video_index(str(folder), progress=False)
    assert (summary.total, summary.ok, summary.probed) == (10_000, 10_000, 0)
    assert time.perf_counter() - start < 5


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="Video folder not found: .*nowhere"):
        build_video_index(str(tmp_path / "nowhere"), progress=False)

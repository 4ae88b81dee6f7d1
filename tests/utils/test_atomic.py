"""Atomic writes: the new content appears whole, a failure mid-write keeps the old file and
leaves no temporary file, and committed files get the mode of a plain open()."""

import os

import pytest

from i2v_plugin.utils.atomic import StagedFile, atomic_path, atomic_write


class Interrupted(Exception):
    pass


def listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_write_replaces_the_content(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")
    with atomic_write(path) as f:
        f.write("new")
    assert path.read_text() == "new"
    with atomic_write(path, "wb") as f:
        f.write(b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert listing(tmp_path) == ["a.json"]


@pytest.mark.parametrize("existing", [True, False])
def test_failure_mid_write_keeps_the_old_file_and_no_temporary_file(tmp_path, existing):
    path = tmp_path / "a.json"
    if existing:
        path.write_text("old")
    with pytest.raises(Interrupted), atomic_write(path) as f:
        f.write("half of the new")
        f.flush()
        assert listing(tmp_path) == sorted([*(["a.json"] if existing else []), *_tmp(tmp_path)])
        raise Interrupted
    assert listing(tmp_path) == (["a.json"] if existing else [])
    if existing:
        assert path.read_text() == "old"


def _tmp(folder) -> list[str]:
    names = [n for n in os.listdir(folder) if n.startswith(".tmp-")]
    assert len(names) == 1 and names[0].endswith(".json")  # hidden, same extension
    return names


def test_path_variant_and_keyboard_interrupt(tmp_path):
    path = tmp_path / "clip.mp4"
    with atomic_path(path) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path) and tmp.endswith(".mp4")
        with open(tmp, "wb") as f:
            f.write(b"video")
    assert path.read_bytes() == b"video"
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"video" and listing(tmp_path) == ["clip.mp4"]


def test_staged_file_commit_discard_and_mode(tmp_path):
    staged = StagedFile(tmp_path / "x.bin")
    with open(staged.tmp_path, "wb") as f:
        f.write(b"1")
    staged.commit()
    assert (tmp_path / "x.bin").read_bytes() == b"1"
    (tmp_path / "plain.bin").write_bytes(b"2")
    mode = {name: os.stat(tmp_path / name).st_mode & 0o777 for name in ("x.bin", "plain.bin")}
    assert mode["x.bin"] == mode["plain.bin"]  # not the 0600 of a fresh temporary file
    discarded = StagedFile(tmp_path / "y.bin")
    discarded.discard()
    discarded.discard()  # twice is harmless
    assert listing(tmp_path) == ["plain.bin", "x.bin"]


def test_missing_folder_and_bad_mode_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "no" / "a.txt") as f:
        f.write("x")
    with pytest.raises(ValueError, match="mode must be"), atomic_write(tmp_path / "a", "a"):
        pass


def test_commit_syncs_the_file_then_its_folder(tmp_path, monkeypatch):
    """The rename only survives a power loss once the folder is synced, after the rename."""
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(
            ("folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "file", listing(tmp_path))
        )
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    with atomic_write(tmp_path / "a.txt") as f:
        f.write("x")
    assert [kind for kind, _ in synced] == ["file", "folder"]
    assert synced[1][1] == ["a.txt"]  # the folder is synced after the rename

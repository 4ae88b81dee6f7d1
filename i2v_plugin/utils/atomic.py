"""Atomic file writes: a file appears under its name complete, or not at all.

The content goes to a hidden temporary file (``.tmp-*``) in the destination folder, so that the
final ``os.replace`` stays on one file system and is atomic. The temporary file is flushed to
disk, given the mode a plain ``open`` would give it, and renamed over the destination; then the
folder is flushed too, so that the rename itself survives a power loss. On any error the
temporary file is removed and an existing destination is left as it was; a process killed
mid-write may leave one behind, which nothing reads. The hidden name keeps half-written files
out of folder listings (the video index skips hidden files).

``atomic_write`` yields a file object; ``atomic_path`` yields the temporary path, for writers that
open the file themselves (PyAV muxers, ``torch.save``, PIL); ``StagedFile`` does the same across
several calls (``StreamingVideoWriter``).
"""

import contextlib
import os
import tempfile

TMP_PREFIX = ".tmp-"

# mkstemp creates files readable by the owner only; committed files get the mode of a plain
# open() instead. The umask is read once here: reading it means setting it, which would race
# with threads creating files.
_UMASK = os.umask(0)
os.umask(_UMASK)


def _fsync(path: str) -> None:
    """Flush a file's or a folder's data and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StagedFile:
    """A temporary file beside ``path`` that becomes ``path`` on ``commit()``.

    Args:
        path: the destination; its folder must exist.
        suffix: suffix of the temporary name; default the destination's extension (some
            writers pick the format from it).
    """

    def __init__(self, path, suffix: str | None = None):
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        suffix = os.path.splitext(self.path)[1] if suffix is None else suffix
        fd, self.tmp_path = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=suffix, dir=folder)
        os.close(fd)

    def commit(self) -> None:
        """Flush the temporary file to disk, rename it to ``path`` and flush the folder."""
        _fsync(self.tmp_path)
        os.chmod(self.tmp_path, 0o666 & ~_UMASK)
        os.replace(self.tmp_path, self.path)
        _fsync(os.path.dirname(os.path.abspath(self.path)))

    def discard(self) -> None:
        """Remove the temporary file (``path`` is left untouched)."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.tmp_path)


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """``with atomic_path(path) as tmp: write(tmp)``: ``path`` gets the file only if the block
    finishes without an exception. See ``StagedFile`` for the arguments."""
    staged = StagedFile(path, suffix)
    try:
        yield staged.tmp_path
        staged.commit()
    except BaseException:
        staged.discard()
        raise


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_kwargs):
    """``with atomic_write(path) as f: f.write(...)``: ``path`` holds the new content only if
    the block finishes without an exception; otherwise it keeps its old content (or stays absent).

    Args:
        path: destination file; its folder must exist.
        mode: "w" (text) or "wb" (binary).
        open_kwargs: passed to ``open`` (e.g. ``encoding``, ``newline``).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write({os.fspath(path)}): mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp_path, open(tmp_path, mode, **open_kwargs) as f:
        yield f

"""A resumable metadata index of every video file under a folder.

Each video is probed once with ``probe_video`` (container metadata only, never a full decode),
in parallel, and its result appended as one JSON line to ``<folder>/.i2v_video_index.jsonl`` as
soon as it is known. So:

* an interrupted build resumes where it stopped (indexed paths are not probed again);
* a file whose size or modification time changed is probed again (the newest line wins);
* unreadable files (zero-length, truncated, corrupt, no video stream, ...) are recorded with
  their reason, warned about once when found, and counted, never fatal;
* reading an up-to-date index lists and stats the files but opens none of them.

Index line of a readable video::

    {"path": "a/b.mp4", "size": 1234, "mtime_ns": ..., "ok": true, "num_frames": 240,
     "fps": 30.0, "width": 640, "height": 360, "duration_s": 8.0}

and of an unreadable one: ``{"path", "size", "mtime_ns", "ok": false, "reason", "error"}``.
"""

import contextlib
import json
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from tqdm import tqdm

from ..utils.atomic import atomic_write
from .video import VideoReadError, probe_video

try:
    import fcntl
except ImportError:  # not on Windows: concurrent builds are then not serialised
    fcntl = None

logger = logging.getLogger(__name__)

INDEX_FILENAME = ".i2v_video_index.jsonl"
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi")

# Short reason for each ``VideoReadError.reason`` prefix written by ``probe_video``.
_REASONS = (
    ("file does not exist", "missing"),
    ("file is empty", "empty"),
    ("not a readable video container", "unreadable"),
    ("the file has no video stream", "no_video_stream"),
    ("the video stream has no frame rate", "no_frame_rate"),
    ("the video stream has no frames", "no_frames"),
    ("demuxing failed", "corrupt"),
)
_METADATA_KEYS = ("num_frames", "fps", "width", "height", "duration_s")


@dataclass
class IndexSummary:
    """Outcome of ``build_video_index``.

    Attributes:
        folder: the indexed folder.
        index_path: the index file.
        total: video files found.
        ok: readable ones.
        bad: unreadable ones (skipped).
        by_reason: bad count per reason ("empty", "unreadable", "corrupt", ...).
        probed: files probed by this call (the rest came from the index).
        entries: one index entry per video file, sorted by path.
    """

    folder: str
    index_path: str
    total: int
    ok: int
    bad: int
    by_reason: dict[str, int]
    probed: int
    entries: list[dict] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_reason.items())) or "none"
        return (
            f"{self.folder}: {self.total} video files, {self.ok} readable, {self.bad} skipped "
            f"({reasons}); {self.probed} probed now, {self.total - self.probed} from "
            f"{self.index_path}"
        )


def default_index_path(folder: str) -> str:
    return os.path.join(folder, INDEX_FILENAME)


def find_video_files(folder: str) -> dict[str, tuple[int, int]]:
    """Video files under ``folder`` (hidden files and folders skipped, so half-written
    ``.tmp-*`` files are never indexed).

    Returns:
        {path relative to folder, "/"-separated: (size in bytes, mtime in ns)}.
    Raises:
        FileNotFoundError naming the folder if it does not exist.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Video folder not found: {folder}")
    found = {}
    for current, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(".") or not name.lower().endswith(VIDEO_EXTENSIONS):
                continue
            path = os.path.join(current, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue  # vanished or a dangling link: not a video file any more
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            found[rel] = (stat.st_size, stat.st_mtime_ns)
    return found


def _read_index_lines(index_path: str) -> tuple[dict[str, dict], int]:
    """(entries, number of lines) of an index file, the newest line of each path winning.

    Lines that are not complete JSON entries (e.g. the last line of a killed build) are
    ignored; those files are probed again.
    """
    entries, lines = {}, 0
    if not os.path.isfile(index_path):
        return entries, lines
    with open(index_path) as f:
        for line in f:
            lines += 1
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and {"path", "size", "mtime_ns", "ok"} <= entry.keys():
                entries[entry["path"]] = entry
    return entries, lines


def _reason_of(err: VideoReadError) -> str:
    for prefix, reason in _REASONS:
        if err.reason.startswith(prefix):
            return reason
    return "other"


def probe_entry(folder: str, rel: str, size: int, mtime_ns: int) -> dict:
    """Probe one file; an index entry whatever happens (a bad file is an entry, not an error)."""
    entry = {"path": rel, "size": size, "mtime_ns": mtime_ns}
    try:
        info = probe_video(os.path.join(folder, rel))
    except VideoReadError as err:
        return {**entry, "ok": False, "reason": _reason_of(err), "error": err.reason}
    except Exception as err:  # a damaged file may break a demuxer in unforeseen ways
        return {**entry, "ok": False, "reason": "other", "error": f"{type(err).__name__}: {err}"}
    return {**entry, "ok": True, **{k: getattr(info, k) for k in _METADATA_KEYS}}


@contextlib.contextmanager
def _exclusive(index_path: str):
    """Serialise builds of one index (e.g. every distributed rank registering the folder)."""
    try:
        lock = open(index_path + ".lock", "a") if fcntl is not None else None
    except OSError:
        lock = None  # a read-only folder: an up-to-date index can still be read
    if lock is None:
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _open_for_append(index_path: str):
    needs_newline = False
    if os.path.isfile(index_path) and os.path.getsize(index_path) > 0:
        with open(index_path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            needs_newline = f.read(1) != b"\n"
    try:
        out = open(index_path, "a")
    except OSError as err:
        raise OSError(
            f"Cannot write the video index {index_path} ({err}); pass another index path "
            "(index_path=... / prepare_video_index.py --index FILE)"
        ) from err
    if needs_newline:
        out.write("\n")  # a killed build may have left half a line
    return out


def _rewrite(index_path: str, entries: list[dict]) -> None:
    with atomic_write(index_path) as f:
        for entry in entries:
            f.write(json.dumps(entry) + "\n")


def _probe_all(folder, todo, files, workers, index_path, progress) -> list[dict]:
    """Probe ``todo`` in a thread pool, appending each entry to the index as it arrives."""
    results = []
    bar = tqdm(total=len(todo), desc=f"indexing {folder}", unit="video", disable=not progress)
    with _open_for_append(index_path) as out, ThreadPoolExecutor(max(1, workers)) as pool:
        futures = [pool.submit(probe_entry, folder, rel, *files[rel]) for rel in todo]
        try:
            for future in as_completed(futures):
                entry = future.result()
                out.write(json.dumps(entry) + "\n")
                out.flush()
                if not entry["ok"]:
                    logger.warning(
                        "Skipping unreadable video %s (%s): %s",
                        os.path.join(folder, entry["path"]),
                        entry["reason"],
                        entry["error"],
                    )
                results.append(entry)
                bar.update()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            bar.close()
    return results


def build_video_index(
    folder: str,
    workers: int | None = None,
    index_path: str | None = None,
    progress: bool = True,
) -> IndexSummary:
    """Bring the index of ``folder`` up to date and summarise it.

    Probes only files that are new or whose size / mtime changed since they were indexed; an
    up-to-date index opens no video file.

    Args:
        folder: root of a tree of video files (.mp4, .webm, .mkv, .avi).
        workers: probing threads (default: min(8, CPU count)).
        index_path: index file (default ``<folder>/.i2v_video_index.jsonl``).
        progress: show a progress bar while probing.
    Returns:
        IndexSummary with one entry per current video file.
    Raises:
        FileNotFoundError naming the folder if it does not exist.
    """
    folder = os.path.abspath(os.fspath(folder))
    index_path = os.fspath(index_path) if index_path else default_index_path(folder)
    workers = workers if workers is not None else min(8, os.cpu_count() or 1)
    files = find_video_files(folder)
    with _exclusive(index_path):
        indexed, num_lines = _read_index_lines(index_path)
        todo = sorted(
            rel
            for rel, (size, mtime_ns) in files.items()
            if rel not in indexed
            or (indexed[rel]["size"], indexed[rel]["mtime_ns"]) != (size, mtime_ns)
        )
        todo_set = set(todo)
        known_bad = [
            indexed[rel] for rel in files if rel not in todo_set and not indexed[rel]["ok"]
        ]
        if todo:
            for entry in _probe_all(folder, todo, files, workers, index_path, progress):
                indexed[entry["path"]] = entry
            num_lines += len(todo)
        entries = [indexed[rel] for rel in sorted(files)]
        if num_lines != len(entries):
            try:
                _rewrite(index_path, entries)  # drop superseded lines and files now gone
            except OSError as err:
                logger.info("Could not compact %s (%s); the index stays valid.", index_path, err)
    if known_bad:
        reasons = Counter(e["reason"] for e in known_bad)
        logger.warning(
            "%d unreadable videos under %s skipped, as recorded in %s (%s)",
            len(known_bad),
            folder,
            index_path,
            ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())),
        )
    bad = Counter(e["reason"] for e in entries if not e["ok"])
    return IndexSummary(
        folder=folder,
        index_path=index_path,
        total=len(entries),
        ok=len(entries) - sum(bad.values()),
        bad=sum(bad.values()),
        by_reason=dict(bad),
        probed=len(todo),
        entries=entries,
    )

"""Any folder tree of video files as an unlabeled video dataset (e.g. YouTube-BoundingBoxes).

Loading a folder dataset brings its index up to date (``i2v_plugin.data.video_index``; only new
or changed files are probed) and returns one dict per readable video; the mapper then decodes one
frame at a random time step of ``SAMPLE_FPS``. Unreadable files are skipped and counted.

Predefined: ytbb_videos_train over ``$DETECTRON2_DATASETS/ytbb/videos``. Any other folder can be
named in a config without Python: ``DATASETS.TRAIN_UNLABELED ("video_folder:/data/videos",)``
(``resolve_video_folder_name``).
"""

import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from ..video_index import VIDEO_EXTENSIONS, build_video_index
from .classes import DEFAULT_SHARED_CLASSES

PREPARE_COMMAND = "python datasets/prepare_video_index.py"
SAMPLE_FPS = 30.0
# Dataset names "video_folder:<path>" stand for the folder of videos at <path>.
VIDEO_FOLDER_PREFIX = "video_folder:"


def video_dict(folder: str, entry: dict, sample_fps: float = SAMPLE_FPS) -> dict:
    """The dataset dict of one readable index entry (see ``mapper.sample_frame_index``)."""
    return {
        "video_file": os.path.join(folder, *entry["path"].split("/")),
        "num_frames": entry["num_frames"],
        "fps": entry["fps"],
        "duration_s": entry["duration_s"],
        "height": entry["height"],
        "width": entry["width"],
        "domain": "video",
        "video_id": os.path.splitext(entry["path"])[0],
        "sample_fps": sample_fps,
    }


def load_video_folder(
    folder: str,
    index_path: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict]:
    """Unlabeled video dicts of every readable video under ``folder``.

    Args:
        folder: root of the video tree.
        index_path: index file (default ``<folder>/.i2v_video_index.jsonl``).
        workers: probing threads for files not indexed yet.
        progress: progress bar while probing.
    Returns:
        dicts with "video_file", "num_frames", "fps", "duration_s", "height", "width",
        "domain": "video", "video_id" (path without extension), "sample_fps": 30.0.
    Raises:
        FileNotFoundError naming a missing folder; ValueError naming the folder when it holds
        no readable video.
    """
    summary = build_video_index(folder, workers=workers, index_path=index_path, progress=progress)
    dicts = [video_dict(summary.folder, e) for e in summary.entries if e["ok"]]
    if not dicts:
        raise ValueError(
            f"No readable video under {summary.folder}: {summary.total} video files found "
            f"(extensions {', '.join(VIDEO_EXTENSIONS)}), {summary.bad} unreadable "
            f"{summary.by_reason or ''}. See {summary.index_path} for each file's error."
        )
    return dicts


def register_video_folder(
    name: str, folder: str, index_path: str | None = None, metadata: dict | None = None
) -> None:
    """Register ``folder`` as the unlabeled video dataset ``name``; nothing is read until it is
    loaded.

    Args:
        name: dataset name.
        folder: root of the video tree.
        index_path: where the index lives (default beside the videos).
        metadata: extra metadata (``stuff_classes`` defaults to the shared class list).
    """
    DatasetCatalog.register(name, lambda f=folder, i=index_path: load_video_folder(f, index_path=i))
    meta = {"stuff_classes": list(DEFAULT_SHARED_CLASSES), "ignore_label": 255}
    MetadataCatalog.get(name).set(**{**meta, **(metadata or {})})


def resolve_video_folder_name(name: str) -> bool:
    """Register the dataset ``video_folder:<path>`` on first use (other names are left alone).

    ``<path>`` may use ``~`` and environment variables (``$DETECTRON2_DATASETS/ytbb/videos``); a
    relative path is relative to the current directory. Returns whether ``name`` is such a name.
    Raises FileNotFoundError naming the folder when it does not exist.
    """
    if not name.startswith(VIDEO_FOLDER_PREFIX):
        return False
    if name not in DatasetCatalog:
        raw = name[len(VIDEO_FOLDER_PREFIX) :]
        folder = os.path.abspath(os.path.expandvars(os.path.expanduser(raw)))
        if not raw or not os.path.isdir(folder):
            raise FileNotFoundError(
                f"Dataset {name!r}: video folder {folder!r} not found (expected "
                f"{VIDEO_FOLDER_PREFIX}<path to a folder of .mp4/.webm/.mkv/.avi files>)"
            )
        register_video_folder(name, folder)
    return True


# name -> folder under the datasets root
_PREDEFINED_SPLITS = {
    "ytbb_videos_train": os.path.join("ytbb", "videos"),
}


def register_all_video_folders(root: str) -> None:
    """Register the predefined video folders under ``root``."""
    for name, folder in _PREDEFINED_SPLITS.items():
        register_video_folder(name, os.path.join(root, folder))

"""YouTube-BoundingBoxes annotation CSVs: which videos to fetch, and what they show.

``yt_bb_detection_{train,validation}.csv`` have no header; columns: youtube_id, timestamp_ms,
class_id, class_name, object_id, object_presence, xmin, xmax, ymin, ymax (1 row per object per
annotated second). The plugin only needs the video ids and classes: the user downloads the
videos into a folder, which is then used as an unlabeled video dataset (``video_folder``).
"""

import csv
from collections.abc import Iterable

COLUMNS = (
    "youtube_id",
    "timestamp_ms",
    "class_id",
    "class_name",
    "object_id",
    "object_presence",
    "xmin",
    "xmax",
    "ymin",
    "ymax",
)


def read_ytbb_videos(
    path: str, classes: Iterable[str] | None = None, present_only: bool = True
) -> dict[str, list[str]]:
    """The videos of a YTBB detection CSV and the classes annotated in each.

    Args:
        path: ``yt_bb_detection_train.csv`` or ``yt_bb_detection_validation.csv``.
        classes: keep only rows of these class names (None: all).
        present_only: count a class only on rows where the object is "present".
    Returns:
        {youtube_id: sorted class names}, videos in order of first appearance.
    Raises:
        FileNotFoundError naming the file; ValueError naming file and line for a malformed row.
    """
    wanted = set(classes) if classes is not None else None
    videos: dict[str, set[str]] = {}
    try:
        f = open(path, newline="")
    except FileNotFoundError:
        raise FileNotFoundError(f"YTBB CSV not found: {path}") from None
    with f:
        for line_number, row in enumerate(csv.reader(f), start=1):
            if not row:
                continue
            if len(row) != len(COLUMNS) or not row[1].strip().lstrip("-").isdigit():
                raise ValueError(
                    f"{path}:{line_number}: expected {len(COLUMNS)} columns "
                    f"({', '.join(COLUMNS)}) with an integer timestamp_ms, got {row!r}"
                )
            youtube_id, class_name, presence = row[0], row[3], row[5]
            if wanted is not None and class_name not in wanted:
                continue
            classes_of_video = videos.setdefault(youtube_id, set())
            if not present_only or presence == "present":
                classes_of_video.add(class_name)
    return {vid: sorted(names) for vid, names in videos.items() if names or not present_only}

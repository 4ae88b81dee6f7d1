"""FBMS-59 ground truth -> index PNGs of training ids (``datasets/prepare_fbms.py``).

The region maps that a ``<seq>Def.dat`` describes (parsed by ``data.datasets.fbms``) are read
from ``.pgm`` (grey value = region scale) or ``.ppm`` (colour packed as (R << 16) | (G << 8) | B)
files and remapped, region 0 to background and every other region to foreground or, with a class
table, to its class's index in the shared class list.
"""

import hashlib
import json
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ...utils.json_files import load_json
from ..datasets.fbms import (
    FOREGROUND_CLASSES,
    GroundTruthDef,
    def_file_path,
    list_sequences,
    manifest_path,
    parse_def_file,
    semantic_label_path,
)
from .label_conversion import ConversionJob, convert_all, remap_table, write_index_png
from .shared_classes import canonical_name

IGNORE_LABEL = 255


def read_region_map(
    path: str, region_scales: Sequence[int], unknown: int | None = None
) -> np.ndarray:
    """Region index of every pixel of a ``.pgm`` (grey) or ``.ppm`` (colour) ground truth.

    Args:
        path: the ground-truth image.
        region_scales: value of each region (grey level, or packed 24-bit RGB for .ppm).
        unknown: index given to pixels matching no region; None makes them an error.
    Returns:
        (H, W) uint8 region indices.
    Raises:
        ValueError naming the file for an unexpected image mode or unknown pixel values.
    """
    extension = os.path.splitext(path)[1].lower()
    with Image.open(path) as img:
        if extension == ".ppm" and img.mode == "RGB":
            rgb = np.asarray(img, dtype=np.int64)
            values = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        elif extension == ".pgm" and img.mode in ("L", "I", "I;16", "I;16B"):
            values = np.asarray(img, dtype=np.int64)
        else:
            raise ValueError(
                f"{path}: FBMS ground truth must be a grey .pgm or an RGB .ppm, got a "
                f"{extension} file of PIL mode {img.mode!r}"
            )
    regions = np.full(values.shape, 255 if unknown is None else unknown, np.uint8)
    matched = np.zeros(values.shape, bool)
    for region, scale in enumerate(region_scales):
        hit = values == scale
        regions[hit] = region
        matched |= hit
    if unknown is None and not matched.all():
        stray = np.unique(values[~matched])[:8].tolist()
        raise ValueError(
            f"{path}: {int((~matched).sum())} pixels have values {stray} that match no region "
            f"scale of the Def.dat file (scales {list(region_scales)}); use --unknown-to-ignore "
            "to label them 255"
        )
    return regions


def load_class_table(path: str) -> dict[str, dict[int, str]]:
    """A per-sequence region -> class name table: ``{"<seq>": {"<region>": "<class>"}}``.

    Raises:
        FileNotFoundError / ValueError naming the file for a missing file or malformed entry.
    """
    content = load_json(path, f"FBMS class table not found: {path}")
    if not isinstance(content, dict):
        raise ValueError(f'{path}: expected {{"<seq>": {{"<region index>": "<class name>"}}}}')
    table = {}
    for seq, regions in content.items():
        if not isinstance(regions, dict) or not all(
            str(k).isdigit() and isinstance(v, str) for k, v in regions.items()
        ):
            raise ValueError(f"{path}: sequence {seq!r} must map region indices to class names")
        table[seq] = {int(k): v for k, v in regions.items()}
    return table


def region_class_table(
    seq: str,
    definition: GroundTruthDef,
    classes: Sequence[str],
    class_table: dict[str, dict[int, str]] | None,
    source: str = "--classes-json",
) -> np.ndarray:
    """Lookup table region index -> training id for one sequence.

    Without ``class_table`` region 0 is background (0) and every other region foreground (1).
    With it, region k gets the index of its class in ``classes`` (region 0 is always background;
    a class outside ``classes`` becomes background). 255 (unknown pixels) stays 255.

    Raises:
        ValueError naming the sequence if the table lacks it or one of its regions.
    """
    regions = range(len(definition.region_scales))
    if class_table is None:
        return remap_table({r: int(r > 0) for r in regions}, IGNORE_LABEL, definition.path)
    if seq not in class_table:
        raise ValueError(f"{source}: no entry for FBMS sequence {seq!r}")
    index = {canonical_name(name): i for i, name in enumerate(classes)}
    mapping = {0: 0}
    for region in regions[1:]:
        if region not in class_table[seq]:
            raise ValueError(
                f"{source}: sequence {seq!r} has no class for region {region} "
                f"({definition.path} defines {len(definition.region_scales)} regions)"
            )
        mapping[region] = index.get(canonical_name(class_table[seq][region]), 0)
    return remap_table(mapping, IGNORE_LABEL, definition.path)


def _convert_one(job: ConversionJob) -> None:
    scales, table, unknown_to_ignore = job.payload
    regions = read_region_map(job.source, scales, 255 if unknown_to_ignore else None)
    write_index_png(job.destination, table[regions])


def prepare_fbms_split(
    split_dir: str,
    classes: Sequence[str] = FOREGROUND_CLASSES,
    class_table: dict[str, dict[int, str]] | None = None,
    unknown_to_ignore: bool = False,
    workers: int = 0,
    force: bool = False,
    progress: bool = True,
) -> dict:
    """Convert the sparse ground truth of every sequence of one split into index PNGs.

    Args:
        split_dir: ``FBMS/Trainingset`` or ``FBMS/Testset``.
        classes: class list; FOREGROUND_CLASSES unless a class table is given.
        class_table: per-sequence region -> class name (``load_class_table``) or None.
        unknown_to_ignore: label pixels of no known region 255 instead of failing.
        workers / force / progress: see ``label_conversion.convert_all``.
    Returns:
        {"converted", "reused", "total"}.
    Writes:
        ``<seq>/GroundTruth_semantic/<frame>.png`` and ``<split_dir>/GroundTruth_semantic.json``.
    """
    classes = list(classes)
    jobs = []
    for seq in list_sequences(split_dir):
        seq_dir = os.path.join(split_dir, seq)
        definition = parse_def_file(def_file_path(seq_dir))
        table = region_class_table(seq, definition, classes, class_table)
        payload = (definition.region_scales, table, unknown_to_ignore)
        for frame in definition.frames:
            source = os.path.join(seq_dir, "GroundTruth", frame.gt_file)
            if not os.path.isfile(source):
                raise FileNotFoundError(
                    f"{definition.path} lists {frame.gt_file}, but {source} does not exist"
                )
            jobs.append(ConversionJob(source, semantic_label_path(seq_dir, frame), payload))
    if not jobs:
        raise FileNotFoundError(f"No labeled FBMS frame found under {split_dir}")
    table_json = json.dumps(class_table, sort_keys=True) if class_table else ""
    manifest = {
        "classes": classes,
        "class_table_sha1": hashlib.sha1(table_json.encode()).hexdigest() if table_json else None,
        "unknown_to_ignore": bool(unknown_to_ignore),
    }
    return convert_all(
        jobs,
        _convert_one,
        manifest_path(split_dir),
        manifest,
        workers=workers,
        force=force,
        desc=f"FBMS {os.path.basename(split_dir)}",
        progress=progress,
    )

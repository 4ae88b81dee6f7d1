"""FBMS-59 ground truth: the ``<seq>Def.dat`` definition file, the region maps it describes,
and their conversion into index PNGs of training ids.

``<seq>/GroundTruth/<seq>Def.dat`` is a list of headed fields (a line ending in ":" followed by
its value on the next non-empty line): the number of regions, each region's "Scale" (its grey
value in ``.pgm`` ground truth, or its colour packed as (R << 16) | (G << 8) | B in ``.ppm``),
the number of frames of the shot and of labeled frames, then per labeled frame its number, the
ground-truth file name and the input image name. Region 0 is background.
"""

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .classes import BACKGROUND, canonical_name
from .label_conversion import ConversionJob, convert_all, remap_table, write_index_png

FOREGROUND_CLASSES = (BACKGROUND, "foreground")
SEMANTIC_FOLDER = "GroundTruth_semantic"
IGNORE_LABEL = 255


@dataclass(frozen=True)
class LabeledFrame:
    """One labeled frame of a ``Def.dat`` file.

    Attributes:
        frame_number: the frame number written in the file.
        gt_file: ground-truth file name (inside ``GroundTruth/``).
        image_file: the frame's image file name (inside the sequence folder).
    """

    frame_number: int
    gt_file: str
    image_file: str


@dataclass(frozen=True)
class GroundTruthDef:
    """A parsed ``<seq>Def.dat``.

    Attributes:
        path: the .dat file.
        region_scales: value of each region in the ground-truth images; index = region.
        total_frames: frames of the shot.
        frames: the labeled frames, ``*PROB_gt.ppm`` entries left out.
    """

    path: str
    region_scales: tuple[int, ...]
    total_frames: int
    frames: tuple[LabeledFrame, ...]


def _headed_fields(path: str) -> list[tuple[str, str]]:
    """(header, value) pairs in file order; header lower-cased without its colon."""
    with open(path, errors="replace") as f:
        lines = [line.strip() for line in f]
    fields, header = [], None
    for line in lines:
        if not line:
            continue
        if line.endswith(":"):
            header = line[:-1].strip().lower()
        elif header is not None:
            fields.append((header, line))
            header = None
    return fields


def _int_value(path: str, header: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{path}: field {header!r} must be an integer, got {value!r}") from None


def _image_from_gt_name(gt_file: str) -> str:
    stem = os.path.splitext(gt_file)[0]
    return (stem[: -len("_gt")] if stem.endswith("_gt") else stem) + ".jpg"


def parse_def_file(path: str) -> GroundTruthDef:
    """Parse an FBMS ground-truth definition file.

    Raises:
        FileNotFoundError naming the file; ValueError naming it and the inconsistent field
        (region count vs scales, labeled frame count vs entries, a frame without file name).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"FBMS ground-truth definition not found: expected {path}")
    num_regions = total_frames = num_labeled = None
    scales: dict[int, int] = {}
    records: list[dict] = []
    for header, value in _headed_fields(path):
        if header.startswith("total number of regions"):
            num_regions = _int_value(path, header, value)
        elif header.startswith("scale of region"):
            region = _int_value(path, header, header.rsplit(" ", 1)[-1])
            scales[region] = _int_value(path, header, value)
        elif header.startswith("total number of frames"):
            total_frames = _int_value(path, header, value)
        elif header.startswith("total number of labeled frames"):
            num_labeled = _int_value(path, header, value)
        elif header.startswith("frame number"):
            records.append({"frame_number": _int_value(path, header, value)})
        elif header.startswith("file name") and records:
            records[-1]["gt_file"] = value
        elif header.startswith("input file name") and records:
            records[-1]["image_file"] = value
    if num_regions is None or sorted(scales) != list(range(num_regions)):
        raise ValueError(
            f"{path}: expected 'Total number of regions' and one 'Scale of region k' for "
            f"k = 0..n-1; got {num_regions} regions and scales for {sorted(scales)}"
        )
    if num_regions > 255:
        raise ValueError(f"{path}: {num_regions} regions do not fit 8-bit region maps")
    if len(set(scales.values())) != len(scales):
        raise ValueError(f"{path}: two regions share a scale value: {scales}")
    if num_labeled is not None and num_labeled != len(records):
        raise ValueError(
            f"{path}: 'Total number of labeled frames' is {num_labeled}, but {len(records)} "
            "'Frame number' entries follow"
        )
    frames = []
    for record in records:
        if "gt_file" not in record:
            raise ValueError(f"{path}: frame {record['frame_number']} has no 'File name'")
        if record["gt_file"].lower().endswith("prob_gt.ppm"):
            continue
        image = record.get("image_file") or _image_from_gt_name(record["gt_file"])
        frames.append(LabeledFrame(record["frame_number"], record["gt_file"], image))
    return GroundTruthDef(
        path=path,
        region_scales=tuple(scales[k] for k in range(num_regions)),
        total_frames=total_frames if total_frames is not None else -1,
        frames=tuple(frames),
    )


def def_file_path(seq_dir: str) -> str:
    """``<seq_dir>/GroundTruth/<seq>Def.dat``."""
    seq = os.path.basename(os.path.normpath(seq_dir))
    return os.path.join(seq_dir, "GroundTruth", f"{seq}Def.dat")


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
    try:
        with open(path) as f:
            content = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"FBMS class table not found: {path}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
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


def semantic_label_path(seq_dir: str, frame: LabeledFrame) -> str:
    """Where the converted label of ``frame`` goes: ``GroundTruth_semantic/<image stem>.png``."""
    stem = os.path.splitext(frame.image_file)[0]
    return os.path.join(seq_dir, SEMANTIC_FOLDER, stem + ".png")


def manifest_path(split_dir: str) -> str:
    return os.path.join(split_dir, SEMANTIC_FOLDER + ".json")


def list_sequences(split_dir: str) -> list[str]:
    """Sequence folders of an FBMS split folder, sorted.

    Raises:
        FileNotFoundError naming the folder if it does not exist.
    """
    if not os.path.isdir(split_dir):
        raise FileNotFoundError(f"FBMS split folder not found: expected {split_dir}")
    return sorted(
        name
        for name in os.listdir(split_dir)
        if not name.startswith(".") and os.path.isdir(os.path.join(split_dir, name))
    )


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

"""DAVIS instance annotations -> semantic label PNGs in the shared classes.

``davis_semantics.json`` names the category of every object id of every sequence
(``{"<seq>": {"1": "bicycle", "2": "person"}}``) and ``categories.json`` lists the valid names
(``{"<name>": {"id": int, "super_category": str}}``). The shared classes are the names found in
both DAVIS train and val that are COCO classes (through ``shared_classes.SYNONYMS``).

The ids of ``davis_semantics.json`` follow the semi-supervised ``Annotations``. For
``Annotations_unsupervised`` every id present in a mask must be listed for its sequence;
otherwise the conversion stops with an error naming the sequence.
"""

import hashlib
import os
from collections.abc import Sequence

import numpy as np

from ...utils.json_files import load_json
from ...utils.palette import DAVIS_PALETTE
from ..datasets.classes import BACKGROUND
from ..datasets.davis import (
    MANIFEST_FILE,
    RESOLUTION,
    SHARED_CLASSES_FILE,
    read_sequence_list,
    semantic_folder,
)
from ..label_io import read_label_map
from .label_conversion import ConversionJob, convert_all, remap_table, write_index_png
from .shared_classes import COCO_THING_VALUES, canonical_name, save_shared_classes

SEMANTICS_FILE = "davis_semantics.json"
CATEGORIES_FILE = "categories.json"
VOID = 255


def _load_json(path: str, what: str):
    return load_json(path, f"DAVIS {what} not found: expected {path}")


def load_categories(path: str) -> set[str]:
    """Category names of ``categories.json``.

    Raises:
        FileNotFoundError / ValueError naming the file if it is missing or not of the form
        ``{"<name>": {"id": int, "super_category": str}}``.
    """
    content = _load_json(path, "categories file")
    if not isinstance(content, dict) or not content:
        raise ValueError(f'{path}: expected {{"<name>": {{"id": int, "super_category": str}}}}')
    for name, entry in content.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
            raise ValueError(f'{path}: category {name!r} needs an integer "id", got {entry!r}')
    return set(content)


def load_davis_semantics(
    path: str, categories: set[str] | None = None
) -> dict[str, dict[int, str]]:
    """Per-sequence object id -> category name.

    Args:
        path: ``davis_semantics.json``.
        categories: valid category names (from ``load_categories``), or None to skip that check.
    Returns:
        {sequence: {object id (1..254): category name}}.
    Raises:
        ValueError naming the file and sequence for a malformed entry or an unknown category.
    """
    content = _load_json(path, "semantics file")
    if not isinstance(content, dict):
        raise ValueError(f'{path}: expected {{"<seq>": {{"<object id>": "<category>"}}}}')
    semantics = {}
    for seq, objects in content.items():
        if not isinstance(objects, dict):
            raise ValueError(f"{path}: sequence {seq!r}: expected an object id -> name mapping")
        table = {}
        for key, name in objects.items():
            if not str(key).isdigit() or not 1 <= int(key) <= 254 or not isinstance(name, str):
                raise ValueError(
                    f"{path}: sequence {seq!r}: entry {key!r}: {name!r} must map an object id "
                    "1..254 to a category name"
                )
            if categories is not None and name not in categories:
                raise ValueError(
                    f"{path}: sequence {seq!r}, object {key}: category {name!r} is not in "
                    "categories.json"
                )
            table[int(key)] = name
        semantics[seq] = table
    return semantics


def _names_in(semantics: dict, sequences: Sequence[str], source: str) -> set[str]:
    missing = [seq for seq in sequences if seq not in semantics]
    if missing:
        raise ValueError(
            f"{source} has no entry for sequence(s) {missing}; every listed sequence needs one"
        )
    return {canonical_name(name) for seq in sequences for name in semantics[seq].values()}


def compute_shared_classes(
    semantics: dict[str, dict[int, str]],
    train: Sequence[str],
    val: Sequence[str],
    source: str = SEMANTICS_FILE,
) -> list[str]:
    """ "background" + the COCO classes present in both the train and the val sequences.

    Names are compared in their COCO spelling; the result is in COCO category order.
    Raises:
        ValueError if a sequence has no semantics entry or nothing is shared.
    """
    shared = _names_in(semantics, train, source) & _names_in(semantics, val, source)
    shared &= set(COCO_THING_VALUES)
    if not shared:
        raise ValueError(f"{source}: no COCO class occurs in both DAVIS train and val")
    return [BACKGROUND] + sorted(shared, key=COCO_THING_VALUES.__getitem__)


def parse_classes_option(text: str) -> list[str]:
    """``--classes a,b,c`` -> ["background", a, b, c] in COCO spelling.

    Raises:
        ValueError naming a class that is not a COCO thing class or is repeated.
    """
    names = [canonical_name(n) for n in text.split(",") if n.strip()]
    names = [n for n in names if n != BACKGROUND]
    unknown = [n for n in names if n not in COCO_THING_VALUES]
    if unknown:
        raise ValueError(
            f"--classes: {unknown} are not COCO classes; known: {sorted(COCO_THING_VALUES)}"
        )
    if not names or len(set(names)) != len(names):
        raise ValueError(f"--classes must list distinct class names, got {text!r}")
    return [BACKGROUND, *names]


def sequence_remap_table(objects: dict[int, str], classes: Sequence[str]) -> np.ndarray:
    """Lookup table object id -> class index for one sequence.

    0 stays background, 255 stays void, an object whose category is not in ``classes`` becomes
    background; ids the sequence does not list map to void (they are rejected before use).
    """
    index = {canonical_name(name): i for i, name in enumerate(classes)}
    mapping = {0: 0, VOID: VOID}
    for object_id, name in objects.items():
        mapping[object_id] = index.get(canonical_name(name), 0)
    return remap_table(mapping, default=VOID, source="DAVIS remap")


def _convert_one(job: ConversionJob) -> None:
    seq, table, known_ids, annotations = job.payload
    labels = read_label_map(job.source, ("P",))
    present = set(np.unique(labels).tolist()) - {0, VOID}
    unknown = sorted(present - set(known_ids))
    if unknown:
        hint = (
            " The ids of davis_semantics.json follow the semi-supervised Annotations; this "
            f"sequence's {annotations} masks do not match them."
            if annotations != "Annotations"
            else ""
        )
        raise ValueError(
            f"{job.source}: sequence {seq!r} has object ids {unknown}, but {SEMANTICS_FILE} lists "
            f"only {sorted(known_ids)} for it.{hint}"
        )
    write_index_png(job.destination, table[labels], palette=DAVIS_PALETTE)


def _sha1(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def prepare_davis_semantic(
    davis_root: str,
    classes: Sequence[str] | None = None,
    annotations: str = "Annotations",
    semantics_path: str | None = None,
    categories_path: str | None = None,
    workers: int = 0,
    force: bool = False,
    progress: bool = True,
) -> dict:
    """Compute (or take) the shared classes, store them, and convert the train+val annotations.

    Args:
        davis_root: the DAVIS folder.
        classes: class list to use ("background" first); None computes it from the files.
        annotations: instance annotation folder to convert ("Annotations" or
            "Annotations_unsupervised").
        semantics_path / categories_path: default ``<davis_root>/davis_semantics.json`` and
            ``<davis_root>/categories.json``.
        workers: conversion processes (0: in this process).
        force: rewrite outputs that already exist.
        progress: show a progress bar.
    Returns:
        {"classes": [...], "converted", "reused", "total"}.
    Writes:
        ``<davis_root>/shared_classes.json``, ``<annotations>_semantic/480p/<seq>/*.png``
        (palette PNGs of class indices, 255 void) and ``<annotations>_semantic/manifest.json``.
    Raises:
        FileNotFoundError naming a missing file or folder; ValueError for a bad table or mask.
    """
    semantics_path = semantics_path or os.path.join(davis_root, SEMANTICS_FILE)
    categories_path = categories_path or os.path.join(davis_root, CATEGORIES_FILE)
    semantics = load_davis_semantics(semantics_path, load_categories(categories_path))
    train = read_sequence_list(davis_root, "train")
    val = read_sequence_list(davis_root, "val")
    if classes is None:
        classes = compute_shared_classes(semantics, train, val, semantics_path)
        origin = "DAVIS 2017 train ∩ val ∩ COCO"
    else:
        origin = "given explicitly"
    classes = list(classes)
    _names_in(semantics, train + val, semantics_path)  # every sequence to convert has an entry
    save_shared_classes(os.path.join(davis_root, SHARED_CLASSES_FILE), classes, origin=origin)

    source_root = os.path.join(davis_root, annotations, RESOLUTION)
    target_root = os.path.join(semantic_folder(davis_root, annotations), RESOLUTION)
    jobs = []
    for seq in train + val:
        folder = os.path.join(source_root, seq)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"DAVIS annotation folder not found: expected {folder}")
        payload = (
            seq,
            sequence_remap_table(semantics[seq], classes),
            tuple(semantics[seq]),
            annotations,
        )
        jobs += [
            ConversionJob(os.path.join(folder, name), os.path.join(target_root, seq, name), payload)
            for name in sorted(os.listdir(folder))
            if name.endswith(".png") and not name.startswith(".")
        ]
    manifest = {
        "classes": classes,
        "annotations": annotations,
        "semantics_sha1": _sha1(semantics_path),
    }
    counts = convert_all(
        jobs,
        _convert_one,
        os.path.join(semantic_folder(davis_root, annotations), MANIFEST_FILE),
        manifest,
        workers=workers,
        force=force,
        desc=f"DAVIS {annotations}",
        progress=progress,
    )
    return {"classes": classes, **counts}

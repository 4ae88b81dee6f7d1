"""Shared machinery of the prepare scripts: write remapped label PNGs safely, in parallel, and
resumably.

A conversion is a list of jobs (source file -> destination PNG) plus a manifest JSON that records
what the outputs mean (the class list and the options). The manifest is written before the first
output and marked complete after the last, so:

* an interrupted run, rerun with the same options, converts only the files still missing (or
  whose source changed since);
* a run with different options first deletes the outputs it is about to rewrite, so an output
  on disk always matches the manifest beside it;
* registration refuses outputs whose manifest is missing or incomplete (``require_manifest``).
"""

import json
import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from tqdm import tqdm

from .classes import check_class_list

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversionJob:
    """One output file to write.

    Attributes:
        source: input file (what error messages name).
        destination: PNG to write.
        payload: anything else the convert function needs (must be picklable).
    """

    source: str
    destination: str
    payload: object = None


def label_palette() -> list[int]:
    """The 256-colour palette of DAVIS and VOC label PNGs (flat [r, g, b, ...] list).

    Colour of index i: the bits of i are spread over the high bits of r, g and b in turn, so
    small indices get well separated colours; 255 is near white.
    """
    palette = []
    for index in range(256):
        r = g = b = 0
        value = index
        for bit in range(8):
            r |= ((value >> 0) & 1) << (7 - bit)
            g |= ((value >> 1) & 1) << (7 - bit)
            b |= ((value >> 2) & 1) << (7 - bit)
            value >>= 3
        palette += [r, g, b]
    return palette


def write_index_png(path: str, labels: np.ndarray, palette: Sequence[int] | None = None) -> None:
    """Write an (H, W) uint8 index map atomically: mode "P" with ``palette``, else mode "L".

    The PNG is written under a temporary name in the destination folder, then renamed, so an
    interrupted run never leaves a truncated PNG under the final name.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected an (H, W) uint8 label map, got {labels.shape} {labels.dtype}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    image = Image.fromarray(labels)
    if palette is not None:
        image.putpalette(list(palette))  # turns the "L" image into "P", values kept as indices
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=folder)
    os.close(fd)
    try:
        image.save(tmp_path, format="PNG")
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def remap_table(mapping: dict[int, int], default: int, source: str) -> np.ndarray:
    """A 256-entry lookup table: ``mapping`` where given, ``default`` elsewhere.

    Raises:
        ValueError naming ``source`` if a key or value does not fit in 0..255.
    """
    table = np.full(256, default, np.uint8)
    for key, value in mapping.items():
        if not (0 <= int(key) <= 255 and 0 <= int(value) <= 255):
            raise ValueError(f"{source}: remap {key} -> {value} does not fit 8-bit labels")
        table[int(key)] = int(value)
    return table


def _read_manifest(path: str) -> dict | None:
    try:
        with open(path) as f:
            content = json.load(f)
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        logger.warning("%s is not valid JSON; treated as missing.", path)
        return None
    if not isinstance(content, dict):
        logger.warning("%s does not hold a JSON object; treated as missing.", path)
        return None
    return content


def _write_json(path: str, content: dict) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w") as f:
        json.dump(content, f, indent=2)
        f.write("\n")
    os.replace(tmp_path, path)


def _up_to_date(job: ConversionJob) -> bool:
    """Whether the output exists and is newer than its source (like make)."""
    try:
        return os.stat(job.destination).st_mtime_ns >= os.stat(job.source).st_mtime_ns
    except FileNotFoundError:
        return False


def _run_job(args):
    convert, job = args
    convert(job)
    return job.destination


def convert_all(
    jobs: Sequence[ConversionJob],
    convert: Callable[[ConversionJob], None],
    manifest_path: str,
    manifest: dict,
    workers: int = 0,
    force: bool = False,
    desc: str = "converting",
    progress: bool = True,
) -> dict:
    """Run ``convert`` on every job whose output is missing or older than its source; keep the
    manifest in step.

    Args:
        jobs: the outputs to produce.
        convert: writes ``job.destination`` (a picklable module-level function when workers > 0).
        manifest_path: JSON file describing the outputs.
        manifest: its content; must hold "classes". A "complete" flag is added.
        workers: processes to convert with; 0 converts in this process.
        force: rewrite every output even if the manifest matches.
        desc: progress bar label.
        progress: show a progress bar.
    Returns:
        {"converted": n, "reused": n, "total": n}.
    """
    check_class_list(manifest.get("classes"), manifest_path)
    previous = _read_manifest(manifest_path)
    reusable = (
        not force
        and previous is not None
        and {k: v for k, v in previous.items() if k != "complete"} == manifest
    )
    if not reusable:
        for job in jobs:
            if os.path.exists(job.destination):
                os.remove(job.destination)
        _write_json(manifest_path, {**manifest, "complete": False})
    todo = [job for job in jobs if not _up_to_date(job)]
    bar = tqdm(total=len(todo), desc=desc, disable=not progress or not todo, unit="file")
    if workers > 0 and len(todo) > 1:
        with multiprocessing.Pool(workers) as pool:
            items = ((convert, job) for job in todo)
            for _ in pool.imap_unordered(_run_job, items, chunksize=16):
                bar.update()
    else:
        for job in todo:
            convert(job)
            bar.update()
    bar.close()
    _write_json(manifest_path, {**manifest, "complete": True})
    return {"converted": len(todo), "reused": len(jobs) - len(todo), "total": len(jobs)}


def require_manifest(path: str, command: str) -> dict:
    """The manifest of a finished conversion, for registration to trust its outputs.

    Raises:
        FileNotFoundError naming ``path`` and ``command`` if it does not exist;
        RuntimeError naming them if the conversion did not finish.
    """
    manifest = _read_manifest(path)
    if manifest is None:
        raise FileNotFoundError(
            f"Converted labels not found: expected {path}. Create them with `{command}` "
            "(see datasets/README.md)."
        )
    if not manifest.get("complete"):
        raise RuntimeError(
            f"The label conversion recorded in {path} did not finish; rerun `{command}` "
            "(it resumes where it stopped)."
        )
    return manifest


def manifest_classes(path: str, fallback: Sequence[str]) -> list[str]:
    """The class list recorded in a manifest, or ``fallback`` if there is none (yet).

    For metadata at registration time: a malformed manifest is logged, not raised, so one bad
    file cannot break ``import i2v_plugin`` (loading the split then fails on it).
    """
    manifest = _read_manifest(path) if os.path.isfile(path) else None
    if not isinstance(manifest, dict) or "classes" not in manifest:
        return list(fallback)
    try:
        return check_class_list(manifest["classes"], path)
    except ValueError as err:
        logger.warning("%s; using %s for now.", err, list(fallback))
        return list(fallback)

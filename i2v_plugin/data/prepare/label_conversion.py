"""Shared machinery of the converters: write remapped label PNGs safely, in parallel, and
resumably.

A conversion is a list of jobs (source file -> destination PNG) plus a manifest JSON that records
what the outputs mean (the class list and the options). The manifest is written before the first
output and marked complete after the last, so:

* an interrupted run, rerun with the same options, converts only the files still missing (or
  whose source changed since);
* a run with different options first deletes the outputs it is about to rewrite, so an output
  on disk always matches the manifest beside it;
* registration refuses outputs whose manifest is missing or incomplete
  (``data.datasets.manifests.require_manifest``).
"""

import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from tqdm import tqdm

from ...utils.atomic import atomic_write
from ..datasets.classes import check_class_list
from ..datasets.manifests import read_manifest


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


def write_index_png(path: str, labels: np.ndarray, palette: np.ndarray | None = None) -> None:
    """Write an (H, W) uint8 index map atomically: mode "P" with ``palette`` (a (256, 3) array of
    ``utils.palette``), else mode "L".

    An interrupted run never leaves a truncated PNG under the final name (``utils.atomic``).
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected an (H, W) uint8 label map, got {labels.shape} {labels.dtype}"
        )
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    image = Image.fromarray(labels)
    if palette is not None:
        # Turns the "L" image into "P"; the values stay the indices.
        image.putpalette(np.asarray(palette, np.uint8).tobytes())
    with atomic_write(path, "wb") as f:
        image.save(f, format="PNG")


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


def _write_json(path: str, content: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path) as f:
        json.dump(content, f, indent=2)
        f.write("\n")


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
    previous = read_manifest(manifest_path)
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

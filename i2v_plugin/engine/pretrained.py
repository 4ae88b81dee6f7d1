"""Synthetic pretraining: the paper's pretrained weights (ADE20k for Swin and VideoSwin, COCO for
DeepLab) in miniature, trained once per backbone family and cached.

``MODEL.WEIGHTS: "i2v-pretrained://<family>"`` (family ``swin``, ``deeplab`` or ``video_swin``)
names the weights of that family's pretraining stage: segmentation of the pretraining task's
classes (``i2v_synth_pretrain_train``: ten other shapes and textures on clean images, disjoint
from the benchmark's) by ``configs/synthetic/pretrain/<family>.yaml``. VideoSwin is not trained:
its weights are the Swin ones inflated in time, as the paper initialises VideoSwin. The
classifier is dropped, so every benchmark config starts its own for its classes.

The weights are cached as ``$DETECTRON2_DATASETS/i2v_synth_pretrained/<family>-<key>.pth``; the
key hashes what decides them: every key of the merged pretraining config that differs from the
defaults (so a new config key left at its default does not invalidate the cache), the
pretraining data's settings, and ``RECIPE_VERSION`` (bump it when a default the pretraining
relies on changes). A missing file is trained on first use, in a subprocess and under a
file lock (several processes of one run wait for one training), with Detectron2's progress log;
an interrupted pretraining resumes from its work folder. To train them ahead of time, or again:
``python tools/pretrain_synthetic.py [--family swin] [--force]``.

The repository ships the Swin and DeepLab files under ``weights/synthetic/`` (so that ``make demo``
need not pretrain); it is copied into the cache when its key matches the settings, and ignored
otherwise (then the weights are trained as above).
"""

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from detectron2.utils.file_io import PathManager
from iopath.common.file_io import PathHandler

from ..modeling.weights import ImportOptions, import_checkpoint
from ..utils.atomic import atomic_path
from .setup import build_cfg

logger = logging.getLogger(__name__)

PREFIX = "i2v-pretrained://"
# Bump when the pretraining procedure changes in a way the config does not show.
RECIPE_VERSION = 1
TRAINED_FAMILIES = ("swin", "deeplab")
FAMILIES = (*TRAINED_FAMILIES, "video_swin")
# The VideoSwin config whose window and patch the inflated weights are built for.
VIDEO_SWIN_CONFIG = "configs/synthetic/Base-Synth-VideoSwin.yaml"
CLASSIFIER = "sem_seg_head.predictor."


def repo_root() -> Path:
    """The checkout that holds ``configs/`` (the package's parent folder)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "configs" / "synthetic" / "pretrain").is_dir():
        raise FileNotFoundError(
            f"configs/synthetic/pretrain not found under {root}: synthetic pretraining needs the "
            "repository checkout (pip install -e .)"
        )
    return root


def cache_root() -> Path:
    return Path(os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))).joinpath(
        "i2v_synth_pretrained"
    )


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"Unknown pretrained family {family!r}; choose from {FAMILIES}")


def pretrain_cfg(family: str, opts=()):
    """The merged pretraining config of a trained family (``opts``: overrides)."""
    path = repo_root() / "configs" / "synthetic" / "pretrain" / f"{family}.yaml"
    return build_cfg(str(path), list(opts))


def _settings(family: str, opts=()) -> dict:
    """Everything that decides the weights of ``family``: the cache key's input."""
    from ..synth.pretrain import PRETRAIN_VERSION, PretrainSettings

    if family == "video_swin":
        video = build_cfg(str(repo_root() / VIDEO_SWIN_CONFIG), [])
        return {
            "swin": _settings("swin", opts),
            "patch": list(video.MODEL.VIDEO_SWIN.PATCH_SIZE),
            "window": list(video.MODEL.VIDEO_SWIN.WINDOW_SIZE),
            "recipe": RECIPE_VERSION,
        }
    return {
        "config": _config_diff(pretrain_cfg(family, opts)),
        "data": {**dataclasses.asdict(PretrainSettings()), "version": PRETRAIN_VERSION},
        "recipe": RECIPE_VERSION,
    }


def _flat(node, prefix="") -> dict:
    out = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _config_diff(cfg) -> dict:
    """The keys of ``cfg`` whose values differ from the defaults (OUTPUT_DIR left out)."""
    from .setup import default_cfg

    defaults = _flat(default_cfg())
    return {
        key: value
        for key, value in sorted(_flat(cfg).items())
        if key != "OUTPUT_DIR" and defaults.get(key, object()) != value
    }


def cache_key(family: str, opts=()) -> str:
    """12 hex digits of the SHA-1 of the family's settings."""
    _check_family(family)
    text = json.dumps(_settings(family, opts), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def weights_path(family: str, opts=(), root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{family}-{cache_key(family, opts)}.pth"


def shipped_path(path: Path) -> Path:
    """Where the repository ships a cached file of that name (``weights/synthetic/``)."""
    return repo_root() / "weights" / "synthetic" / path.name


def _copy_shipped(path: Path) -> bool:
    """Copy the shipped file (and its record) of ``path``'s key into the cache, if there is one."""
    shipped = shipped_path(path)
    if not shipped.exists():
        return False
    for source, target in (
        (shipped, path),
        (shipped.with_suffix(".json"), path.with_suffix(".json")),
    ):
        if source.exists():
            with atomic_path(str(target)) as temp:
                shutil.copyfile(source, temp)
    logger.info("Synthetic pretrained weights: %s copied from %s", path.name, shipped.parent)
    return True


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _save(path: Path, state_dict: dict, record: dict) -> None:
    """Write {"model": ...} without the classifier, atomically, and its JSON record beside it."""
    kept = {k: v for k, v in state_dict.items() if not k.startswith(CLASSIFIER)}
    with atomic_path(str(path)) as temp:
        torch.save({"model": kept, "__author__": "i2v_plugin synthetic pretraining"}, temp)
    with atomic_path(str(path.with_suffix(".json"))) as temp:
        Path(temp).write_text(json.dumps(record, indent=2) + "\n")


def ensure_pretrained(family: str, opts=(), root: Path | None = None, force=False) -> Path:
    """The cached weights of ``family``, trained (or inflated) first when missing.

    Args:
        family: one of ``FAMILIES``.
        opts: overrides of the pretraining config (part of the key; tests shrink the model).
        root: cache folder (default ``$DETECTRON2_DATASETS/i2v_synth_pretrained``).
        force: train (VideoSwin: inflate) again even when cached.
    Returns:
        Path of a Detectron2 checkpoint {"model": state dict without the classifier}.
    """
    path = weights_path(family, opts, root)
    if path.exists() and not force:
        return path
    with _locked(path):
        if path.exists() and not force:
            return path
        if not force and _copy_shipped(path):
            return path
        if family == "video_swin":
            # Forcing re-inflates from the cached Swin weights (train those with force first).
            _inflate(ensure_pretrained("swin", opts, root), path)
        else:
            logger.info("Pretraining %s on the synthetic pretraining task -> %s", family, path)
            command = [sys.executable, "-m", "i2v_plugin.engine.pretrained", family, str(path)]
            command += list(opts)
            done = subprocess.run(command)
            if done.returncode != 0 or not path.exists():
                raise RuntimeError(
                    f"Pretraining {family} failed (exit {done.returncode}); its log and work "
                    f"folder are in {path.with_suffix('.work')}"
                )
    return path


def _inflate(swin: Path, path: Path) -> None:
    video = build_cfg(str(repo_root() / VIDEO_SWIN_CONFIG), [])
    state = torch.load(swin, map_location="cpu", weights_only=False)["model"]
    options = ImportOptions(
        temporal_patch=video.MODEL.VIDEO_SWIN.PATCH_SIZE[0],
        temporal_window=video.MODEL.VIDEO_SWIN.WINDOW_SIZE[0],
        inflate="replicate",
    )
    inflated, _ = import_checkpoint("inflate-video-swin", state, options)
    record = json.loads(swin.with_suffix(".json").read_text())
    _save(path, inflated, {"inflated_from": swin.name, "swin": record})


def train_family(family: str, path: Path, opts=()) -> None:
    """Train ``family``'s pretraining config in this process (resuming its work folder) and
    save the cached weights at ``path``."""
    from detectron2.utils.logger import setup_logger

    from ..synth.pretrain import ensure_pretrain_dataset
    from .trainer import I2VTrainer

    ensure_pretrain_dataset()
    work = path.with_suffix(".work")
    cfg = pretrain_cfg(family, list(opts) + ["OUTPUT_DIR", str(work)])
    work.mkdir(parents=True, exist_ok=True)
    setup_logger(str(work))
    setup_logger(str(work), name="i2v_plugin")
    torch.manual_seed(cfg.SEED)
    trainer = I2VTrainer(cfg)
    trainer.resume_or_load(resume=True)
    results = trainer.train()
    scores = {name: round(r["sem_seg"]["mIoU"], 3) for name, r in (results or {}).items()}
    record = {
        "family": family,
        "key": path.stem,
        "config": f"configs/synthetic/pretrain/{family}.yaml",
        "opts": list(opts),
        "iterations": cfg.SOLVER.MAX_ITER,
        "mIoU": scores,
    }
    _save(path, trainer.model.state_dict(), record)
    shutil.rmtree(work, ignore_errors=True)


class PretrainedHandler(PathHandler):
    """``i2v-pretrained://<family>`` -> the cached weights (trained first when missing)."""

    def _get_supported_prefixes(self):
        return [PREFIX]

    def _get_local_path(self, path: str, **kwargs) -> str:
        family = path[len(PREFIX) :].strip("/")
        _check_family(family)
        return str(ensure_pretrained(family))

    def _open(self, path: str, mode: str = "r", **kwargs):
        return open(self._get_local_path(path), mode)

    def _isfile(self, path: str, **kwargs) -> bool:
        return os.path.isfile(self._get_local_path(path))


def register_handler() -> None:
    """Register ``PretrainedHandler`` with Detectron2's ``PathManager`` (once)."""
    if PREFIX not in PathManager._path_handlers:
        PathManager.register_handler(PretrainedHandler())


def main(argv=None) -> None:
    """``python -m i2v_plugin.engine.pretrained FAMILY OUT [KEY VALUE ...]`` (used by
    ``ensure_pretrained``)."""
    parser = argparse.ArgumentParser(description="Train one family's synthetic pretraining.")
    parser.add_argument("family", choices=TRAINED_FAMILIES)
    parser.add_argument("out")
    parser.add_argument("opts", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    train_family(args.family, Path(args.out), args.opts)


if __name__ == "__main__":
    main()

"""Shared fixtures: a tiny synthetic benchmark under a temporary $DETECTRON2_DATASETS, and
small configs that train in seconds on CPU.

$DETECTRON2_DATASETS is set before ``i2v_plugin`` is first imported, because dataset
registration binds the root at import time. ``tools/`` is put on the path so that tests import
the tool-only modules (``benchmark_suites``, the scripts) as the scripts do.
"""

import os
import sys
import tempfile

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS_ROOT = tempfile.mkdtemp(prefix="i2v_test_datasets_")
os.environ["DETECTRON2_DATASETS"] = DATASETS_ROOT
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, os.path.join(REPO_ROOT, "tools"))

import torch  # noqa: E402

torch.set_num_threads(2)

# Overrides that shrink the synthetic configs to a few seconds of CPU work.
TINY_MODEL_OPTS = [
    "MODEL.SWIN.EMBED_DIM", "16",
    "MODEL.SWIN.NUM_HEADS", "[1, 1, 2, 2]",
    "MODEL.SEM_SEG_HEAD.CONVS_DIM", "16",
    "MODEL.I2V.DISC_HIDDEN_DIMS", "[16]",
    "MODEL.I2V.CLUSTER.NUM_CLUSTERS", "4",
    "INPUT.MIN_SIZE_TRAIN", "(64,)",
    "INPUT.CROP.SIZE", "(64, 64)",
    "SOLVER.IMS_PER_BATCH_LABELED", "2",
    "SOLVER.IMS_PER_BATCH_UNLABELED", "2",
    "SOLVER.WARMUP_ITERS", "2",
    "DATALOADER.NUM_WORKERS", "0",
]  # fmt: skip


def tiny_cfg(config="configs/synthetic/swin_source_only.yaml", *opts):
    """A frozen config from a repo config file plus the tiny overrides and ``opts``."""
    from i2v_plugin.engine.setup import build_cfg

    return build_cfg(os.path.join(REPO_ROOT, config), TINY_MODEL_OPTS + list(opts))


def random_batch(labeled=2, unlabeled=2, size=64, classes=11):
    """A training batch of random uint8 images: ``labeled`` image-domain samples with random
    labels, then ``unlabeled`` video-domain samples without."""
    import torch

    def sample(domain, with_label):
        d = {"image": torch.randint(0, 256, (3, size, size), dtype=torch.uint8), "domain": domain}
        if with_label:
            d["sem_seg"] = torch.randint(0, classes, (size, size))
        return d

    return [sample("image", True) for _ in range(labeled)] + [
        sample("video", False) for _ in range(unlabeled)
    ]


@pytest.fixture(scope="session")
def synth_root():
    """Generate a tiny synthetic benchmark once per test session; returns its root folder."""
    from i2v_plugin.synth.generator import SynthParams, generate_synthetic

    params = SynthParams(
        image_size=64,
        video_size=64,
        num_train_images=12,
        num_val_images=4,
        num_train_videos=3,
        num_val_videos=2,
        num_tune_images=2,
        num_tune_videos=1,
        frames_per_video=6,
    )
    return str(generate_synthetic(os.path.join(DATASETS_ROOT, "i2v_synth"), params, progress=False))

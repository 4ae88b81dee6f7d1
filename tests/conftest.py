"""Test session set-up: a temporary $DETECTRON2_DATASETS, set before ``i2v_plugin`` is first
imported (dataset registration binds the root at import time), two torch threads, and the tiny
synthetic benchmark fixture. Shared helpers live in ``tests/helpers``."""

import os
import tempfile

import pytest

DATASETS_ROOT = tempfile.mkdtemp(prefix="i2v_test_datasets_")
os.environ["DETECTRON2_DATASETS"] = DATASETS_ROOT

import torch  # noqa: E402

torch.set_num_threads(2)


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
        eval_frames_per_video=6,
    )
    return str(generate_synthetic(os.path.join(DATASETS_ROOT, "i2v_synth"), params, progress=False))

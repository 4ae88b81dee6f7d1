"""tools/benchmark.py --suite gpu without a GPU: --dry-run lists every measurement, a run without
CUDA is refused before anything is measured or written; the paper-size steps it times (shared
with the train suite's paper ratios) build and run on CPU with a small network."""

import pytest
import torch
from detectron2.utils.events import EventStorage

from tests.helpers import REPO_ROOT
from tests.helpers.tools import load_tool

# A small network on the paper's 224 crops and 4 + 4 batch: the code path, not the cost.
SMALL = [
    "MODEL.SWIN.EMBED_DIM", "16",
    "MODEL.SWIN.DEPTHS", "[1, 1, 1, 1]",
    "MODEL.SWIN.NUM_HEADS", "[1, 1, 2, 2]",
    "MODEL.SEM_SEG_HEAD.CONVS_DIM", "16",
    "MODEL.I2V.DISC_HIDDEN_DIMS", "[16]",
]  # fmt: skip


def test_dry_run_lists_every_mode_precision_and_measurement(capsys, tmp_path):
    load_tool("benchmark").main(["--suite", "gpu", "--dry-run"])
    listing = capsys.readouterr().out
    from benchmark_suites.paper_size import PAPER_MODES

    for mode, (config, _) in PAPER_MODES.items():
        assert f"  {mode}: {config}" in listing
    assert "float32, float16, bfloat16: 3 warm-up + 10 timed each, peak memory" in listing
    assert "768 maps of 56 x 56" in listing and "854 x 480 frames" in listing


def test_without_cuda_the_suite_refuses_and_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "train_gpu.json"
    with pytest.raises(SystemExit) as stopped:
        load_tool("benchmark").main(["--suite", "gpu", "--out", str(out)])
    assert stopped.value.code == 2
    assert "--suite gpu measures on a CUDA device" in capsys.readouterr().err
    assert not out.exists()


def test_dry_run_belongs_to_the_gpu_suite(capsys, tmp_path):
    with pytest.raises(SystemExit):
        load_tool("benchmark").main(["--suite", "train", "--dry-run"])
    assert "--dry-run applies to --suite gpu only" in capsys.readouterr().err


def test_paper_size_steps_run_on_cpu():
    from benchmark_suites.paper_size import batch_for, build_step, paper_cfg

    cfg = paper_cfg(REPO_ROOT, "self_training_temporal", "cpu", SMALL)
    batch = batch_for(cfg)
    assert len(batch) == 8 and all(d["image"].shape == (3, 224, 224) for d in batch)
    assert all("pair_image" in d for d in batch[4:])
    assert all(d["sem_seg"].max() < cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES for d in batch[:4])
    source_only = paper_cfg(REPO_ROOT, "source_only", "cpu", SMALL)
    assert len(batch_for(source_only)) == 4  # it reads no unlabeled sample
    trainer, step = build_step(cfg, "float32")
    before = [p.detach().clone() for p in trainer.model.parameters() if p.requires_grad]
    with EventStorage(0):
        step()
    after = [p for p in trainer.model.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(after, before))  # the optimizer stepped
    with pytest.raises(ValueError, match="float16 needs a CUDA model"):
        build_step(source_only, "float16")

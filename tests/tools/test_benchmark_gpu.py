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


@pytest.mark.parametrize("budget_s", [1e9, 0.0])
def test_suite_bookkeeping_and_time_budget(monkeypatch, budget_s):
    # The measurements themselves need CUDA: stand-ins give each (mode, precision) a step time
    # and a peak, so the derived figures and the budget's skipping can be checked on CPU.
    from benchmark_suites import gpu_suite
    from benchmark_suites.paper_size import PAPER_MODES, PRECISIONS

    fake_seconds = {mode: 1.0 + i for i, mode in enumerate(PAPER_MODES)}
    speed = {"float32": 1.0, "float16": 2.0, "bfloat16": 4.0}

    monkeypatch.setattr(gpu_suite, "require_cuda", lambda device: None)
    monkeypatch.setattr(gpu_suite, "device_info", lambda device: {"gpu_name": "stand-in"})
    monkeypatch.setattr(gpu_suite, "measure_kmeans", lambda *a, **k: {"kmeans_gpu_speedup": 9.0})
    monkeypatch.setattr(gpu_suite.predict_suite, "run", lambda *a, **k: {"_table": "", "x": 1.0})
    modes = iter(mode for mode in PAPER_MODES for _ in PRECISIONS)  # the suite's order
    monkeypatch.setattr(
        gpu_suite,
        "measure_step",
        lambda cfg, precision, device, rounds: (
            fake_seconds[next(modes)] / speed[precision],
            100.0,
        ),
    )
    figures = gpu_suite.run(REPO_ROOT, device="cpu", rounds=1, opts=SMALL, budget_s=budget_s)
    assert figures["kmeans_gpu_speedup"] == 9.0 and figures["x"] == 1.0
    if budget_s == 0.0:
        assert len(figures["skipped"]) == len(PAPER_MODES) * len(PRECISIONS)
        assert not any(key.startswith(("step_s_", "ratio_")) for key in figures)
        assert "skipped (time budget)" in figures["_table"]
        return
    assert figures["skipped"] == []
    for mode in PAPER_MODES:
        for precision in PRECISIONS:
            assert figures[f"peak_mem_mib_{mode}_{precision}"] == 100.0
            expected = fake_seconds[mode] / fake_seconds["source_only"]
            assert figures[f"ratio_{mode}_{precision}"] == pytest.approx(expected)
        assert figures[f"amp_speedup_{mode}_bfloat16"] == pytest.approx(4.0)
        assert figures[f"amp_speedup_{mode}_float16"] == pytest.approx(2.0)


@pytest.mark.slow
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

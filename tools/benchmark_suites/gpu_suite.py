"""``--suite gpu``: the paper-size figures on one CUDA device (``tools/gpu_bench.sh`` runs it).

- ``step_s_<mode>_<precision>``: seconds per trainer step of source-only, spatial, global,
  clustered, entropy, self-training and temporal self-training (``paper_size.py``: Swin-T +
  UperNet, the real ``configs/swin_*.yaml``, 224 crops, 4 + 4 generated samples), each in
  float32, float16 and bfloat16 (``SOLVER.AMP``); ``peak_mem_mib_<mode>_<precision>``: the
  largest ``torch.cuda.max_memory_allocated`` over the timed steps (weights, gradients,
  optimizer state and activations); ``amp_speedup_<mode>_<precision>``: float32 step time over
  that precision's; ``ratio_<mode>_<precision>``: step time over source-only's at the same
  precision.
- ``kmeans_gpu_*``: the project's K-means on the GPU against scikit-learn on the host, on
  768 blob maps of 56 x 56 (the clustered loss's problem at paper size).
- ``predict_fps`` / ``model_fps`` / ``predict_vs_model``: ``predict_video`` end to end on a
  generated 854 x 480 clip against the model's forward-only throughput on the same frames
  (``predict_suite.py``, Swin-T + UperNet of ``configs/swin_source_only.yaml``).

Needs no dataset, no weight file and no network. One mode's model is on the device at a time,
so each peak is that configuration's own. No step measurement starts after ``BUDGET_S``
seconds; what was left is listed under "skipped".
"""

import gc
import time

import torch
from detectron2.utils.events import EventStorage

from . import predict_suite
from .paper_size import CROP, LABELED, PAPER_MODES, PRECISIONS, UNLABELED, build_step, paper_cfg
from .timing import format_table, median, time_call
from .train_suite import blob_maps, measure_kmeans

PREDICT_CONFIG = "configs/swin_source_only.yaml"
PREDICT_HEIGHT, PREDICT_WIDTH = 480, 854
PREDICT_BATCH = 8
WARMUP = 3
KMEANS_SEEDS = range(5)
# Seconds after which no step measurement starts (tools/gpu_bench.sh kills the run at 470).
BUDGET_S = 400.0


class NoCudaError(RuntimeError):
    """The suite needs a CUDA device and this machine has none."""


def require_cuda(device: str) -> None:
    """Raise ``NoCudaError`` (with what to do) unless ``device`` is a usable CUDA device."""
    if not torch.cuda.is_available():
        raise NoCudaError(
            "--suite gpu measures on a CUDA device, and torch sees none here "
            f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}). Run it on a GPU "
            "machine (tools/gpu_bench.sh, docs/benchmarks/README.md), or pass --dry-run to list "
            "what it would measure."
        )
    if torch.device(device).type != "cuda":
        raise NoCudaError(f"--suite gpu runs on a CUDA device, got --device {device}")


def plan(rounds: int) -> list[str]:
    """What ``run`` measures, one line per measurement (the ``--dry-run`` listing)."""
    lines = [
        f"trainer steps at {CROP} x {CROP}, {LABELED} + {UNLABELED} samples, in "
        f"{', '.join(PRECISIONS)}: {WARMUP} warm-up + {rounds} timed each, peak memory"
    ]
    for mode, (config, overrides) in PAPER_MODES.items():
        lines.append(f"  {mode}: {' '.join([config, *overrides])}")
    lines.append(f"  (no step measurement starts after {BUDGET_S:.0f} s: listed as skipped)")
    lines.append(
        f"kmeans: torch on the GPU vs scikit-learn on the host, 768 maps of 56 x 56, K = 11, "
        f"{len(KMEANS_SEEDS)} seeds"
    )
    lines.append(
        f"predict_video: {rounds * PREDICT_BATCH} generated {PREDICT_WIDTH} x {PREDICT_HEIGHT} "
        f"frames, batch {PREDICT_BATCH}, {PREDICT_CONFIG}, vs model-only throughput"
    )
    return lines


def measure_step(cfg, precision: str, device: str, rounds: int) -> tuple[float, float]:
    """(median step seconds, peak MiB allocated during the timed steps) of one mode and
    precision, on a freshly built model that is freed afterwards."""
    trainer, step = build_step(cfg, precision)
    try:
        with EventStorage(0) as storage:
            for _ in range(WARMUP):
                step()
                storage.iter += 1
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            times = []
            for _ in range(rounds):
                times.append(time_call(step, device))
                storage.iter += 1
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    finally:
        del trainer, step
        gc.collect()
        torch.cuda.empty_cache()
    return median(times), peak


def device_info(device: str) -> dict:
    """The GPU's name, capability, memory and what precisions it runs natively."""
    props = torch.cuda.get_device_properties(device)
    return {
        "gpu_name": props.name,
        "gpu_capability": f"{props.major}.{props.minor}",
        "gpu_memory_gib": props.total_memory / 2**30,
        "cuda": torch.version.cuda,
        "bf16_supported": torch.cuda.is_bf16_supported(),
    }


def run(
    repo_root: str, device: str = "cuda", rounds: int = 10, opts=(), budget_s: float = BUDGET_S
) -> dict:
    """All figures of the GPU suite, plus a printable table under the key "_table".

    K-means and ``predict_video`` are measured first; then the steps, mode by mode, until
    ``budget_s`` seconds have passed since the start: a (mode, precision) not started by then is
    listed under "skipped", so a slow machine still gets its figures written before a time
    limit stops the process.

    Args:
        repo_root: the checkout (configs are read from it).
        device: a CUDA device.
        rounds: timed steps per mode and precision; batches of the predict clip.
        opts: config overrides appended to every training config.
        budget_s: no step measurement starts after this many seconds.

    Raises:
        NoCudaError without a CUDA device.
    """
    require_cuda(device)
    start = time.monotonic()
    figures = device_info(device)
    figures.update(measure_kmeans(device, blob_maps, "kmeans_gpu", seeds=KMEANS_SEEDS))
    predict = predict_suite.run(
        repo_root,
        device=device,
        rounds=rounds,
        batch_size=PREDICT_BATCH,
        config=PREDICT_CONFIG,
        frame_size=PREDICT_HEIGHT,
        frame_width=PREDICT_WIDTH,
    )
    predict.pop("_table")
    figures.update(predict)
    figures["predict_config"] = PREDICT_CONFIG
    skipped = []
    for mode in PAPER_MODES:
        cfg = paper_cfg(repo_root, mode, device, opts)
        for precision in PRECISIONS:
            if time.monotonic() - start > budget_s:
                skipped.append(f"{mode}_{precision}")
                continue
            seconds, peak = measure_step(cfg, precision, device, rounds)
            figures[f"step_s_{mode}_{precision}"] = seconds
            figures[f"peak_mem_mib_{mode}_{precision}"] = peak
    for mode in PAPER_MODES:
        for precision in PRECISIONS:
            step = figures.get(f"step_s_{mode}_{precision}")
            reference = figures.get(f"step_s_source_only_{precision}")
            if step is not None and reference is not None:
                figures[f"ratio_{mode}_{precision}"] = step / reference
            float32 = figures.get(f"step_s_{mode}_float32")
            if step is not None and float32 is not None and precision != "float32":
                figures[f"amp_speedup_{mode}_{precision}"] = float32 / step
    figures["skipped"] = skipped
    figures["seconds"] = time.monotonic() - start
    numbers = [(k, f"{v:.4g}") for k, v in figures.items() if isinstance(v, float)]
    table = format_table(numbers, ("figure", "value"))
    figures["_table"] = table + (f"\nskipped (time budget): {' '.join(skipped)}" if skipped else "")
    return figures

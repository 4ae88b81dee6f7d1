#!/usr/bin/env python
"""Measure speed figures of i2v_plugin and write them as JSON (one run, one machine).

  python tools/benchmark.py --suite train --out bench.json
      ratio_spatial / ratio_clustered / ratio_global / ratio_self_training_temporal (step time vs
      source-only, synthetic configs); kmeans_speedup / kmeans_inertia_rel (torch K-means vs
      scikit-learn n_init=1 on 768 blob maps of 56x56) and kmeans_real_* (the same on real-like
      maps: a Swin-T patch embedding of benchmark frames); paper_ratio_<mode> (step time vs
      source-only at the paper's size: Swin-T + UperNet, 224 crops, 4 + 4, a few steps each)
  python tools/benchmark.py --suite data --out data.json
      youtube_frames_per_s_per_worker / single_seek_frames_per_s (the unlabeled video stream vs
      one seek per frame on generated 1280x720 GOP-250 H.264 videos), video_frames_per_s /
      data_vs_train (the toy stream vs the clustered step's need; also at paper size),
      index_videos_per_s / index_reload_s (video-folder index build and reload)
  python tools/benchmark.py --suite predict --out predict.json [--device cuda]
                            [--config configs/swin_clustered.yaml] [--frame-size 0]
      end-to-end predict frames/s vs forward-only frames/s (ratio, target >= 0.85) on a
      generated 480 x 480 clip (DAVIS height) with the small synthetic Swin by default;
      --config times another network, --frame-size another side (0 = the 64 px synthetic val
      frames, where fixed per-frame costs weigh most)
  python tools/benchmark.py --suite gpu --out docs/benchmarks/train_gpu.json [--dry-run]
      on one CUDA device: step seconds and peak memory of every objective at the paper's size in
      float32, float16 and bfloat16, K-means on the GPU vs scikit-learn on the host,
      predict_video frames/s at 854 x 480 vs model-only (tools/gpu_bench.sh runs it offline;
      refuses without CUDA; --dry-run lists what it would measure)

Every figure of a suite is measured in the same run. The train, data and predict suites need
the synthetic benchmark (python datasets/prepare_synthetic.py); the gpu suite needs none.
"""

import argparse
import importlib
import json
import os
import platform
import time

# The checkout: the suites read its configs.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# suite name -> module of tools/benchmark_suites with ``run(repo_root, device, rounds) -> dict``
SUITES = {
    "train": "benchmark_suites.train_suite",
    "data": "benchmark_suites.data_suite",
    "predict": "benchmark_suites.predict_suite",
    "gpu": "benchmark_suites.gpu_suite",
}
# Timed steps per mode unless --rounds says otherwise.
DEFAULT_ROUNDS = {"gpu": 10}


def machine_info(device: str) -> dict:
    """Where the figures were measured: device, its name, CPU count, threads, torch version and
    the 1-minute load average before the suite starts (other work on the machine: wall-clock rates
    drop with it)."""
    import torch

    name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor()
    return {
        "device": device,
        "device_name": name or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES), required=True)
    parser.add_argument("--out", help="JSON file to write the figures to (required)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cpu; gpu: cuda)")
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed steps per mode (default 20; gpu: 10)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="gpu suite: list what it would measure, and stop"
    )
    parser.add_argument(
        "--config",
        default=None,
        help="predict suite: model config (default configs/synthetic/swin_source_only.yaml)",
    )
    parser.add_argument(
        "--frame-size",
        type=int,
        default=None,
        help="predict suite: side of generated square frames (default 480; 0 = the synthetic "
        "val frames)",
    )
    args = parser.parse_args(argv)
    if args.suite != "predict" and (args.config or args.frame_size is not None):
        parser.error("--config and --frame-size apply to --suite predict only")
    if args.dry_run and args.suite != "gpu":
        parser.error("--dry-run applies to --suite gpu only")
    if not args.dry_run and not args.out:
        parser.error("--out is required")
    gpu = args.suite == "gpu"
    args.device = args.device or ("cuda" if gpu else "cpu")
    args.rounds = args.rounds or DEFAULT_ROUNDS.get(args.suite, 20)

    import i2v_plugin  # noqa: F401  (registers datasets and models)

    suite = importlib.import_module(SUITES[args.suite])
    if args.dry_run:
        print("\n".join(suite.plan(args.rounds)))
        return
    if gpu:
        try:
            suite.require_cuda(args.device)
        except suite.NoCudaError as e:
            parser.exit(2, f"benchmark.py: {e}\n")
    options = {}
    if args.suite == "predict":
        options = {"config": args.config, "frame_size": args.frame_size}
        options = {key: value for key, value in options.items() if value is not None}
    machine = machine_info(args.device)
    figures = suite.run(REPO_ROOT, device=args.device, rounds=args.rounds, **options)
    table = figures.pop("_table")
    print(table)
    with open(args.out, "w") as f:
        json.dump({"suite": args.suite, **machine, **figures}, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

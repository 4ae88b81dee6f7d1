#!/usr/bin/env python
"""Train and evaluate a set of configs over several seeds, then record the final-iteration
mIoU of every run in docs/results.json and regenerate the tables of docs/RESULTS.md.

  python tools/reproduce.py --suite skeleton                # source-only + oracle, seeds 0 1 2
  python tools/reproduce.py --suite adversarial             # source-only, spatial, global,
                                                            # clustered
  python tools/reproduce.py --suite backbones               # DeepLab source-only vs global,
                                                            # VideoSwin source-only vs spatial
  python tools/reproduce.py --run clustered_mu1=configs/synthetic/swin_clustered.yaml \
      --opts MODEL.I2V.GRL.MU 1.0                           # any named run with overrides

The final iteration is always the one reported (never the best checkpoint on target val).
``--jobs N`` trains N runs at once, each with its share of the CPU threads (OMP_NUM_THREADS);
results are recorded as runs finish, so an interrupted reproduction keeps what it finished.
"""

import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time

from results_records import load_runs, merge_runs, save_runs, update_results_doc

# The checkout: runs start tools/train_net.py from it, and outputs and docs are written in it.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SYNTH = "configs/synthetic"
SUITES = {
    "skeleton": {
        "source_only": f"{SYNTH}/swin_source_only.yaml",
        "oracle": f"{SYNTH}/swin_oracle.yaml",
    },
    "adversarial": {
        "source_only": f"{SYNTH}/swin_source_only.yaml",
        "clustered": f"{SYNTH}/swin_clustered.yaml",
        "spatial": f"{SYNTH}/swin_spatial.yaml",
        "global": f"{SYNTH}/swin_global.yaml",
    },
    "backbones": {
        "deeplab_source_only": f"{SYNTH}/deeplab_source_only.yaml",
        "deeplab_global": f"{SYNTH}/deeplab_global_davis.yaml",
        "video_swin_source_only": f"{SYNTH}/video_swin_source_only.yaml",
        "video_swin_spatial": f"{SYNTH}/video_swin_spatial.yaml",
    },
}


def run_one(name, config, seed, opts, output_root, threads=None):
    """Train one config with one seed through tools/train_net.py; returns its result records.

    ``threads`` sets OMP_NUM_THREADS for the run (None: inherit). The run's log goes to
    ``<output_dir>/train.log`` when threads is given (runs in parallel), else to the console.
    """
    output_dir = os.path.join(output_root, name, f"seed{seed}")
    cmd = [sys.executable, "tools/train_net.py", "--config-file", config]
    cmd += ["SEED", str(seed), "OUTPUT_DIR", output_dir, *opts]
    printable = " ".join(shlex.quote(c) for c in ["python"] + cmd[1:])
    print(f"[reproduce] {printable}", flush=True)
    start = time.time()
    if threads is None:
        subprocess.run(cmd, cwd=REPO_ROOT, check=True)
    else:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        os.makedirs(os.path.join(REPO_ROOT, output_dir), exist_ok=True)
        log_path = os.path.join(REPO_ROOT, output_dir, "train.log")
        with open(log_path, "w") as log:
            done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(
                f"{name} seed {seed} failed (exit {done.returncode}); see {log_path}"
            )
    with open(os.path.join(REPO_ROOT, output_dir, "final_results.json")) as f:
        record = json.load(f)
    print(f"[reproduce] {name} seed {seed} done in {time.time() - start:.0f}s", flush=True)
    return [
        {
            "name": name,
            "config": config,
            "seed": seed,
            "eval_split": split,
            "mIoU": round(metrics["sem_seg"]["mIoU"], 3),
            "iteration": record["iteration"],
            "command": printable,
        }
        for split, metrics in record["results"].items()
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES), help="a predefined set of runs")
    parser.add_argument(
        "--run", action="append", default=[], metavar="NAME=CONFIG", help="extra run"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[], help="config overrides")
    parser.add_argument("--output-root", default="output/reproduce")
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs trained at once (threads split between them)"
    )
    parser.add_argument("--results", default="docs/results.json")
    parser.add_argument("--doc", default="docs/RESULTS.md")
    args = parser.parse_args(argv)

    runs = dict(SUITES.get(args.suite, {}))
    for item in args.run:
        name, _, config = item.partition("=")
        if not config:
            parser.error(f"--run expects NAME=CONFIG, got {item!r}")
        runs[name] = config
    if not runs:
        parser.error("give --suite and/or --run")
    results_path = os.path.join(REPO_ROOT, args.results)
    doc_path = os.path.join(REPO_ROOT, args.doc)
    jobs = [(name, config, seed) for name, config in runs.items() for seed in args.seeds]
    threads = None if args.jobs <= 1 else max(1, (os.cpu_count() or 1) // args.jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(run_one, name, config, seed, args.opts, args.output_root, threads)
            for name, config, seed in jobs
        ]
        for future in concurrent.futures.as_completed(futures):
            # Saved after every run, so an interrupted reproduction keeps what it finished.
            merged = merge_runs(load_runs(results_path), future.result())
            save_runs(results_path, merged)
            update_results_doc(doc_path, merged)
    print(f"[reproduce] wrote {args.results} and {args.doc}")


if __name__ == "__main__":
    main()

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
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from i2v_plugin.engine.results import load_runs, merge_runs, save_runs, update_results_doc  # noqa: E402

SYNTH = "configs/synthetic"
SUITES = {
    "skeleton": {
        "source_only": f"{SYNTH}/swin_source_only.yaml",
        "oracle": f"{SYNTH}/swin_oracle.yaml",
    },
    "adversarial": {
        "source_only": f"{SYNTH}/swin_source_only.yaml",
        "spatial": f"{SYNTH}/swin_spatial.yaml",
        "global": f"{SYNTH}/swin_global.yaml",
        "clustered": f"{SYNTH}/swin_clustered.yaml",
    },
    "backbones": {
        "deeplab_source_only": f"{SYNTH}/deeplab_source_only.yaml",
        "deeplab_global": f"{SYNTH}/deeplab_global_davis.yaml",
        "video_swin_source_only": f"{SYNTH}/video_swin_source_only.yaml",
        "video_swin_spatial": f"{SYNTH}/video_swin_spatial.yaml",
    },
}


def run_one(name, config, seed, opts, output_root):
    """Train one config with one seed through tools/train_net.py; returns its result records."""
    output_dir = os.path.join(output_root, name, f"seed{seed}")
    cmd = [sys.executable, "tools/train_net.py", "--config-file", config]
    cmd += ["SEED", str(seed), "OUTPUT_DIR", output_dir, *opts]
    printable = " ".join(shlex.quote(c) for c in ["python"] + cmd[1:])
    print(f"[reproduce] {printable}", flush=True)
    start = time.time()
    subprocess.run(cmd, cwd=REPO_ROOT, check=True)
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
    for name, config in runs.items():
        for seed in args.seeds:
            records = run_one(name, config, seed, args.opts, args.output_root)
            # Saved after every run, so an interrupted reproduction keeps what it finished.
            merged = merge_runs(load_runs(results_path), records)
            save_runs(results_path, merged)
            update_results_doc(doc_path, merged)
    print(f"[reproduce] wrote {args.results} and {args.doc}")


if __name__ == "__main__":
    main()

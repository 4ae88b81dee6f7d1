#!/usr/bin/env python
"""Train and evaluate sets of configs over several seeds, then record the final-iteration mIoU
of every run in docs/results.json and regenerate the tables of docs/RESULTS.md.

  python tools/reproduce.py --suite swin --controls --jobs 2
      source-only, spatial, global, clustered and oracle rows, seeds 0 1 2, and for every row
      with an adversarial loss its control "<row>_mu0" (MODEL.I2V.GRL.MU 0: same data, same
      forward passes and BatchNorm behaviour, no reversed gradient)
  python tools/reproduce.py --suite deeplab --controls --jobs 2 --opts SOLVER.MAX_ITER 1000
  python tools/reproduce.py --run clustered_k5=configs/synthetic/swin_clustered.yaml \
      --opts MODEL.I2V.CLUSTER.NUM_CLUSTERS 5             # any named run with overrides
  python tools/reproduce.py --suite swin --only clustered --tune --seeds 0 \
      --grid MODEL.I2V.GRL.MU=0.03,0.1,0.3,1.0 --grid MODEL.I2V.GRL.SCHEDULE=constant,sigmoid
      hyper-parameter search on the labeled tuning splits (never on val): one run per grid
      point, recorded in docs/tuning.json and the tuning table of docs/RESULTS.md
  python tools/reproduce.py --table 6 --jobs 2           # the synthetic rows of a paper table

A run already recorded with the same name, config, seed and overrides is not trained again
(``--force`` retrains it), so a suite can be resumed or extended row by row. The final
iteration is always the one reported (never the checkpoint that scores best on target val).
``--jobs N`` trains N runs at once, each with its share of the CPU threads (OMP_NUM_THREADS);
results are recorded as runs finish, so an interrupted reproduction keeps what it finished.
"""

import argparse
import concurrent.futures
import contextlib
import fcntl
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import time
from typing import NamedTuple

from results_records import load_runs, merge_runs, recorded, save_runs, update_results_doc

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.objectives import has_discriminators

# The checkout: runs start tools/train_net.py from it, and outputs and docs are written in it.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SYNTH = "configs/synthetic"
TUNE_SPLITS = "('i2v_synth_images_tune', 'i2v_synth_videos_tune')"
CONTROL_OPTS = ("MODEL.I2V.GRL.MU", "0.0")
UPDATE_BN = ("MODEL.I2V.UNLABELED_BN", "update")


class RunSpec(NamedTuple):
    """A named run: a config file plus overrides (seed and output folder are added per run)."""

    name: str
    config: str
    opts: tuple[str, ...] = ()


def _runs(*specs) -> dict[str, RunSpec]:
    return {
        spec[0]: RunSpec(spec[0], spec[1], tuple(spec[2]) if len(spec) > 2 else ())
        for spec in specs
    }


SUITES = {
    "swin": _runs(
        ("source_only", f"{SYNTH}/swin_source_only.yaml"),
        ("spatial", f"{SYNTH}/swin_spatial.yaml"),
        ("global", f"{SYNTH}/swin_global.yaml"),
        ("clustered", f"{SYNTH}/swin_clustered.yaml"),
        ("oracle", f"{SYNTH}/swin_oracle.yaml"),
    ),
    "deeplab": _runs(
        ("deeplab_source_only", f"{SYNTH}/deeplab_source_only.yaml"),
        ("deeplab_global", f"{SYNTH}/deeplab_global_davis.yaml"),
        ("deeplab_global_bn_update", f"{SYNTH}/deeplab_global_davis.yaml", UPDATE_BN),
    ),
    "video_swin": _runs(
        ("video_swin_source_only", f"{SYNTH}/video_swin_source_only.yaml"),
        ("video_swin_spatial", f"{SYNTH}/video_swin_spatial.yaml"),
    ),
    # Beyond the paper: augmentation, AdaBN, entropy minimisation and self-training baselines
    # (compare with the "swin" and "deeplab" source-only rows).
    "beyond": _runs(
        ("source_only_aug", f"{SYNTH}/swin_source_only_aug.yaml"),
        ("entropy", f"{SYNTH}/swin_entropy.yaml"),
        ("self_training", f"{SYNTH}/swin_self_training.yaml"),
        ("self_training_temporal", f"{SYNTH}/swin_self_training_temporal.yaml"),
        ("clustered_self_training", f"{SYNTH}/swin_clustered_self_training.yaml"),
        ("clustered_aug", f"{SYNTH}/swin_clustered_aug.yaml"),
        ("self_training_aug", f"{SYNTH}/swin_self_training_aug.yaml"),
        ("deeplab_adabn", f"{SYNTH}/deeplab_adabn.yaml"),
    ),
}
# The synthetic rows of the paper's tables (tools/reproduce.py --table N). Rows shared with a
# suite keep its name, so a row trained once serves every table it appears in.
SWIN = SUITES["swin"]
TABLES = {
    1: {name: SWIN[name] for name in ("source_only", "spatial", "global", "clustered", "oracle")},
    2: {
        **{name: SWIN[name] for name in ("source_only", "oracle", "clustered")},
        **_runs(
            ("joint_labeled", f"{SYNTH}/swin_joint_labeled.yaml"),
            ("joint_labeled_clustered", f"{SYNTH}/swin_joint_labeled_clustered.yaml"),
        ),
    },
    3: dict(SUITES["video_swin"]),
    4: {
        **{name: SWIN[name] for name in ("source_only", "global")},
        **_runs(("global_still_images", f"{SYNTH}/swin_global_still_images.yaml")),
    },
    6: {
        **_runs(
            *(
                (
                    f"clustered_k{k}",
                    SWIN["clustered"].config,
                    ("MODEL.I2V.CLUSTER.NUM_CLUSTERS", str(k)),
                )
                for k in (2, 5, 11, 22)
            )
        ),
        "clustered": SWIN["clustered"],  # K = 19, the batch + 3 rule (8 + 8 inputs per step)
    },
}


def with_controls(runs: dict[str, RunSpec]) -> dict[str, RunSpec]:
    """``runs`` plus, for every run that trains an adversarial loss, its ``<name>_mu0``."""
    out = dict(runs)
    for spec in runs.values():
        cfg = build_cfg(os.path.join(REPO_ROOT, spec.config), list(spec.opts))
        if has_discriminators(cfg) and not spec.name.endswith("_mu0"):
            control = f"{spec.name}_mu0"
            out[control] = RunSpec(control, spec.config, spec.opts + CONTROL_OPTS)
    return out


def with_grid(runs: dict[str, RunSpec], grid: list[str]) -> dict[str, RunSpec]:
    """One run per point of the grid ``["KEY=v1,v2", ...]``, named ``<name>@<key>=<v>,...``
    after the last component of each key."""
    axes = []
    for item in grid:
        key, _, values = item.partition("=")
        if not values:
            raise ValueError(f"--grid expects KEY=v1,v2,..., got {item!r}")
        axes.append([(key, v) for v in values.split(",")])
    out = {}
    for spec in runs.values():
        for point in itertools.product(*axes):
            label = ",".join(f"{k.split('.')[-1]}={v}" for k, v in point)
            name = f"{spec.name}@{label}"
            out[name] = RunSpec(name, spec.config, spec.opts + tuple(x for kv in point for x in kv))
    return out


@contextlib.contextmanager
def _locked(path: str):
    """An exclusive lock on ``path + ".lock"`` for a read-modify-write of ``path``."""
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _quote(word: str) -> str:
    """Shell quoting that stays readable for Python literals: "('a', 'b')" rather than shlex's
    '('"'"'a'"'"', ...'."""
    if "'" in word and not any(c in word for c in '"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)


def run_one(spec: RunSpec, seed: int, extra: tuple, output_root: str, threads=None):
    """Train one run with one seed through tools/train_net.py; returns its result records.

    ``threads`` sets OMP_NUM_THREADS for the run (None: inherit). The run's log goes to
    ``<output_dir>/train.log`` when threads is given (runs in parallel), else to the console.
    """
    folder = re.sub(r"[^A-Za-z0-9_.=,-]", "_", spec.name)
    output_dir = os.path.join(output_root, folder, f"seed{seed}")
    opts = list(spec.opts) + list(extra)
    cmd = [sys.executable, "tools/train_net.py", "--config-file", spec.config]
    cmd += ["SEED", str(seed), "OUTPUT_DIR", output_dir, *opts]
    printable = " ".join(_quote(c) for c in ["python"] + cmd[1:])
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
                f"{spec.name} seed {seed} failed (exit {done.returncode}); see {log_path}"
            )
    with open(os.path.join(REPO_ROOT, output_dir, "final_results.json")) as f:
        record = json.load(f)
    print(f"[reproduce] {spec.name} seed {seed} done in {time.time() - start:.0f}s", flush=True)
    collapsed = sorted(
        name for name, health in record.get("discriminators", {}).items() if health["collapsed"]
    )
    return [
        {
            "name": spec.name,
            "config": spec.config,
            "seed": seed,
            "eval_split": split,
            "mIoU": round(metrics["sem_seg"]["mIoU"], 3),
            "iteration": record["iteration"],
            "opts": opts,
            "collapsed": collapsed,
            "command": printable,
        }
        for split, metrics in record["results"].items()
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES), help="a predefined set of runs")
    parser.add_argument("--table", type=int, choices=sorted(TABLES), help="a paper table's rows")
    parser.add_argument(
        "--run", action="append", default=[], metavar="NAME=CONFIG", help="extra run"
    )
    parser.add_argument("--only", nargs="+", default=[], help="keep only these run names")
    parser.add_argument(
        "--controls", action="store_true", help="add <name>_mu0 for every adversarial run"
    )
    parser.add_argument(
        "--grid", action="append", default=[], metavar="KEY=v1,v2", help="grid axis (tuning)"
    )
    parser.add_argument(
        "--tune", action="store_true", help="evaluate on the tuning splits; record in --tuning"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[], help="config overrides")
    parser.add_argument(
        "--output-root", default=None, help="default output/reproduce (output/tune with --tune)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs trained at once (threads split between them)"
    )
    parser.add_argument("--force", action="store_true", help="retrain runs already recorded")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    parser.add_argument("--results", default="docs/results.json")
    parser.add_argument("--tuning", default="docs/tuning.json")
    parser.add_argument("--doc", default="docs/RESULTS.md")
    return parser, parser.parse_args(argv)


def plan(args, parser) -> dict[str, RunSpec]:
    runs = dict(SUITES.get(args.suite, {}))
    runs.update(TABLES.get(args.table, {}))
    for item in args.run:
        name, _, config = item.partition("=")
        if not config:
            parser.error(f"--run expects NAME=CONFIG, got {item!r}")
        runs[name] = RunSpec(name, config)
    if args.only:
        unknown = sorted(set(args.only) - set(runs))
        if unknown:
            parser.error(f"--only names unknown runs {unknown}; have {sorted(runs)}")
        runs = {name: runs[name] for name in args.only}
    if not runs:
        parser.error("give --suite, --table and/or --run")
    if args.grid:
        runs = with_grid(runs, args.grid)
    if args.controls:
        runs = with_controls(runs)
    return runs


def main(argv=None):
    parser, args = parse_args(argv)
    runs = plan(args, parser)
    extra = tuple(args.opts)
    if args.tune:
        extra += ("DATASETS.TEST", TUNE_SPLITS)
    results_path = os.path.join(REPO_ROOT, args.tuning if args.tune else args.results)
    doc_path = os.path.join(REPO_ROOT, args.doc)
    region = "tuning" if args.tune else "results"
    output_root = args.output_root or ("output/tune" if args.tune else "output/reproduce")
    done = load_runs(results_path)
    jobs = []
    for spec in runs.values():
        for seed in args.seeds:
            opts = list(spec.opts) + list(extra)
            if not args.force and recorded(done, spec.name, spec.config, seed, opts):
                print(f"[reproduce] {spec.name} seed {seed}: recorded, skipped (--force reruns)")
                continue
            jobs.append((spec, seed))
    print(f"[reproduce] {len(jobs)} runs to train: " + ", ".join(f"{s.name}/{k}" for s, k in jobs))
    if args.dry_run or not jobs:
        return
    threads = None if args.jobs <= 1 else max(1, (os.cpu_count() or 1) // args.jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(run_one, spec, seed, extra, output_root, threads) for spec, seed in jobs
        ]
        for future in concurrent.futures.as_completed(futures):
            # Saved after every run, so an interrupted reproduction keeps what it finished; the
            # lock lets several reproductions share one results file.
            with _locked(results_path):
                merged = merge_runs(load_runs(results_path), future.result())
                save_runs(results_path, merged)
                tables = {f"table{n}": list(rows) for n, rows in TABLES.items()}
                update_results_doc(
                    doc_path, merged, region=region, tables=None if args.tune else tables
                )
    print(f"[reproduce] wrote {os.path.relpath(results_path, REPO_ROOT)} and {args.doc}")


if __name__ == "__main__":
    main()

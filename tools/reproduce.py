#!/usr/bin/env python
"""Train the experiments of configs/experiments.yaml over several seeds, record the final-iteration
mIoU of every run in docs/results.json and regenerate the tables of docs/RESULTS.md.

  python tools/reproduce.py --suite swin --controls --jobs 2
      the suite's rows, seeds 0-4, and for every row with an adversarial loss its control
      "<row>_mu0" (MODEL.I2V.GRL.MU 0); a control that is the same run as its reference (mu 0,
      UNLABELED_BN batch, or update with the statistics re-estimated after training, no other
      objective on unlabeled data) is recorded, not trained
  python tools/reproduce.py --table 2 --controls --jobs 2    # the synthetic rows of paper table 2
  python tools/reproduce.py --run my_k5=configs/synthetic/swin_clustered.yaml \
      --opts MODEL.I2V.CLUSTER.NUM_CLUSTERS 5             # any named run with overrides
  python tools/reproduce.py --suite swin --only clustered --tune --seeds 0 \
      --grid MODEL.I2V.GRL.MU=0.03,0.1,0.3,1.0 --grid MODEL.I2V.GRL.SCHEDULE=constant,sigmoid
      hyper-parameter search on the labeled tuning splits (never on val): one run per grid
      point, recorded in docs/tuning.json and the tuning table of docs/RESULTS.md
  python tools/reproduce.py --render      # regenerate docs/RESULTS.md from the records only

A run already recorded with the same name, config, seed and overrides is not trained again
(--force retrains it), so a suite can be resumed or extended seed by seed. The final iteration is
always the one reported. --jobs N trains N runs at once, each with its share of the CPU threads;
results are recorded as runs finish, under a lock, so several reproductions can share one file.
"""

import argparse
import concurrent.futures
import os

from i2v_plugin.experiments import plan as planning
from i2v_plugin.experiments import records
from i2v_plugin.experiments.doc import update_doc
from i2v_plugin.experiments.manifest import DEFAULT_MANIFEST, load_manifest
from i2v_plugin.experiments.render import render_report
from i2v_plugin.experiments.runner import train_run

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUNE_SPLITS = "('i2v_synth_images_tune', 'i2v_synth_videos_tune', 'i2v_synth_videos_sealed_tune')"


def parse_args(argv, manifest):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--suite", choices=manifest.suites, help="a suite of the manifest")
    parser.add_argument(
        "--table", type=int, choices=manifest.runnable_tables, help="a paper table's rows"
    )
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
    parser.add_argument("--seeds", type=int, nargs="+", default=list(manifest.seeds))
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[], help="config overrides")
    parser.add_argument(
        "--output-root", default=None, help="default output/reproduce (output/tune with --tune)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs trained at once (threads split between them)"
    )
    parser.add_argument("--force", action="store_true", help="retrain runs already recorded")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    parser.add_argument("--render", action="store_true", help="only regenerate --doc")
    parser.add_argument("--results", default="docs/results.json")
    parser.add_argument("--tuning", default="docs/tuning.json")
    parser.add_argument("--doc", default="docs/RESULTS.md")
    parser.add_argument("--manifest", default=DEFAULT_MANIFEST, help="the experiment manifest")
    return parser, parser.parse_args(argv)


def manifest_path(argv) -> str:
    """``--manifest PATH`` if given (read before the other options, which depend on it)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--manifest", default=DEFAULT_MANIFEST)
    known, _ = pre.parse_known_args(argv)
    return known.manifest


def select_runs(args, parser, manifest, build, extra):
    extra_runs = []
    for item in args.run:
        name, _, config = item.partition("=")
        if not config:
            parser.error(f"--run expects NAME=CONFIG, got {item!r}")
        extra_runs.append(planning.RunSpec(name, config))
    try:
        runs = planning.select(manifest, args.suite, args.table, extra_runs, args.only)
        if args.grid:
            runs = planning.with_grid(runs, args.grid)
    except ValueError as err:
        parser.error(str(err))
    if args.controls:
        runs = planning.with_controls(runs, manifest, build, extra)
    return runs


def record_identical(results_path, identical, extra):
    """Record the controls that are the same run as their reference (no training)."""
    new = [
        records.identical_record(
            spec.name, spec.config, seed, list(spec.opts) + list(extra),
            spec.identical_to, spec.reference_config, spec.reference_opts,
        )
        for spec, seed in identical
    ]  # fmt: skip
    with records.locked(results_path):
        records.save_runs(results_path, records.merge_runs(records.load_runs(results_path), new))


def train_all(jobs, args, extra, results_path, on_saved):
    output_root = args.output_root or ("output/tune" if args.tune else "output/reproduce")
    threads = None if args.jobs <= 1 else max(1, (os.cpu_count() or 1) // args.jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(train_run, spec, seed, extra, output_root, REPO_ROOT, threads)
            for spec, seed in jobs
        ]
        for future in concurrent.futures.as_completed(futures):
            with records.locked(results_path):
                merged = records.merge_runs(records.load_runs(results_path), future.result())
                records.save_runs(results_path, merged)
                on_saved(merged)


def main(argv=None):
    manifest = load_manifest(manifest_path(argv))
    parser, args = parse_args(argv, manifest)
    results_path = os.path.join(REPO_ROOT, args.tuning if args.tune else args.results)
    doc_path = os.path.join(REPO_ROOT, args.doc)
    region = "tuning" if args.tune else "results"

    def render(runs):
        update_doc(doc_path, runs, manifest, region=region)

    if args.render:
        render(records.load_runs(results_path))
        print(f"[reproduce] wrote {args.doc}")
        return
    extra = tuple(args.opts) + (("DATASETS.TEST", TUNE_SPLITS) if args.tune else ())
    runs = select_runs(args, parser, manifest, planning.config_builder(REPO_ROOT), extra)
    done = records.load_runs(results_path)
    train, identical, skipped = planning.pending(runs, args.seeds, done, extra, args.force)
    for spec, seed in skipped:
        print(f"[reproduce] {spec.name} seed {seed}: recorded, skipped (--force reruns)")
    for spec, seed in identical:
        print(
            f"[reproduce] {spec.name} seed {seed}: the same run as {spec.identical_to} "
            "(mu 0, batch statistics in the evaluated network, no other objective on unlabeled "
            "data): recorded as such, not trained"
        )
    print(
        f"[reproduce] {len(train)} runs to train: " + ", ".join(f"{s.name}/{k}" for s, k in train)
    )
    if args.dry_run or not (train or identical):
        return
    if identical:
        record_identical(results_path, identical, extra)
    if train:
        train_all(train, args, extra, results_path, render)
    else:
        render(records.load_runs(results_path))
    print(f"[reproduce] wrote {os.path.relpath(results_path, REPO_ROOT)} and {args.doc}")
    if not args.tune:
        print(render_report(records.load_runs(results_path), manifest, set(runs)))


if __name__ == "__main__":
    main()

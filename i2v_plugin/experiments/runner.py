"""Train one run with one seed through ``tools/train_net.py`` and turn its
``final_results.json`` into run records (``records`` module)."""

import json
import os
import re
import shlex
import subprocess
import sys
import time


def quote(word: str) -> str:
    """Shell quoting that stays readable for Python literals: "('a', 'b')" rather than shlex's
    '('"'"'a'"'"', ...'."""
    if "'" in word and not any(c in word for c in '"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)


def output_dir(output_root: str, name: str, seed: int) -> str:
    """``<output_root>/<name, filesystem-safe>/seed<seed>``."""
    folder = re.sub(r"[^A-Za-z0-9_.=,-]", "_", name)
    return os.path.join(output_root, folder, f"seed{seed}")


def command(config: str, seed: int, out_dir: str, opts) -> list[str]:
    """The ``tools/train_net.py`` command line of one run (argv, from the repository root)."""
    cmd = [sys.executable, "tools/train_net.py", "--config-file", config]
    return cmd + ["SEED", str(seed), "OUTPUT_DIR", out_dir, *opts]


def records_from_results(final: dict, name, config, seed, opts, printable) -> list[dict]:
    """One record per eval split of a run's ``final_results.json`` content ``final``; a split's
    ``per_sequence`` figures (sequence -> mIoU), where the evaluator gives them, are kept."""
    collapsed = sorted(
        disc for disc, health in final.get("discriminators", {}).items() if health["collapsed"]
    )
    out = []
    for split, metrics in final["results"].items():
        record = {
            "name": name,
            "config": config,
            "seed": seed,
            "eval_split": split,
            "mIoU": round(metrics["sem_seg"]["mIoU"], 3),
            "iteration": final["iteration"],
            "opts": list(opts),
            "collapsed": collapsed,
            "command": printable,
        }
        per_sequence = metrics.get("per_sequence", metrics["sem_seg"].get("per_sequence"))
        if per_sequence is not None:
            record["per_sequence"] = per_sequence
        out.append(record)
    return out


def train_run(spec, seed: int, extra, output_root: str, root: str, threads=None) -> list[dict]:
    """Train ``spec`` (a ``plan.RunSpec``) with ``seed``; returns its records.

    Args:
        extra: overrides added after the run's own.
        output_root: runs go to ``<output_root>/<name>/seed<seed>`` (relative to ``root``).
        root: the repository root (the command runs there).
        threads: OMP_NUM_THREADS for the run, its log then going to ``train.log`` in the run's
            folder (runs in parallel); None: inherit, log to the console.
    Raises:
        RuntimeError (or CalledProcessError) when training fails.
    """
    out_dir = output_dir(output_root, spec.name, seed)
    opts = list(spec.opts) + list(extra)
    cmd = command(spec.config, seed, out_dir, opts)
    printable = " ".join(quote(c) for c in ["python"] + cmd[1:])
    print(f"[reproduce] {printable}", flush=True)
    start = time.time()
    if threads is None:
        subprocess.run(cmd, cwd=root, check=True)
    else:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        os.makedirs(os.path.join(root, out_dir), exist_ok=True)
        log_path = os.path.join(root, out_dir, "train.log")
        with open(log_path, "w") as log:
            done = subprocess.run(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(
                f"{spec.name} seed {seed} failed (exit {done.returncode}); see {log_path}"
            )
    with open(os.path.join(root, out_dir, "final_results.json")) as f:
        final = json.load(f)
    print(f"[reproduce] {spec.name} seed {seed} done in {time.time() - start:.0f}s", flush=True)
    return records_from_results(final, spec.name, spec.config, seed, opts, printable)

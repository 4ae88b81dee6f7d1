"""Run records: ``docs/results.json`` (every reported run) and ``docs/tuning.json`` (the search
on the tuning splits), as ``{"runs": [record, ...]}``.

A trained run gives one record per eval split: ``{"name", "config", "seed", "eval_split", "mIoU",
"iteration", "opts", "collapsed", "command"}`` and, when the evaluator reports it,
``"per_sequence"`` (sequence -> mIoU). ``opts`` are the overrides besides SEED and OUTPUT_DIR;
``collapsed`` the discriminators reported collapsed. A control that is the same run as its
reference (``controls.identical_to_reference``) gets one record per seed without figures:
``{"name", "config", "seed", "opts", "identical_to", "identical_config", "identical_opts"}``;
its figures are the reference's records of that seed (config and overrides as recorded there).
A trained record of the same name and seed takes precedence over such a record.
"""

import contextlib
import fcntl
import json
import os

from ..utils.atomic import atomic_write

RUN_KEY = ("name", "config", "seed", "eval_split")


def overrides_map(opts) -> dict:
    """``[KEY, VALUE, ...]`` as ``{KEY: VALUE}`` (the last value of a repeated key wins, as in
    Detectron2's ``merge_from_list``), so that two override lists compare whatever their order."""
    opts = list(opts)
    return dict(zip(opts[::2], opts[1::2]))


def recorded(runs: list[dict], name: str, config: str, seed: int, opts) -> bool:
    """Whether ``runs`` holds a record (trained or ``identical_to``) of this name, config, seed
    and overrides."""
    wanted = overrides_map(opts)
    return any(
        r["name"] == name and r["config"] == config and r["seed"] == seed
        and overrides_map(r.get("opts", [])) == wanted
        for r in runs
    )  # fmt: skip


def load_runs(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["runs"]


def save_runs(path: str, runs: list[dict]) -> None:
    """Write ``{"runs": runs}`` to ``path`` atomically."""
    with atomic_write(path) as f:
        json.dump({"runs": runs}, f, indent=2, ensure_ascii=False)
        f.write("\n")


def merge_runs(existing: list[dict], new: list[dict]) -> list[dict]:
    """New records replace existing ones with the same (name, config, seed, eval_split)."""
    replaced = {tuple(r.get(k) for k in RUN_KEY) for r in new}
    kept = [r for r in existing if tuple(r.get(k) for k in RUN_KEY) not in replaced]
    return kept + list(new)


@contextlib.contextmanager
def locked(path: str):
    """An exclusive lock on ``path + ".lock"`` for a read-modify-write of ``path``."""
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def identical_record(
    name: str, config: str, seed: int, opts, reference: str, reference_config: str, reference_opts
) -> dict:
    """The record of a control not trained because it is the same run as ``reference``."""
    return {
        "name": name,
        "config": config,
        "seed": seed,
        "eval_split": None,
        "opts": list(opts),
        "identical_to": reference,
        "identical_config": reference_config,
        "identical_opts": list(reference_opts),
    }


def _reference_records(runs: list[dict], marker: dict) -> list[dict]:
    wanted = overrides_map(marker["identical_opts"])
    return [
        r for r in runs
        if "identical_to" not in r and r["name"] == marker["identical_to"]
        and r["config"] == marker["identical_config"] and r["seed"] == marker["seed"]
        and overrides_map(r.get("opts", [])) == wanted
    ]  # fmt: skip


def resolved(runs: list[dict]) -> list[dict]:
    """The trained records plus, for every ``identical_to`` record, copies of its reference's
    records of that seed under the control's name (``"identical_to"`` kept), unless the control
    has a trained record of that seed and split. Records without figures are left out."""
    trained = [r for r in runs if "identical_to" not in r]
    have = {(r["name"], r["seed"], r["eval_split"]) for r in trained}
    out = list(trained)
    for marker in (r for r in runs if "identical_to" in r):
        for ref in _reference_records(runs, marker):
            key = (marker["name"], marker["seed"], ref["eval_split"])
            if key not in have:
                have.add(key)
                out.append({**ref, "name": marker["name"], "identical_to": ref["name"]})
    return out


def seed_values(runs: list[dict]) -> dict[tuple[str, str], dict[int, float]]:
    """``(name, eval_split) -> {seed: mIoU}`` over ``resolved(runs)`` (for a repeated name, split
    and seed the later record wins)."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    for r in resolved(runs):
        out.setdefault((r["name"], r["eval_split"]), {})[r["seed"]] = r["mIoU"]
    return out

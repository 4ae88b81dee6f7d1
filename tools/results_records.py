"""``docs/results.json`` (every reported run), ``docs/tuning.json`` (the hyper-parameter search on
the tuning splits) and the generated tables of ``docs/RESULTS.md``, for ``tools/reproduce.py``.

A run record: ``{"name", "config", "seed", "eval_split", "mIoU", "iteration", "opts",
"collapsed", "command"}`` (``opts``: the config overrides besides SEED and OUTPUT_DIR;
``collapsed``: the discriminators reported collapsed in that run). Tables aggregate runs by
(name, eval_split) as mean ± std over seeds. A generated region sits between
``<!-- <region>:begin -->`` and ``<!-- <region>:end -->`` so the prose around it stays by hand:
"results" (every row, then every adversarial row against its ``_mu0`` control) and "tuning".
"""

import json
import os
import statistics

from i2v_plugin.utils.atomic import atomic_write

RUN_KEY = ("name", "config", "seed", "eval_split")
CONTROL_SUFFIX = "_mu0"


def markers(region: str) -> tuple[str, str]:
    return f"<!-- {region}:begin -->", f"<!-- {region}:end -->"


def recorded(runs: list[dict], name: str, config: str, seed: int, opts: list) -> bool:
    """Whether a run with this name, config, seed and overrides is already in ``runs``."""
    return any(
        r["name"] == name and r["config"] == config and r["seed"] == seed
        and list(r.get("opts", [])) == list(opts)
        for r in runs
    )  # fmt: skip


def load_runs(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["runs"]


def merge_runs(existing: list[dict], new: list[dict]) -> list[dict]:
    """New records replace existing ones with the same (name, config, seed, eval_split)."""
    replaced = {tuple(r[k] for k in RUN_KEY) for r in new}
    kept = [r for r in existing if tuple(r[k] for k in RUN_KEY) not in replaced]
    return kept + list(new)


def save_runs(path: str, runs: list[dict]) -> None:
    """Write ``{"runs": runs}`` to ``path`` atomically."""
    with atomic_write(path) as f:
        json.dump({"runs": runs}, f, indent=2)
        f.write("\n")


def summarize(runs: list[dict]) -> list[dict]:
    """Group by (name, config, eval_split): mean, std (sample, 0 for one seed), seeds, and the
    seeds whose run reported a collapsed discriminator."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["name"], r["config"], r["eval_split"]), []).append(r)
    rows = []
    for (name, config, split), items in groups.items():
        values = [r["mIoU"] for r in items]
        rows.append(
            {
                "name": name,
                "config": config,
                "eval_split": split,
                "mean": statistics.mean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "seeds": sorted(r["seed"] for r in items),
                "collapsed": sorted(
                    f"{r['seed']}: {', '.join(r['collapsed'])}" for r in items if r.get("collapsed")
                ),
            }
        )
    return rows


def render_table(runs: list[dict]) -> str:
    """Markdown table of ``summarize(runs)``."""
    lines = [
        "| run | config | eval split | mIoU (mean ± std) | seeds | collapsed (seed: disc) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in summarize(runs):
        lines.append(
            f"| {row['name']} | `{row['config']}` | {row['eval_split']} | "
            f"{row['mean']:.2f} ± {row['std']:.2f} | {', '.join(map(str, row['seeds']))} | "
            f"{'; '.join(row['collapsed']) or '-'} |"
        )
    return "\n".join(lines)


def render_controls(runs: list[dict]) -> str:
    """Every run ``X`` that has a control ``X_mu0``, per eval split: both means, the gain and
    whether it is claimed (gain larger than the larger of the two standard deviations)."""
    rows = {(r["name"], r["eval_split"]): r for r in summarize(runs)}
    lines = [
        "| run | eval split | run mIoU | control (mu 0) mIoU | gain | larger std | gain claimed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (name, split), row in sorted(rows.items()):
        control = rows.get((name + CONTROL_SUFFIX, split))
        if name.endswith(CONTROL_SUFFIX) or control is None:
            continue
        gain = row["mean"] - control["mean"]
        spread = max(row["std"], control["std"])
        lines.append(
            f"| {name} | {split} | {row['mean']:.2f} ± {row['std']:.2f} | "
            f"{control['mean']:.2f} ± {control['std']:.2f} | {gain:+.2f} | {spread:.2f} | "
            f"{'yes' if gain > spread else 'no'} |"
        )
    return "\n".join(lines)


def render_commands(runs: list[dict]) -> str:
    """One exact ``train_net.py`` command per run name (its lowest seed), as a Markdown list;
    the other seeds differ only in ``SEED`` and ``OUTPUT_DIR``."""
    first = {}
    for run in sorted(runs, key=lambda r: r["seed"]):
        if "command" in run:
            first.setdefault(run["name"], run["command"])
    lines = ["Commands (lowest seed shown; the others change only `SEED` and `OUTPUT_DIR`):", ""]
    lines += [f"- {name}: `{command}`" for name, command in first.items()]
    return "\n".join(lines)


def render_region(runs: list[dict], region: str) -> str:
    """The generated Markdown of ``region`` ("results" or "tuning")."""
    parts = [render_table(runs)]
    if region == "results" and any(r["name"].endswith(CONTROL_SUFFIX) for r in runs):
        parts += ["Adversarial rows against their controls:", render_controls(runs)]
    parts.append(render_commands(runs))
    return "\n\n".join(parts)


def _replace_region(text: str, region: str, body: str, append: bool) -> str:
    begin, end = markers(region)
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n" if append else text


def update_results_doc(
    doc_path: str, runs: list[dict], region: str = "results", tables: dict | None = None
) -> None:
    """Rewrite the generated ``region`` of ``doc_path`` (appended if its markers are absent).

    ``tables`` (``{"table6": [run names], ...}``) also rewrites each of those regions that the
    doc already has, with the rows of the named runs (and their controls): one table per paper
    table, from the same records.
    """
    text = open(doc_path).read() if os.path.exists(doc_path) else "# Results\n"
    text = _replace_region(text, region, render_region(runs, region), append=True)
    for table, names in (tables or {}).items():
        wanted = set(names) | {name + CONTROL_SUFFIX for name in names}
        rows = [r for r in runs if r["name"] in wanted]
        if rows:
            text = _replace_region(text, table, render_region(rows, "results"), append=False)
    with open(doc_path, "w") as f:
        f.write(text)

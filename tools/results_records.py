"""``docs/results.json`` (every reported run) and the generated tables of ``docs/RESULTS.md``,
for ``tools/reproduce.py``.

A run record: ``{"name", "config", "seed", "eval_split", "mIoU", "iteration", "command"}``.
Tables aggregate runs by (name, eval_split) as mean ± std over seeds; they are written between
``<!-- results:begin -->`` and ``<!-- results:end -->`` so the prose around them stays by hand.
"""

import json
import os
import statistics

from i2v_plugin.utils.atomic import atomic_write

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
RUN_KEY = ("name", "config", "seed", "eval_split")


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
    """Group by (name, config, eval_split): mean, std (sample, 0 for one seed), seeds."""
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
            }
        )
    return rows


def render_table(runs: list[dict]) -> str:
    """Markdown table of ``summarize(runs)``."""
    lines = [
        "| run | config | eval split | mIoU (mean ± std) | seeds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in summarize(runs):
        lines.append(
            f"| {row['name']} | `{row['config']}` | {row['eval_split']} | "
            f"{row['mean']:.2f} ± {row['std']:.2f} | {', '.join(map(str, row['seeds']))} |"
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


def update_results_doc(doc_path: str, runs: list[dict]) -> None:
    """Rewrite the generated table region of ``doc_path`` (appended if the markers are absent)."""
    text = open(doc_path).read() if os.path.exists(doc_path) else "# Results\n"
    block = f"{BEGIN}\n{render_table(runs)}\n\n{render_commands(runs)}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(doc_path, "w") as f:
        f.write(text)

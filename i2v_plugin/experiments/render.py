"""The generated Markdown of ``docs/RESULTS.md``, from run records and the manifest: "results"
(per eval split, every row and every comparison), "table<N>" (paper table N: the paper's rows and
figures beside their synthetic analogues) and "tuning" (the search on the tuning splits)."""

import statistics

from .compare import comparisons, gap_share, row_order
from .controls import CONTROL_SUFFIX
from .manifest import Manifest
from .records import resolved, seed_values
from .statistics import paired_difference

LEGEND = (
    "Per eval split. Runs are paired by seed. Difference: mean over seeds of (row - against), "
    "with its 95% paired t-interval; MDE: the smallest true difference a paired test on these "
    "seeds detects with power 0.8 at two-sided α 0.05, given the measured spread; gain claimed: "
    '"yes" only where the interval lies above 0 ("lower": below 0). Gap closed: (row - '
    "source-only) / (upper bound - source-only) within the row's family (upper bound: labeled "
    "images and labeled target frames), with its delta-method 95% interval. Formulas: "
    "`i2v_plugin/experiments/statistics.py`. A `_mu0` control that is the same run as its "
    "reference is not trained: its figures are the reference's (note column)."
)


def _mean(values: dict) -> str:
    if not values:
        return "not run"
    items = list(values.values())
    if len(items) == 1:
        return f"{items[0]:.2f}"
    return f"{statistics.mean(items):.2f} ± {statistics.stdev(items):.2f}"


def _estimate(value: float, low: float | None, high: float | None, number) -> str:
    """``value`` with its interval ``[low, high]``, or "(1 seed)" when ``low`` is None; each
    figure written by ``number`` (float -> str)."""
    if low is None:
        return f"{number(value)} (1 seed)"
    return f"{number(value)} [{number(low)}, {number(high)}]"


def _difference(d) -> str:
    if d is None:
        return "–"
    return _estimate(d.mean, d.low, d.high, lambda x: f"{x:+.2f}")


def _mde(d) -> str:
    return "–" if d is None or d.mde is None else f"{d.mde:.2f}"


def _verdict(d) -> str:
    return "–" if d is None else d.verdict


def _gap(g) -> str:
    if g is None:
        return "–"
    return _estimate(g.share, g.low, g.high, lambda x: f"{100 * x:.1f}%")


# The eval splits in the order the page reports them: the target splits first (the calibrated
# videos, then the sealed artefacts, the two factor splits and version 3's strength), the source
# domain last; any other split after them, by name.
SPLIT_ORDER = (
    "i2v_synth_videos_val",
    "i2v_synth_videos_sealed_val",
    "i2v_synth_videos_style_val",
    "i2v_synth_videos_geometry_val",
    "i2v_synth_videos_severe_val",
    "i2v_synth_images_val",
)


def split_key(split: str) -> tuple[int, str]:
    """Sort key of an eval split: its place in ``SPLIT_ORDER``, then its name."""
    return (SPLIT_ORDER.index(split) if split in SPLIT_ORDER else len(SPLIT_ORDER), split)


def split_label(split: str) -> str:
    """``i2v_synth_videos_sealed_val`` -> ``sealed-val``; ``i2v_synth_videos_val`` ->
    ``videos-val``; ``i2v_synth_images_val`` -> ``images-val``."""
    short = split.removeprefix("i2v_synth_")
    if short != "videos_val":
        short = short.removeprefix("videos_")
    return short.replace("_", "-")


def by_split(runs: list[dict]) -> dict[str, dict[str, dict[int, float]]]:
    """split -> name -> seed -> mIoU over ``runs`` (identical controls resolved), the splits in
    ``split_key`` order."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    for (name, split), values in seed_values(runs).items():
        out.setdefault(split, {})[name] = values
    return dict(sorted(out.items(), key=lambda item: split_key(item[0])))


def _notes(runs: list[dict], split: str) -> dict[str, str]:
    """name -> "seeds 3, 4: = source_only (...)" for the rows with figures copied in ``split``."""
    copied: dict[tuple[str, str], list[int]] = {}
    for r in resolved(runs):
        if r["eval_split"] == split and "identical_to" in r:
            copied.setdefault((r["name"], r["identical_to"]), []).append(r["seed"])
    return {
        name: f"seeds {', '.join(map(str, sorted(seeds)))}: = {ref} (same run at mu 0, not trained)"
        for (name, ref), seeds in copied.items()
    }


def _collapsed(runs: list[dict], name: str, split: str) -> str:
    items = sorted(
        f"{r['seed']}: {', '.join(r['collapsed'])}"
        for r in resolved(runs)
        if r["name"] == name and r["eval_split"] == split and r.get("collapsed")
    )
    return "; ".join(items) or "-"


def render_split(runs: list[dict], manifest: Manifest, split: str, values: dict) -> str:
    """The rows and the comparisons of one eval split."""
    notes = _notes(runs, split)
    lines = [
        f"**{split}**",
        "",
        "| run | mIoU (mean ± std) | seeds | gap closed [95% CI] | collapsed (seed: disc) | "
        "paper (table.row: mIoU) | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in row_order(values, manifest):
        seeds = ", ".join(map(str, sorted(values[name])))
        gap = _gap(gap_share(manifest, name, values))
        paper = "; ".join(
            f"{n}.{row.index}: {row.paper}"
            for n, row in manifest.paper_rows(name)
            if row.synthetic_split in (None, split)
        )
        lines.append(
            f"| {name} | {_mean(values[name])} | {seeds} | {gap} | "
            f"{_collapsed(runs, name, split)} | {paper} | {notes.get(name, '')} |"
        )
    lines += [
        "",
        "| row | against | pairs | difference [95% CI] | MDE | gain claimed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in comparisons(manifest, values):
        d = c.difference
        lines.append(
            f"| {c.row} | {c.against} ({c.kind}) | {d.n} | {_difference(d)} | {_mde(d)} | "
            f"{d.verdict} |"
        )
    return "\n".join(lines)


def render_commands(runs: list[dict], names=None) -> str:
    """One exact ``train_net.py`` command per run name (its lowest seed), as a Markdown list;
    the other seeds differ only in ``SEED`` and ``OUTPUT_DIR``. A row whose lowest seed is
    recorded as the same run as its reference says so instead."""
    first: dict[str, str] = {}
    for run in sorted(runs, key=lambda r: r["seed"]):
        name = run["name"]
        if name in first or (names is not None and name not in names):
            continue
        if "identical_to" in run:
            first[name] = f"not trained, the same run as {run['identical_to']}"
        elif run.get("command"):
            first[name] = f"`{run['command']}`"
    lines = ["Commands (lowest seed shown; the others change only `SEED` and `OUTPUT_DIR`):", ""]
    lines += [f"- {name}: {text}" for name, text in first.items()]
    return "\n".join(lines)


def render_report(runs: list[dict], manifest: Manifest, names) -> str:
    """A plain-text summary for the console: per eval split, the comparisons of the rows in
    ``names`` (difference, 95% interval, MDE, verdict)."""
    parts = []
    for split, values in by_split(runs).items():
        lines = [
            f"  {c.row} vs {c.against} ({c.kind}, n = {c.difference.n}): "
            f"{_difference(c.difference)}, MDE {_mde(c.difference)}, gain {c.difference.verdict}"
            for c in comparisons(manifest, values)
            if c.row in names
        ]
        if lines:
            parts.append("\n".join([f"{split}:"] + lines))
    return "\n".join(parts)


def render_results(runs: list[dict], manifest: Manifest) -> str:
    """The "results" region: the legend, each eval split's rows and comparisons, commands."""
    parts = [LEGEND]
    parts += [render_split(runs, manifest, s, v) for s, v in by_split(runs).items()]
    parts.append(render_commands(runs))
    return "\n\n".join(parts)


def _delta_against(table, row, manifest: Manifest) -> str | None:
    """The synthetic row a paper row's Δ is set against: the analogue of the row the paper's Δ
    is measured from, else the family's source-only."""
    if row.delta_vs is not None:
        return table.rows[row.delta_vs - 1].synthetic
    family = manifest.family_of(row.synthetic)
    return family.source_only if family is not None else None


def _paper_row_cells(table, row, values: dict, manifest: Manifest) -> list[str]:
    """The synthetic half of a paper-table line: row, mIoU, Δ, MDE, gain, control, gap."""
    name = row.synthetic
    if name is None:
        return ["–"] * 7
    if name not in values:
        return [name, "not run"] + ["–"] * 5
    against = _delta_against(table, row, manifest)
    delta = None
    if against is not None and against != name and against in values:
        delta = paired_difference(values[name], values[against])
    control = values.get(name + CONTROL_SUFFIX)
    control = paired_difference(values[name], control) if control else None
    return [
        name,
        _mean(values[name]),
        f"{_difference(delta)} vs {against}" if delta is not None else "–",
        _mde(delta),
        _verdict(delta),
        _difference(control),
        _gap(gap_share(manifest, name, values)),
    ]


def render_paper_table(runs: list[dict], manifest: Manifest, number: int) -> str:
    """Region "table<number>": per eval split, the paper's rows (cells, figure, Δ as printed)
    beside their synthetic analogue's figures and paired statistics; then the paper's
    inconsistencies and the commands."""
    table = manifest.tables[number]
    names = {r.synthetic for r in table.rows if r.synthetic}
    names |= {n + CONTROL_SUFFIX for n in names}
    splits = {s: v for s, v in by_split(runs).items() if names & set(v)}
    splits = splits or {"no synthetic run recorded yet": {}}
    head = " | ".join(table.columns)
    parts = [
        f"Paper's Table {number}: {table.title}. Paper figures quoted as printed (mIoU, Δ); "
        "synthetic columns as in the results region (Δ against the analogue of the row the "
        "paper's Δ is measured from, else the family's source-only)."
    ]
    for split, values in splits.items():
        lines = []
        for row in table.rows:
            if row.synthetic_split is not None and row.synthetic_split != split and values:
                continue  # the row's test set is another split
            cells = list(row.cells) + [row.paper, row.delta or "–"]
            cells += _paper_row_cells(table, row, values, manifest)
            lines.append("| " + " | ".join(cells) + " |")
        if lines:
            header = [
                f"**{split}**",
                "",
                f"| {head} | paper mIoU | paper Δ | synthetic row | mIoU (mean ± std) | Δ [95% CI] "
                "| MDE | gain claimed | vs mu-0 control [95% CI] | gap closed [95% CI] |",
                "| " + " | ".join(["---"] * (len(table.columns) + 9)) + " |",
            ]
            parts.append("\n".join(header + lines))
    notes = [f"Row {r.index}: {r.note}" for r in table.rows if r.note] + list(table.notes)
    if notes:
        parts.append("Notes on the rows:\n\n" + "\n".join(f"- {n}" for n in notes))
    used = {r["name"] for r in runs} & names
    if used:
        parts.append(render_commands(runs, used))
    return "\n\n".join(parts)


def _summary(runs: list[dict]) -> list[dict]:
    """Tuning rows: group by (name, config, eval_split): mean, std, seeds, collapsed."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["name"], r["config"], r["eval_split"]), []).append(r)
    return [
        {
            "name": name,
            "config": config,
            "eval_split": split,
            "values": {r["seed"]: r["mIoU"] for r in items},
            "collapsed": sorted(
                f"{r['seed']}: {', '.join(r['collapsed'])}" for r in items if r.get("collapsed")
            ),
        }
        for (name, config, split), items in groups.items()
    ]


def render_tuning(runs: list[dict]) -> str:
    """The "tuning" region: every grid point (one row per eval split) and the commands."""
    lines = [
        "| run | config | eval split | mIoU (mean ± std) | seeds | collapsed (seed: disc) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in _summary(runs):
        values = list(row["values"].values())
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        lines.append(
            f"| {row['name']} | `{row['config']}` | {row['eval_split']} | "
            f"{statistics.mean(values):.2f} ± {std:.2f} | "
            f"{', '.join(map(str, sorted(row['values'])))} | "
            f"{'; '.join(row['collapsed']) or '-'} |"
        )
    return "\n\n".join(["\n".join(lines), render_commands(runs)])

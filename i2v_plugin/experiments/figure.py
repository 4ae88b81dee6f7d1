"""The results page's figure (``docs/figures/gap_closed.png``): per row, the share of its
family's gap (source-only to upper bound) closed on each target split, with 95% interval bars,
one colour per split. Drawn from the same records and formulas as the tables
(``compare.gap_share``); matplotlib without pyplot, so no global state and no display."""

import os

from matplotlib.figure import Figure

from .compare import gap_share, row_order
from .controls import CONTROL_SUFFIX
from .manifest import Manifest
from .render import by_split, split_label
from .statistics import GapShare

FIGURE_NAME = os.path.join("figures", "gap_closed.png")
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def gap_series(runs: list[dict], manifest: Manifest) -> dict[str, dict[str, GapShare]]:
    """split -> row -> share of the gap closed, for the splits where some row has one.

    The ends of each family (its source-only row, 0 by definition, and its upper bound, 100%)
    and the `_mu0` controls are left out; a split where the upper bound is not above the
    source-only row (no gap to close, e.g. the source domain) has no share and no entry.
    """
    ends = {n for f in manifest.families.values() for n in (f.source_only, f.upper_bound)}
    out: dict[str, dict[str, GapShare]] = {}
    for split, values in by_split(runs).items():
        shares = {}
        for name in row_order(values, manifest):
            if name in ends or name.endswith(CONTROL_SUFFIX):
                continue
            share = gap_share(manifest, name, values)
            if share is not None:
                shares[name] = share
        if shares:
            out[split] = shares
    return out


def _x_range(series: dict[str, dict[str, GapShare]]) -> tuple[float, float]:
    """Percent axis limits: 0-100 with a margin, widened to the intervals up to -100 / 200
    (a wider interval, e.g. of two seeds, runs off the axis)."""
    ends = [100 * v for s in series.values() for g in s.values() for v in (g.share, g.low, g.high)
            if v is not None]  # fmt: skip
    return max(-100.0, min(ends + [0.0]) - 10), min(200.0, max(ends + [100.0]) + 10)


def plot_gap_closed(series: dict[str, dict[str, GapShare]], path: str) -> None:
    """Write the figure of ``series`` (``gap_series``' output) as a PNG at ``path``.

    Rows run down the figure in the order of the first split that has them; each split is one
    colour, its bar the share in percent, its whisker the 95% interval (none for one seed).
    Dashed lines mark 0% (source-only) and 100% (upper bound); the axis stops at -100% and
    200%.
    """
    rows: list[str] = list(dict.fromkeys(r for shares in series.values() for r in shares))
    n_splits = max(1, len(series))
    height = 0.8 / n_splits
    fig = Figure(figsize=(8, 1.2 + 0.45 * max(1, len(rows)) * max(1, n_splits / 2)))
    ax = fig.add_subplot()
    for k, (split, shares) in enumerate(series.items()):
        ys, xs, lows, highs = [], [], [], []
        for i, row in enumerate(rows):
            if row not in shares:
                continue
            g = shares[row]
            ys.append(i + (k - (n_splits - 1) / 2) * height)
            xs.append(100 * g.share)
            lows.append(0.0 if g.low is None else 100 * (g.share - g.low))
            highs.append(0.0 if g.high is None else 100 * (g.high - g.share))
        ax.barh(ys, xs, height=height, color=COLOURS[k % len(COLOURS)], label=split_label(split))
        ax.errorbar(xs, ys, xerr=[lows, highs], fmt="none", ecolor="black", capsize=2, lw=0.8)
    for x in (0, 100):
        ax.axvline(x, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlim(*_x_range(series))
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("share of the gap closed (%), 95% CI; 0 = source-only, 100 = upper bound")
    ax.set_title("Gap closed per row and target split (final iteration, paired seeds)")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})


def write_gap_figure(runs: list[dict], manifest: Manifest, path: str) -> bool:
    """``plot_gap_closed(gap_series(runs, manifest), path)`` when any row has a share; returns
    whether a figure was written."""
    series = gap_series(runs, manifest)
    if not series:
        return False
    plot_gap_closed(series, path)
    return True

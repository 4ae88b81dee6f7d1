"""The "overview" region of docs/RESULTS.md: one line per row with its paired difference against
its family's source-only row on every eval split, and the share of the gap it closes on the two
target splits the targets are set on. The per-split tables below it hold the same figures with
every other comparison."""

from .compare import gap_share, row_order
from .controls import CONTROL_SUFFIX
from .manifest import Manifest
from .render import by_split, split_label
from .statistics import paired_difference

GAP_SPLITS = ("i2v_synth_videos_val", "i2v_synth_videos_sealed_val")
LEGEND = (
    "Each row against its family's source-only row, paired by seed: mean difference in mIoU "
    "with its 95% t-interval, **bold** where the interval excludes 0 (a gain if positive, a loss "
    "if negative); gap closed: (row - source-only) / (upper bound - source-only) with its "
    "95% interval; n: seeds. Generated from docs/results.json (`tools/reproduce.py --render`)."
)


def _cell(d) -> str:
    if d is None:
        return "–"
    if d.low is None:
        return f"{d.mean:+.2f} (1 seed)"
    text = f"{d.mean:+.2f} [{d.low:+.2f}, {d.high:+.2f}]"
    return f"**{text}**" if d.low > 0 or d.high < 0 else text


def _share(g) -> str:
    if g is None:
        return "–"
    if g.low is None:
        return f"{100 * g.share:.0f}% (1 seed)"
    return f"{100 * g.share:.0f}% [{100 * g.low:.0f}, {100 * g.high:.0f}]"


def render_overview(runs: list[dict], manifest: Manifest) -> str:
    """The overview table (Markdown) of every row but the source-only rows and the controls."""
    splits = by_split(runs)
    sources = {f.source_only for f in manifest.families.values()}
    names = row_order([n for values in splits.values() for n in values], manifest)
    names = [n for n in names if n not in sources and not n.endswith(CONTROL_SUFFIX)]
    gap_splits = [s for s in GAP_SPLITS if s in splits]
    header = ["row", "n"] + [f"{split_label(s)} Δ" for s in splits]
    header += [f"gap closed, {split_label(s)}" for s in gap_splits]
    lines = [LEGEND, "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name in names:
        family = manifest.family_of(name)
        seeds = {seed for values in splits.values() for seed in values.get(name, {})}
        cells = [name, str(len(seeds))]
        for values in splits.values():
            source = values.get(family.source_only) if family is not None else None
            row = values.get(name)
            cells.append(_cell(paired_difference(row, source) if row and source else None))
        cells += [_share(gap_share(manifest, name, splits[s])) if name in splits[s] else "–"
                  for s in gap_splits]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

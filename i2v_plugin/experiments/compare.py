"""Which rows are compared with which, per eval split, from the manifest and the records.

Every row is set against its family's source-only row, against its reference (the row it adds
one thing to) when that is another row, against its mu-0 control when one is recorded, and in
the manifest's named pairs. Rows outside the manifest are set against their control only.
"""

import dataclasses

from .controls import CONTROL_SUFFIX
from .manifest import Manifest
from .statistics import GapShare, PairedDifference, gap_closed, paired_difference


@dataclasses.dataclass(frozen=True)
class Comparison:
    row: str
    against: str
    kind: str  # "source-only", "reference", "control" or "named"
    difference: PairedDifference


def row_order(names, manifest: Manifest) -> list[str]:
    """``names`` in manifest order (each control after its row), then the others as given."""
    names = list(dict.fromkeys(names))
    present = set(names)
    order = []
    for base in list(manifest.experiments) + [n for n in names if n not in manifest.experiments]:
        for name in (base, base + CONTROL_SUFFIX):
            if name in present and name not in order:
                order.append(name)
    return order + [n for n in names if n not in order]


def pairs(manifest: Manifest, names) -> list[tuple[str, str, str]]:
    """``(row, against, kind)`` for the rows in ``names`` (both ends must be among them)."""
    present = set(names)
    out: list[tuple[str, str, str]] = []

    def add(row, against, kind):
        if (
            {row, against} <= present
            and against != row
            and all(o[:2] != (row, against) for o in out)
        ):
            out.append((row, against, kind))

    for row in row_order(names, manifest):
        if row.endswith(CONTROL_SUFFIX):
            continue
        family = manifest.family_of(row)
        if family is not None:
            add(row, family.source_only, "source-only")
        experiment = manifest.experiments.get(row)
        if experiment is not None and experiment.reference is not None:
            add(row, experiment.reference, "reference")
        add(row, row + CONTROL_SUFFIX, "control")
    for row, against in manifest.comparisons:
        add(row, against, "named")
    return out


def comparisons(manifest: Manifest, values: dict[str, dict[int, float]]) -> list[Comparison]:
    """Paired differences of every pair among the rows of ``values`` (name -> seed -> mIoU,
    one eval split)."""
    out = []
    for row, against, kind in pairs(manifest, values):
        difference = paired_difference(values[row], values[against])
        if difference is not None:
            out.append(Comparison(row, against, kind, difference))
    return out


def gap_share(manifest: Manifest, row: str, values: dict) -> GapShare | None:
    """The share of its family's gap (source-only to upper bound) that ``row`` closes, or None."""
    family = manifest.family_of(row.removesuffix(CONTROL_SUFFIX))
    if family is None or family.source_only not in values or family.upper_bound not in values:
        return None
    return gap_closed(values[row], values[family.source_only], values[family.upper_bound])

"""The experiment manifest (``configs/experiments.yaml``): load it and check it.

Every error names the manifest file and the entry at fault (``experiments.<name>``,
``tables.<N>.rows[<i>]``, ...). Paths in the manifest are relative to the repository root, which
is the folder above the manifest's folder unless ``root`` is given.
"""

import dataclasses
import os

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MANIFEST = os.path.join(REPO_ROOT, "configs", "experiments.yaml")

_TOP_KEYS = {"seeds", "families", "experiments", "comparisons", "tables"}
_EXPERIMENT_KEYS = {"config", "overrides", "family", "reference", "suites", "note"}
_TABLE_KEYS = {"title", "columns", "rows", "notes"}
_ROW_KEYS = {
    "cells", "paper", "delta", "delta_vs", "test", "config", "export", "synthetic",
    "synthetic_split", "note",
}  # fmt: skip


class ManifestError(ValueError):
    """The manifest is malformed or names something that does not exist."""


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A named run: a config file plus overrides (seed and output folder are added per run)."""

    name: str
    config: str
    overrides: tuple[str, ...] = ()
    family: str | None = None
    reference: str | None = None
    suites: tuple[str, ...] = ()
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Family:
    """A network's source-only row and its upper bound, the row trained with labeled images and
    labeled target frames: the two ends of the gap whose closed share each row reports."""

    name: str
    source_only: str
    upper_bound: str


@dataclasses.dataclass(frozen=True)
class PaperRow:
    """One row of a paper table as printed, with where this project reproduces it."""

    index: int  # 1-based, as the row appears in the paper
    cells: tuple[str, ...]
    paper: str  # the paper's mIoU, as printed
    delta: str | None = None  # the paper's Δ, as printed
    delta_vs: int | None = None  # the row (1-based) the Δ is measured from
    test: str | None = None
    config: str | None = None
    export: str | None = None
    synthetic: str | None = None
    synthetic_split: str | None = None
    note: str = ""

    @property
    def figure(self) -> float:
        return float(self.paper)

    def label(self, columns) -> str:
        """``"Adv ✓, Labeled COCO, Unlabeled Davis"``: each cell after its column."""
        return ", ".join(f"{c} {v}" for c, v in zip(columns, self.cells))


@dataclasses.dataclass(frozen=True)
class PaperTable:
    number: int
    title: str
    columns: tuple[str, ...]
    rows: tuple[PaperRow, ...]
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Manifest:
    path: str
    root: str
    seeds: tuple[int, ...]
    families: dict
    experiments: dict
    comparisons: tuple[tuple[str, str], ...]
    tables: dict

    @property
    def suites(self) -> list[str]:
        return sorted({s for e in self.experiments.values() for s in e.suites})

    def suite(self, name: str) -> list[Experiment]:
        """The experiments of suite ``name``, in manifest order."""
        if name not in self.suites:
            raise ManifestError(f"{self.path}: no suite {name!r}; have {self.suites}")
        return [e for e in self.experiments.values() if name in e.suites]

    @property
    def runnable_tables(self) -> list[int]:
        """Tables with at least one synthetic row."""
        return sorted(n for n, t in self.tables.items() if any(r.synthetic for r in t.rows))

    def table_experiments(self, number: int) -> list[Experiment]:
        """The synthetic experiments of paper table ``number``, in row order, each once."""
        if number not in self.tables:
            raise ManifestError(f"{self.path}: no table {number}; have {sorted(self.tables)}")
        names = dict.fromkeys(r.synthetic for r in self.tables[number].rows if r.synthetic)
        return [self.experiments[n] for n in names]

    def paper_rows(self, name: str) -> list[tuple[int, PaperRow]]:
        """The (table number, row) pairs whose synthetic analogue is experiment ``name``."""
        return [
            (n, row)
            for n, t in sorted(self.tables.items())
            for row in t.rows
            if row.synthetic == name
        ]

    def family_of(self, name: str) -> Family | None:
        experiment = self.experiments.get(name)
        return self.families.get(experiment.family) if experiment else None


def _fail(manifest: str, where: str, message: str):
    raise ManifestError(f"{manifest}: {where}: {message}")


def _check_keys(manifest, where, entry, allowed):
    if not isinstance(entry, dict):
        _fail(manifest, where, f"expected a mapping, got {type(entry).__name__}")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        _fail(manifest, where, f"unknown keys {unknown}; allowed {sorted(allowed)}")


def _strings(manifest, where, value, what) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(manifest, where, f"{what} must be a list of strings, got {value!r}")
    return tuple(value)


def _file(manifest, root, where, path, what):
    if not isinstance(path, str) or not os.path.isfile(os.path.join(root, path)):
        _fail(manifest, where, f"{what} {path!r} does not exist (paths are relative to {root})")
    return path


def _experiment(manifest, root, name, entry) -> Experiment:
    where = f"experiments.{name}"
    _check_keys(manifest, where, entry, _EXPERIMENT_KEYS)
    if "config" not in entry:
        _fail(manifest, where, "has no config")
    config = _file(manifest, root, where, entry["config"], "config")
    overrides = _strings(manifest, where, entry.get("overrides"), "overrides")
    if len(overrides) % 2:
        _fail(manifest, where, f"overrides must be KEY VALUE pairs, got {list(overrides)}")
    return Experiment(
        name=name,
        config=config,
        overrides=overrides,
        family=entry.get("family"),
        reference=entry.get("reference"),
        suites=_strings(manifest, where, entry.get("suites"), "suites"),
        note=str(entry.get("note") or ""),
    )


def _figure(manifest, where, value, what, signed=False):
    if value is None:
        return None
    try:
        float(value)
    except (TypeError, ValueError):
        _fail(manifest, where, f"{what} must be a number as printed, got {value!r}")
    if not isinstance(value, str) or (signed and value[0] not in "+-"):
        _fail(manifest, where, f'{what} must be quoted as printed (e.g. "+4.60"), got {value!r}')
    return value


def _row(manifest, root, where, index, entry, columns, experiments) -> PaperRow:
    _check_keys(manifest, where, entry, _ROW_KEYS)
    cells = _strings(manifest, where, entry.get("cells"), "cells")
    if len(cells) != len(columns):
        _fail(manifest, where, f"{len(cells)} cells for {len(columns)} columns {list(columns)}")
    if "paper" not in entry:
        _fail(manifest, where, "has no paper figure")
    if bool(entry.get("config")) == bool(entry.get("export")):
        _fail(manifest, where, "needs exactly one of config (a paper config) and export (a tool)")
    if entry.get("config"):
        _file(manifest, root, where, entry["config"], "config")
    else:
        _file(manifest, root, where, entry["export"], "export")
    synthetic = entry.get("synthetic")
    if synthetic is not None and synthetic not in experiments:
        _fail(manifest, where, f"synthetic {synthetic!r} is not an experiment of the manifest")
    return PaperRow(
        index=index,
        cells=cells,
        paper=_figure(manifest, where, entry["paper"], "paper"),
        delta=_figure(manifest, where, entry.get("delta"), "delta", signed=True),
        delta_vs=entry.get("delta_vs"),
        test=entry.get("test"),
        config=entry.get("config"),
        export=entry.get("export"),
        synthetic=synthetic,
        synthetic_split=entry.get("synthetic_split"),
        note=str(entry.get("note") or ""),
    )


def _table(manifest, root, number, entry, experiments) -> PaperTable:
    where = f"tables.{number}"
    _check_keys(manifest, where, entry, _TABLE_KEYS)
    columns = _strings(manifest, where, entry.get("columns"), "columns")
    raw_rows = entry.get("rows") or []
    rows = tuple(
        _row(manifest, root, f"{where}.rows[{i}]", i, row, columns, experiments)
        for i, row in enumerate(raw_rows, start=1)
    )
    for row in rows:
        if row.delta_vs is not None and not (1 <= row.delta_vs <= len(rows)):
            _fail(manifest, f"{where}.rows[{row.index}]", f"delta_vs {row.delta_vs} is no row")
    return PaperTable(
        number=number,
        title=str(entry.get("title") or ""),
        columns=columns,
        rows=rows,
        notes=_strings(manifest, where, entry.get("notes"), "notes"),
    )


def _check_names(manifest, experiments, families, comparisons):
    for name, family in families.items():
        for role in ("source_only", "upper_bound"):
            if getattr(family, role) not in experiments:
                _fail(manifest, f"families.{name}", f"{role} {getattr(family, role)!r} unknown")
    for name, experiment in experiments.items():
        if experiment.family is not None and experiment.family not in families:
            _fail(manifest, f"experiments.{name}", f"family {experiment.family!r} unknown")
        if experiment.reference is not None and experiment.reference not in experiments:
            _fail(manifest, f"experiments.{name}", f"reference {experiment.reference!r} unknown")
    for i, pair in enumerate(comparisons):
        unknown = [n for n in pair if n not in experiments]
        if unknown:
            _fail(manifest, f"comparisons[{i}]", f"unknown experiments {unknown}")


def _with_default_references(experiments, families) -> dict:
    """Each experiment's reference, defaulting to its family's source-only (None for that row)."""
    out = {}
    for name, e in experiments.items():
        reference = e.reference
        if reference is None and e.family is not None:
            reference = families[e.family].source_only
        out[name] = dataclasses.replace(e, reference=None if reference == name else reference)
    return out


def load_manifest(path: str = DEFAULT_MANIFEST, root: str | None = None) -> Manifest:
    """Read and check the manifest at ``path``.

    Args:
        path: the YAML manifest.
        root: the folder its paths are relative to (default: the folder above the manifest's).
    Returns:
        a ``Manifest``.
    Raises:
        ManifestError naming the file and the entry at fault.
    """
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(path)))
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    _check_keys(path, "top level", data, _TOP_KEYS)
    experiments = {
        name: _experiment(path, root, name, entry)
        for name, entry in (data.get("experiments") or {}).items()
    }
    families = {}
    for name, entry in (data.get("families") or {}).items():
        _check_keys(path, f"families.{name}", entry, {"source_only", "upper_bound"})
        families[name] = Family(name, entry.get("source_only"), entry.get("upper_bound"))
    comparisons = []
    for i, pair in enumerate(data.get("comparisons") or []):
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)
        ):
            _fail(path, f"comparisons[{i}]", f"expected [row, against], got {pair!r}")
        comparisons.append(tuple(pair))
    _check_names(path, experiments, families, comparisons)
    tables = {}
    for number, entry in (data.get("tables") or {}).items():
        if not isinstance(number, int):
            _fail(path, f"tables.{number}", "table keys are the paper's table numbers")
        tables[number] = _table(path, root, number, entry, experiments)
    seeds = data.get("seeds") or [0]
    if not all(isinstance(s, int) for s in seeds):
        _fail(path, "seeds", f"expected a list of integers, got {seeds!r}")
    return Manifest(
        path=path,
        root=root,
        seeds=tuple(seeds),
        families=families,
        experiments=_with_default_references(experiments, families),
        comparisons=tuple(comparisons),
        tables=tables,
    )

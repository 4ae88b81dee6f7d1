"""Run plans: the runs of a suite or a paper table, tuning grids, mu-0 controls, and which
(run, seed) pairs are left to train."""

import dataclasses
import functools
import itertools
import os

from ..engine.setup import build_cfg
from .controls import CONTROL_OVERRIDES, CONTROL_SUFFIX, identical_to_reference, objectives
from .manifest import Experiment, Manifest
from .records import recorded


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """A named run: config file plus overrides (seed and output folder are added per run).
    ``identical_to`` names the reference a control is the same run as (then it is not trained;
    ``reference_config`` and ``reference_opts`` locate the reference's records)."""

    name: str
    config: str
    opts: tuple[str, ...] = ()
    identical_to: str | None = None
    reference_config: str | None = None
    reference_opts: tuple[str, ...] = ()


def spec_of(experiment: Experiment) -> RunSpec:
    return RunSpec(experiment.name, experiment.config, tuple(experiment.overrides))


def select(manifest: Manifest, suite=None, table=None, runs=(), only=()) -> dict[str, RunSpec]:
    """The runs of ``suite``, of paper ``table`` and the extra ``runs`` (``RunSpec``), kept to the
    names in ``only`` if given.

    Raises:
        ValueError: an ``only`` name is not among the selected runs, or nothing is selected.
    """
    chosen = {}
    if suite is not None:
        chosen.update((e.name, spec_of(e)) for e in manifest.suite(suite))
    if table is not None:
        chosen.update((e.name, spec_of(e)) for e in manifest.table_experiments(table))
    chosen.update((spec.name, spec) for spec in runs)
    if only:
        unknown = sorted(set(only) - set(chosen))
        if unknown:
            raise ValueError(f"--only names unknown runs {unknown}; have {sorted(chosen)}")
        chosen = {name: chosen[name] for name in only}
    if not chosen:
        raise ValueError("nothing selected: give --suite, --table and/or --run")
    return chosen


def with_grid(runs: dict[str, RunSpec], grid: list[str]) -> dict[str, RunSpec]:
    """One run per point of the grid ``["KEY=v1,v2", ...]``, named ``<name>@<key>=<v>,...``
    after the last component of each key."""
    axes = []
    for item in grid:
        key, _, values = item.partition("=")
        if not values:
            raise ValueError(f"--grid expects KEY=v1,v2,..., got {item!r}")
        axes.append([(key, v) for v in values.split(",")])
    out = {}
    for spec in runs.values():
        for point in itertools.product(*axes):
            label = ",".join(f"{k.split('.')[-1]}={v}" for k, v in point)
            name = f"{spec.name}@{label}"
            opts = spec.opts + tuple(x for kv in point for x in kv)
            out[name] = RunSpec(name, spec.config, opts)
    return out


def config_builder(root: str):
    """``build(config, opts) -> cfg`` for configs relative to ``root``, cached."""

    @functools.cache
    def build(config: str, opts: tuple[str, ...]):
        return build_cfg(os.path.join(root, config), list(opts))

    return build


def _reference(manifest: Manifest, name: str) -> Experiment | None:
    """The experiment that manifest experiment ``name`` adds one thing to, or None."""
    experiment = manifest.experiments.get(name)
    if experiment is None or experiment.reference is None:
        return None
    return manifest.experiments[experiment.reference]


def with_controls(runs: dict[str, RunSpec], manifest: Manifest, build, extra=()) -> dict:
    """``runs`` plus ``<name>_mu0`` for every run that trains an adversarial loss. A control
    that is the same run as its experiment's reference (``controls.identical_to_reference``,
    with the ``extra`` overrides on both) is marked ``identical_to`` that reference.

    Args:
        runs: name -> RunSpec.
        manifest: gives each experiment's reference.
        build: ``build(config, opts) -> cfg`` (``config_builder``).
        extra: overrides added to every run (``--opts``, the tuning splits).
    """
    extra = tuple(extra)
    out = dict(runs)
    for spec in runs.values():
        if spec.name.endswith(CONTROL_SUFFIX):
            continue
        if "adversarial" not in objectives(build(spec.config, spec.opts + extra)):
            continue
        control = RunSpec(spec.name + CONTROL_SUFFIX, spec.config, spec.opts + CONTROL_OVERRIDES)
        reference = _reference(manifest, spec.name)
        if reference is not None:
            control_cfg = build(control.config, control.opts + extra)
            reference_cfg = build(reference.config, tuple(reference.overrides) + extra)
            if identical_to_reference(control_cfg, reference_cfg):
                control = dataclasses.replace(
                    control,
                    identical_to=reference.name,
                    reference_config=reference.config,
                    reference_opts=tuple(reference.overrides) + extra,
                )
        out[control.name] = control
    return out


def pending(runs: dict[str, RunSpec], seeds, done: list[dict], extra=(), force=False):
    """Split the (run, seed) pairs into those to train, those to record as identical to their
    reference, and those already recorded (skipped unless ``force``).

    Returns:
        (train, identical, skipped), each a list of (RunSpec, seed).
    """
    train, identical, skipped = [], [], []
    for spec in runs.values():
        for seed in seeds:
            opts = list(spec.opts) + list(extra)
            if not force and recorded(done, spec.name, spec.config, seed, opts):
                skipped.append((spec, seed))
            elif spec.identical_to:
                identical.append((spec, seed))
            else:
                train.append((spec, seed))
    return train, identical, skipped

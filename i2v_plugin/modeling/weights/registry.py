"""Which weight converters each backbone has, keyed by its builder name (``MODEL.BACKBONE.NAME``).

A backbone's weights module registers, beside its Detectron2 builder:

- importers: source name (``--source`` of ``tools/convert_weights.py``, e.g. "timm-swin") ->
  a function turning a published checkpoint into the plugin's parameter names;
- an exporter (``BackboneExporter``): how ``tools/export_backbone.py`` writes the trained encoder
  in its home library's layout.

``register_backbone_weights`` may be called more than once per backbone (e.g. one module per
source format); a source name or an exporter registered twice is an error.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from detectron2.modeling import BACKBONE_REGISTRY

from .report import ConversionReport


@dataclass(frozen=True)
class ImportOptions:
    """What an importer may need beyond the source tensors (each importer reads its own).

    Attributes:
        num_classes: the target model's class count; a classifier of another size is dropped.
            None keeps it whatever its size.
        temporal_patch, temporal_window: 2D -> 3D inflation: ``MODEL.VIDEO_SWIN.PATCH_SIZE[0]``
            and ``WINDOW_SIZE[0]``.
        inflate: 2D -> 3D patch-kernel initialisation, "centre" or "replicate".
    """

    num_classes: int | None = None
    temporal_patch: int = 1
    temporal_window: int = 4
    inflate: str = "centre"


# (source tensors, options) -> (tensors under the plugin's names, one report per step)
Importer = Callable[[dict, ImportOptions], tuple[dict, list[ConversionReport]]]


def one_step_importer(convert, *option_names: str) -> Importer:
    """An ``Importer`` from a converter ``convert(state_dict, **options) -> (state_dict,
    report)`` that reads the ``ImportOptions`` fields ``option_names``."""

    def importer(state_dict: dict, options: ImportOptions):
        converted, report = convert(state_dict, **{n: getattr(options, n) for n in option_names})
        return converted, [report]

    return importer


class HomeModel(NamedTuple):
    """The home library's model of a backbone, built from the config without weights.

    Attributes:
        model: the ``nn.Module`` the export must load into.
        record: JSON-able description of how to build it (at least "library" and "build").
        names: home model key -> plugin backbone key (without the ``backbone.`` prefix).
        notes: extra lines the export tool prints (not written to the JSON record).
    """

    model: torch.nn.Module
    record: dict[str, Any]
    names: dict[str, str]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackboneExporter:
    """How a backbone's encoder is written in its home library's layout.

    Attributes:
        signature: a checkpoint key only this backbone holds (e.g.
            "backbone.swin.layers.0.blocks.0.norm1.weight"); it tells which backbone a
            checkpoint was trained with.
        label: the backbone and its home layout in messages, e.g. "Swin (timm)".
        home: cfg -> ``HomeModel``; raises ``export.ExportError`` for a config it cannot express.
        stage_norms: stages whose plugin norms ``out_norms.<stage>.weight/bias`` go to the side
            file ``<out>.stage_norms.pth`` (empty: no side file).
        left_out: home model key prefixes that are not exported (the classifier).
        recomputed: suffixes of plugin buffers the home model rebuilds itself (never exported).
    """

    signature: str
    label: str
    home: Callable[[Any], HomeModel]
    stage_norms: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ("head.", "fc.")
    recomputed: tuple[str, ...] = ("attn_mask", "index")


@dataclass
class BackboneWeights:
    """Everything registered for one backbone builder."""

    name: str
    importers: dict[str, Importer] = field(default_factory=dict)
    exporter: BackboneExporter | None = None


_BACKBONES: dict[str, BackboneWeights] = {}


def register_backbone_weights(
    name: str,
    *,
    importers: dict[str, Importer] | None = None,
    exporter: BackboneExporter | None = None,
) -> BackboneWeights:
    """Register import converters and/or the exporter of the backbone builder ``name``.

    Args:
        name: the builder's name in Detectron2's ``BACKBONE_REGISTRY`` (register it first).
        importers: source name -> ``Importer``; source names are unique over all backbones.
        exporter: the backbone's ``BackboneExporter`` (at most one per backbone).
    Returns:
        the backbone's ``BackboneWeights`` after the update.
    Raises:
        KeyError for an unknown builder, ValueError for a source or exporter registered twice.
    """
    if name not in BACKBONE_REGISTRY:
        raise KeyError(
            f"register_backbone_weights: {name!r} is not in Detectron2's BACKBONE_REGISTRY; "
            "register the backbone builder before its weight converters"
        )
    entry = _BACKBONES.setdefault(name, BackboneWeights(name))
    for source in importers or {}:
        if source in import_sources():
            raise ValueError(
                f"register_backbone_weights({name!r}): source {source!r} is already registered "
                f"for {import_sources()[source]!r}"
            )
    if exporter is not None and entry.exporter is not None:
        raise ValueError(f"register_backbone_weights({name!r}): it already has an exporter")
    entry.importers.update(importers or {})
    if exporter is not None:
        entry.exporter = exporter
    return entry


def import_sources() -> dict[str, str]:
    """Source name -> backbone builder name, in registration order."""
    return {source: b.name for b in _BACKBONES.values() for source in b.importers}


def exporters() -> dict[str, BackboneExporter]:
    """Backbone builder name -> its exporter, for the backbones that have one."""
    return {name: b.exporter for name, b in _BACKBONES.items() if b.exporter is not None}


def import_checkpoint(
    source: str, state_dict: dict, options: ImportOptions | None = None
) -> tuple[dict, list[ConversionReport]]:
    """Convert a published checkpoint of format ``source`` to the plugin's parameter names.

    Args:
        source: a registered source name (see ``import_sources``).
        state_dict: the source tensors (``checkpoint_io.load_checkpoint_file``).
        options: ``ImportOptions`` (defaults when None).
    Returns:
        (state dict under the plugin's names, the reports of every conversion step).
    Raises:
        KeyError naming the registered sources for an unknown one; ValueError from the
        converter when the checkpoint is not of that format.
    """
    owners = import_sources()
    if source not in owners:
        raise KeyError(f"Unknown weights source {source!r}; registered: {sorted(owners)}")
    importer = _BACKBONES[owners[source]].importers[source]
    return importer(state_dict, options or ImportOptions())

"""Export a trained checkpoint's encoder in its home library's layout, with the backbone's
registered ``BackboneExporter`` (``registry.py``); ``tools/export_backbone.py`` is its CLI.

Before anything is written the exported tensors are loaded into the home model built without
weights, and every tensor of the plugin encoder must have found a place, so a file that does not
load, or that silently lost a tensor, is never written.
"""

import json
import os
from dataclasses import dataclass
from typing import Any

import torch
from detectron2.modeling import build_backbone

from ...utils.atomic import atomic_write
from .registry import BackboneExporter, exporters


class ExportError(ValueError):
    """The checkpoint or the config cannot be exported; the message says why."""


@dataclass
class EncoderExport:
    """An exported encoder.

    Attributes:
        state_dict: the home model's tensors (classifier left out).
        stage_norms: {"res2.weight": ...} for the backbone's ``stage_norms``, or {}.
        record: the JSON side file: the home record plus "backbone", "not_exported", "exact".
        notes: extra lines for the user (``HomeModel.notes``).
    """

    state_dict: dict[str, torch.Tensor]
    stage_norms: dict[str, torch.Tensor]
    record: dict[str, Any]
    notes: tuple[str, ...] = ()


def checkpoint_kind(state_dict: dict) -> str | None:
    """The backbone builder whose signature key ``state_dict`` holds (None: none registered)."""
    for name, exporter in exporters().items():
        if exporter.signature in state_dict:
            return name
    return None


def exporter_for(cfg, state_dict: dict, weights: str) -> BackboneExporter:
    """The config's exporter, once the checkpoint is known to hold that backbone."""
    name, known = cfg.MODEL.BACKBONE.NAME, exporters()
    if name not in known:
        raise ExportError(
            f"MODEL.BACKBONE.NAME {name!r} has no export layout; supported: {sorted(known)} "
            "(a backbone gets one with modeling.weights.register_backbone_weights)"
        )
    found = checkpoint_kind(state_dict)
    if found is None:
        raise ExportError(
            f"{weights} holds no encoder of a known i2v backbone (none of "
            f"{[e.signature for e in known.values()]}); first keys: {sorted(state_dict)[:5]}"
        )
    if found != name:
        raise ExportError(
            f"{weights} holds a {known[found].label} encoder, but the config builds a "
            f"{known[name].label} one (MODEL.BACKBONE.NAME {name!r}); pass the config the "
            "checkpoint was trained with"
        )
    return known[name]


def load_plugin_backbone(cfg, state_dict: dict, weights: str, label: str):
    """(the config's backbone with the checkpoint's ``backbone.*`` tensors, every tensor it holds
    by name: parameters, persistent and non-persistent buffers)."""
    backbone = build_backbone(cfg).eval()
    tensors = {k[len("backbone.") :]: v for k, v in state_dict.items() if k.startswith("backbone.")}
    try:
        backbone.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise ExportError(
            f"{weights}: its encoder does not match the config's {label} architecture (check "
            f"the config and its overrides):\n{err}"
        ) from None
    named = dict(backbone.named_buffers())
    named.update(backbone.state_dict())
    return backbone, named


def inverse_names(converter, home_state: dict) -> dict[str, str]:
    """Home-library name -> plugin backbone name, by running an import converter
    (state dict -> (state dict, report)) on the home model's own tensors and seeing where each
    one lands."""
    converted, _ = converter(home_state)
    owner = {id(v): k for k, v in home_state.items()}
    return {
        owner[id(v)]: k[len("backbone.") :]
        for k, v in converted.items()
        if id(v) in owner and k.startswith("backbone.")
    }


def export_encoder(cfg, state_dict: dict, weights: str = "checkpoint") -> EncoderExport:
    """The encoder of a trained checkpoint in its home library's layout.

    Args:
        cfg: the config the checkpoint was trained with (``MODEL.BACKBONE.NAME`` picks the
            registered exporter).
        state_dict: the checkpoint's tensors (plugin names: ``backbone.*``, heads, ...).
        weights: the checkpoint's name, for messages.
    Returns:
        ``EncoderExport``.
    Raises:
        ExportError when the backbone has no exporter, the checkpoint holds another backbone or
        does not fit the config, or the result does not load into the home model.
    """
    exporter = exporter_for(cfg, state_dict, weights)
    _, plugin = load_plugin_backbone(cfg, state_dict, weights, exporter.label)
    home, record, names, notes = exporter.home(cfg)
    home_state = home.state_dict()
    out, not_exported, used = {}, [], set()
    for key, target in home_state.items():
        source = names.get(key)
        if source in plugin:
            out[key] = plugin[source].detach().clone()
            used.add(source)
        elif key.endswith("num_batches_tracked"):
            # Detectron2's FrozenBatchNorm2d has no step counter; torchvision's BatchNorm does.
            out[key] = torch.zeros_like(target)
        elif key.startswith(exporter.left_out):
            not_exported.append(key)
        else:
            raise ExportError(f"{key} of the {record['library']} model has no plugin counterpart")
    missing, unexpected = home.load_state_dict(out, strict=False)
    if unexpected or sorted(missing) != sorted(not_exported):
        raise ExportError(f"export does not load: missing {missing}, unexpected {unexpected}")
    stage_norms = {}
    for stage in exporter.stage_norms:
        for param in ("weight", "bias"):
            stage_norms[f"{stage}.{param}"] = plugin[f"out_norms.{stage}.{param}"].clone()
            used.add(f"out_norms.{stage}.{param}")
    left = sorted(k for k in plugin if k not in used and not k.endswith(exporter.recomputed))
    if left:
        raise ExportError(f"plugin encoder tensors without a place in the export: {left[:10]}")
    record.update(
        backbone=cfg.MODEL.BACKBONE.NAME,
        not_exported=not_exported,
        exact=not record.get("differences"),
    )
    return EncoderExport(out, stage_norms, record, tuple(notes))


def side_paths(out: str) -> tuple[str, str]:
    """(JSON record, stage norms) paths beside ``out``."""
    stem = out[: -len(".pth")] if out.endswith(".pth") else out
    return stem + ".json", stem + ".stage_norms.pth"


def write_export(out: str, export: EncoderExport) -> list[str]:
    """Write the encoder, its stage norms (if any) and the JSON record, each atomically;
    returns the paths written."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    json_path, norms_path = side_paths(out)
    written = [out]
    # Saved through a file object: torch.save on a path derives the archive name from it, which
    # fails for a hidden temporary name without an extension.
    with atomic_write(out, "wb") as f:
        torch.save(export.state_dict, f)
    if export.stage_norms:
        with atomic_write(norms_path, "wb") as f:
            torch.save(export.stage_norms, f)
        export.record["stage_norms"] = os.path.basename(norms_path)
        written.append(norms_path)
    with atomic_write(json_path) as f:
        json.dump(export.record, f, indent=2)
        f.write("\n")
    written.append(json_path)
    return written

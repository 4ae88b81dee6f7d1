"""The renaming pass every import converter shares, and name tables of regular expressions.

A converter says how one source key is renamed (``rename``) and which keys it drops on sight;
``rename_tensors`` walks the source, fills the ``ConversionReport`` and keeps a classifier only
when its class count fits the target model.
"""

import re
from collections.abc import Callable, Sequence

import torch

from .report import ConversionReport

# Keys of constant buffers that the models rebuild at construction.
CONSTANT_BUFFERS = ("relative_position_index", "attn_mask")
PREDICTOR = "sem_seg_head.predictor."

# (pattern matched against the whole key, target: a ``re`` template or a function of the match)
Rule = tuple[str, str | Callable[[re.Match], str]]


def rename_by_rules(key: str, rules: Sequence[Rule]) -> str | None:
    """The target of the first rule whose pattern matches all of ``key`` (None: no rule does)."""
    for pattern, target in rules:
        match = re.fullmatch(pattern, key)
        if match:
            return target(match) if callable(target) else match.expand(target)
    return None


def rename_tensors(
    state_dict: dict,
    rename: Callable[[str], str | None],
    report: ConversionReport,
    *,
    unmatched: str,
    drop: Sequence[tuple[str, str]] = (),
    num_classes: int | None = None,
    transform: Callable[[str, torch.Tensor], torch.Tensor] | None = None,
    skip: tuple[str, ...] = CONSTANT_BUFFERS,
) -> dict:
    """Rename the tensors of ``state_dict``, in its order, recording everything in ``report``.

    Args:
        state_dict: the source tensors.
        rename: source key -> target key, or None when it has no counterpart.
        report: counts converted tensors and skipped buffers, and why each key was dropped.
        unmatched: the reason recorded for a key ``rename`` maps to None.
        drop: (source key prefix, reason) pairs: such keys are dropped without renaming.
        num_classes: the target's class count; a ``sem_seg_head.predictor.*`` tensor for another
            count is dropped. None keeps it whatever its size.
        transform: (target key, tensor) -> the tensor to store (e.g. a reordered one).
        skip: key suffixes of constant buffers the target rebuilds; counted, not converted.
    Returns:
        {target key: tensor}; tensors not transformed are the source's own objects.
    """
    out = {}
    for key, value in state_dict.items():
        if key.endswith(skip):
            report.skipped_buffers += 1
            continue
        reason = next((why for prefix, why in drop if key.startswith(prefix)), None)
        new = None if reason else rename(key)
        if reason is None and new is None:
            reason = unmatched
        elif reason is None and new.startswith(PREDICTOR) and num_classes is not None:
            if value.shape[0] != num_classes:
                reason = f"classifier for {value.shape[0]} classes; the model has {num_classes}"
        if reason is not None:
            report.drop(key, reason)
            continue
        out[new] = transform(new, value) if transform else value
        report.converted += 1
    return out

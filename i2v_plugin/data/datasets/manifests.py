"""Reading the manifest JSON that ``data.prepare`` writes beside converted labels.

A manifest records what the converted label PNGs mean (the class list and the conversion
options) and whether the conversion finished (``"complete"``). Registration reads it to name the
classes of a split and refuses the labels of an unfinished conversion.
"""

import json
import logging
import os
from collections.abc import Sequence

from .classes import check_class_list

logger = logging.getLogger(__name__)


def read_manifest(path: str) -> dict | None:
    """The manifest at ``path``; None if it is missing or unreadable (a warning says why)."""
    try:
        with open(path) as f:
            content = json.load(f)
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        logger.warning("%s is not valid JSON; treated as missing.", path)
        return None
    if not isinstance(content, dict):
        logger.warning("%s does not hold a JSON object; treated as missing.", path)
        return None
    return content


def require_manifest(path: str, command: str) -> dict:
    """The manifest of a finished conversion, for registration to trust its outputs.

    Raises:
        FileNotFoundError naming ``path`` and ``command`` if it does not exist;
        RuntimeError naming them if the conversion did not finish.
    """
    manifest = read_manifest(path)
    if manifest is None:
        raise FileNotFoundError(
            f"Converted labels not found: expected {path}. Create them with `{command}` "
            "(see datasets/README.md)."
        )
    if not manifest.get("complete"):
        raise RuntimeError(
            f"The label conversion recorded in {path} did not finish; rerun `{command}` "
            "(it resumes where it stopped)."
        )
    return manifest


def manifest_classes(path: str, fallback: Sequence[str]) -> list[str]:
    """The class list recorded in a manifest, or ``fallback`` if there is none (yet).

    For metadata at registration time: a malformed manifest is logged, not raised, so one bad
    file cannot break ``import i2v_plugin`` (loading the split then fails on it).
    """
    manifest = read_manifest(path) if os.path.isfile(path) else None
    if not isinstance(manifest, dict) or "classes" not in manifest:
        return list(fallback)
    try:
        return check_class_list(manifest["classes"], path)
    except ValueError as err:
        logger.warning("%s; using %s for now.", err, list(fallback))
        return list(fallback)

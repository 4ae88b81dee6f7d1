"""Cached, atomic dataset folders: built in a temporary sibling, renamed into place.

A folder is finished when its ``params.json`` (the cache key, written last) matches the wanted
key. A build writes into ``.<name>.partial-*`` beside the root and renames it to the root at the
end, replacing an outdated folder through ``.<name>.old-*``; an interrupted build never looks
finished, and the next build deletes its leftovers. Do not run two builds on one root at once.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

KEY_FILE = "params.json"


def write_json(path: Path, content: dict) -> None:
    """Write ``content`` as indented JSON with sorted keys and a final newline."""
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


def normalised_key(key: dict) -> dict:
    """``key`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(key))


def is_finished(root, key: dict) -> bool:
    """Whether ``root/params.json`` exists and equals ``key`` (as JSON)."""
    try:
        stored = json.loads((Path(root) / KEY_FILE).read_text())
    except (OSError, ValueError):
        return False
    return stored == normalised_key(key)


def _check_replaceable(root: Path, own_entries: set[str]) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise FileExistsError(f"Dataset root {root} exists and is not a folder")
    foreign = sorted(set(os.listdir(root)) - own_entries)
    if foreign:
        raise FileExistsError(
            f"Dataset root {root} holds entries the generator did not write "
            f"({', '.join(foreign[:5])}); refusing to replace it. Remove it or choose another root."
        )


def _remove_leftovers(root: Path) -> None:
    """Delete staging folders of interrupted runs (``.<name>.partial-*``, ``.<name>.old-*``)."""
    for pattern in (f".{root.name}.partial-*", f".{root.name}.old-*"):
        for leftover in root.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def build_atomically(root, key: dict, build: Callable[[Path], None], own_entries: set[str]) -> Path:
    """Build a dataset folder at ``root`` through a staging folder.

    Args:
        root: the dataset folder (created, or replaced when present).
        key: the cache key written to params.json once ``build`` has returned.
        build: writes the content into the staging folder it is given (an empty folder).
        own_entries: top-level names a folder of this kind holds (params.json included); a
            root holding anything else is refused.
    Returns:
        Path of root.
    Raises:
        FileExistsError if root exists and is not a folder, or holds foreign entries.
    """
    root = Path(root)
    _check_replaceable(root, own_entries)
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(root)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.partial-", dir=root.parent))
    try:
        build(staging)
        write_json(staging / KEY_FILE, normalised_key(key))
        if root.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
            os.replace(root, retired / root.name)
            os.replace(staging, root)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, root)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return root

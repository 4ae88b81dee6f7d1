"""The classes shared by the image and video datasets: the stored list and its default.

The evaluation classes are "background" plus the DAVIS object classes that also exist in COCO.
``datasets/prepare_davis_semantic.py`` computes that list from the DAVIS files and stores it as
JSON (``{"classes": [...]}``, index = training id; ``data.prepare.shared_classes`` writes it);
every prepare script and registration reads it back with ``load_shared_classes``.
``DEFAULT_SHARED_CLASSES`` is used where no stored list exists yet.
"""

import logging
import os

from ...utils.json_files import load_json

logger = logging.getLogger(__name__)

BACKGROUND = "background"

# DAVIS-2017 train ∩ val ∩ COCO (datasets/README.md, "Shared classes"), in COCO category order:
# 11 classes plus background. The paper evaluates on 10 plus background (its §4.1 and Table 1's
# caption); its list (appendix Table 8) is not in the text available to us, so none of the 11 can
# be dropped on its authority and the list the files give is kept (configs/paper/README.md).
DEFAULT_SHARED_CLASSES = (
    BACKGROUND,
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "bird",
    "dog",
    "horse",
    "cow",
    "backpack",
    "surfboard",
    "cell phone",
)


def check_class_list(names, source: str) -> list[str]:
    """Validate a class list: non-empty unique strings, "background" first.

    Args:
        names: the list to check.
        source: where it came from (a file name), used in error messages.
    Returns:
        the names as a list of str.
    Raises:
        ValueError naming ``source`` and the problem.
    """
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"{source}: expected a non-empty list of class names, got {names!r}")
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError(f"{source}: every class name must be a non-empty string, got {names!r}")
    if names[0] != BACKGROUND:
        raise ValueError(f"{source}: class 0 must be {BACKGROUND!r}, got {names[0]!r}")
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        raise ValueError(f"{source}: class names must be unique; repeated: {duplicates}")
    if len(names) > 255:
        raise ValueError(f"{source}: {len(names)} classes do not fit 8-bit labels (255 = ignore)")
    return list(names)


def load_shared_classes(path) -> list[str]:
    """Read a class list written by ``data.prepare.shared_classes.save_shared_classes``.

    Args:
        path: JSON file of the form ``{"classes": ["background", ...], ...}``.
    Returns:
        the class names; index = training id.
    Raises:
        FileNotFoundError naming the file; ValueError naming it if the content is malformed.
    """
    path = os.fspath(path)
    content = load_json(path, f"Class list not found: {path}")
    if not isinstance(content, dict) or "classes" not in content:
        raise ValueError(f'{path}: expected a JSON object with a "classes" list')
    return check_class_list(content["classes"], path)


def stored_or_default_classes(path, strict: bool = True) -> list[str]:
    """The class list stored at ``path`` if that file exists, else ``DEFAULT_SHARED_CLASSES``.

    Args:
        path: a JSON file of the form read by ``load_shared_classes``.
        strict: raise on a malformed file. Registration (at import time) passes False so that
            one bad file cannot break ``import i2v_plugin``; it then logs the problem and uses the
            default list, and loading the split (strict) raises.
    """
    if not os.path.isfile(path):
        return list(DEFAULT_SHARED_CLASSES)
    try:
        return load_shared_classes(path)
    except ValueError as err:
        if strict:
            raise
        logger.warning("%s; using the default class list for now.", err)
        return list(DEFAULT_SHARED_CLASSES)

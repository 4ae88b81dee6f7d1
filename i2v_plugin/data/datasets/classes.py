"""The classes shared by the image and video datasets, and the name tables that align them.

The evaluation classes are "background" plus the DAVIS object classes that also exist in COCO.
``datasets/prepare_davis_semantic.py`` computes that list from the DAVIS files and stores it as
JSON (``{"classes": [...]}``, index = training id); every prepare script and registration reads
it back with ``load_shared_classes``. ``DEFAULT_SHARED_CLASSES`` is used where no stored list
exists yet.
"""

import json
import logging
import os
import tempfile

logger = logging.getLogger(__name__)

BACKGROUND = "background"

# DAVIS-2017 train ∩ val ∩ COCO (DATASETS.md), in COCO category order. The paper used 10 classes
# but its list is not available; this is what the files give.
DEFAULT_SHARED_CLASSES = (
    BACKGROUND,
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "bird",
    "cow",
    "dog",
    "horse",
    "backpack",
    "surfboard",
    "cell phone",
)

# COCO-Stuff pixel value (= COCO category_id - 1) of every COCO thing class. Stuff classes are
# 91..181; they never match a DAVIS object, so they are not named here and become background.
COCO_THING_VALUES = {
    "person": 0,
    "bicycle": 1,
    "car": 2,
    "motorcycle": 3,
    "airplane": 4,
    "bus": 5,
    "train": 6,
    "truck": 7,
    "boat": 8,
    "traffic light": 9,
    "fire hydrant": 10,
    "stop sign": 12,
    "parking meter": 13,
    "bench": 14,
    "bird": 15,
    "cat": 16,
    "dog": 17,
    "horse": 18,
    "sheep": 19,
    "cow": 20,
    "elephant": 21,
    "bear": 22,
    "zebra": 23,
    "giraffe": 24,
    "backpack": 26,
    "umbrella": 27,
    "handbag": 30,
    "tie": 31,
    "suitcase": 32,
    "frisbee": 33,
    "skis": 34,
    "snowboard": 35,
    "sports ball": 36,
    "kite": 37,
    "baseball bat": 38,
    "baseball glove": 39,
    "skateboard": 40,
    "surfboard": 41,
    "tennis racket": 42,
    "bottle": 43,
    "wine glass": 45,
    "cup": 46,
    "fork": 47,
    "knife": 48,
    "spoon": 49,
    "bowl": 50,
    "banana": 51,
    "apple": 52,
    "sandwich": 53,
    "orange": 54,
    "broccoli": 55,
    "carrot": 56,
    "hot dog": 57,
    "pizza": 58,
    "donut": 59,
    "cake": 60,
    "chair": 61,
    "couch": 62,
    "potted plant": 63,
    "bed": 64,
    "dining table": 66,
    "toilet": 69,
    "tv": 71,
    "laptop": 72,
    "mouse": 73,
    "remote": 74,
    "keyboard": 75,
    "cell phone": 76,
    "microwave": 77,
    "oven": 78,
    "toaster": 79,
    "sink": 80,
    "refrigerator": 81,
    "book": 83,
    "clock": 84,
    "vase": 85,
    "scissors": 86,
    "teddy bear": 87,
    "hair drier": 88,
    "toothbrush": 89,
}

# Largest value COCO-Stuff uses for a labeled pixel; 255 is "unlabeled".
COCO_STUFF_MAX_VALUE = 181

# Spellings used by DAVIS, VOC or users -> the COCO name. Only true synonyms: a finer class
# ("swan") is not mapped to a coarser one ("bird"), which would change what the class means.
SYNONYMS = {
    "cellphone": "cell phone",
    "mobile phone": "cell phone",
    "motorbike": "motorcycle",
    "bike": "bicycle",
    "aeroplane": "airplane",
    "sofa": "couch",
    "tvmonitor": "tv",
    "pottedplant": "potted plant",
    "diningtable": "dining table",
    "hairdryer": "hair drier",
    "teddybear": "teddy bear",
}


def canonical_name(name: str) -> str:
    """The COCO spelling of a class name: lower case, single spaces, synonyms resolved.

    Names without a COCO counterpart are returned normalised but otherwise unchanged.
    """
    normalised = " ".join(str(name).replace("_", " ").lower().split())
    return SYNONYMS.get(normalised, SYNONYMS.get(normalised.replace(" ", ""), normalised))


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
    """Read a class list written by ``save_shared_classes``.

    Args:
        path: JSON file of the form ``{"classes": ["background", ...], ...}``.
    Returns:
        the class names; index = training id.
    Raises:
        FileNotFoundError naming the file; ValueError naming it if the content is malformed.
    """
    path = os.fspath(path)
    try:
        with open(path) as f:
            content = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"Class list not found: {path}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(content, dict) or "classes" not in content:
        raise ValueError(f'{path}: expected a JSON object with a "classes" list')
    return check_class_list(content["classes"], path)


def save_shared_classes(path, names, **extra) -> None:
    """Write a class list atomically (a reader never sees a half-written file).

    Args:
        path: destination JSON file; its folder is created if needed.
        names: class names, "background" first.
        extra: further JSON-serialisable fields stored beside "classes" (e.g. provenance).
    """
    path = os.fspath(path)
    names = check_class_list(list(names), path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"classes": names, **extra}, f, indent=2)
            f.write("\n")
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def stored_or_default_classes(path, strict: bool = True) -> list[str]:
    """The class list stored at ``path`` if that file exists, else ``DEFAULT_SHARED_CLASSES``.

    Args:
        path: a JSON file written by ``save_shared_classes``.
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

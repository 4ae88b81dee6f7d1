"""The shared class list as the prepare scripts determine and store it: the tables that align
DAVIS, VOC and user spellings with COCO's names and ids, and the writer of the stored list
(read back by ``data.datasets.classes.load_shared_classes``).
"""

import json
import os

from ...utils.atomic import atomic_write
from ..datasets.classes import check_class_list

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


def save_shared_classes(path, names, **extra) -> None:
    """Write a class list atomically (a reader never sees a half-written file).

    Args:
        path: destination JSON file; its folder is created if needed.
        names: class names, "background" first.
        extra: further JSON-serialisable fields stored beside "classes" (e.g. provenance).
    """
    path = os.fspath(path)
    names = check_class_list(list(names), path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path) as f:
        json.dump({"classes": names, **extra}, f, indent=2)
        f.write("\n")

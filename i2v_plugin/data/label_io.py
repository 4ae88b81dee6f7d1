"""Reading label maps so that a wrong file mode can never pass silently.

Label PNGs hold class indices: single-channel ("L", COCO-Stuff maps) or palette ("P", DAVIS and
VOC annotations, whose pixel values are palette indices). An RGB rendering of a palette file
would silently turn indices into colours, so any other mode is an error that names the file.
"""

import numpy as np
from PIL import Image

INDEX_MODES = ("L", "P")


class LabelFormatError(ValueError):
    """A label file that is not a map of class indices in the expected mode."""


def read_label_map(path: str, modes: tuple[str, ...] = INDEX_MODES) -> np.ndarray:
    """Read a label PNG as its raw index values.

    Args:
        path: the label file.
        modes: accepted PIL modes; "L" and "P" by default. Pass ("P",) where the format is a
            palette PNG (DAVIS, VOC) and ("L",) for single-channel maps.
    Returns:
        (H, W) uint8 array of indices (for "P", the palette indices, never the colours).
    Raises:
        FileNotFoundError naming the file; LabelFormatError naming the file, its mode and the
        accepted modes.
    """
    try:
        with Image.open(path) as img:
            if img.mode not in modes:
                accepted = " or ".join(repr(m) for m in modes)
                raise LabelFormatError(
                    f"{path}: label image has PIL mode {img.mode!r}; expected mode {accepted} "
                    "(one class index per pixel). Colour-coded labels must be converted to "
                    "index maps first (see datasets/README.md)."
                )
            return np.asarray(img, dtype=np.uint8).copy()
    except FileNotFoundError:
        raise FileNotFoundError(f"Label file not found: {path}") from None


def load_label_for_evaluator(path: str, dtype=int) -> np.ndarray:
    """``sem_seg_loading_fn`` for Detectron2's ``SemSegEvaluator``: checked mode, given dtype."""
    return read_label_map(path).astype(dtype)

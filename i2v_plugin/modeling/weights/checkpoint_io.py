"""Reading source checkpoints from local files and writing Detectron2-loadable ones.

Nothing is ever downloaded: every function takes a local path.
"""

import logging
import os
import pickle

import numpy as np
import torch

from ...utils.atomic import atomic_write

logger = logging.getLogger(__name__)

# Written into every converted checkpoint, so ``DetectionCheckpointer`` loads it name by name.
CHECKPOINT_AUTHOR = "i2v_plugin convert_weights"


def _is_state_dict(obj) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) for k in obj)


def unwrap_state_dict(checkpoint) -> dict[str, torch.Tensor]:
    """The tensor dict inside a checkpoint object.

    Accepts a plain state dict or one nested under "model" (Detectron2, official Swin) or
    "state_dict" (mmsegmentation, mmcv). NumPy arrays become tensors; other values (metadata)
    are left out.
    """
    for key in ("model", "state_dict"):
        if isinstance(checkpoint, dict) and _is_state_dict(checkpoint.get(key)):
            checkpoint = checkpoint[key]
            break
    if not _is_state_dict(checkpoint):
        raise ValueError(
            "Checkpoint holds no state dict: expected a dict of tensors, possibly under 'model' "
            f"or 'state_dict'; got {type(checkpoint).__name__}"
        )
    out = {}
    for key, value in checkpoint.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        if isinstance(value, torch.Tensor):
            out[key] = value
    return out


def load_checkpoint_file(path: str) -> dict[str, torch.Tensor]:
    """Read a local checkpoint (``.pth``/``.pt``/``.bin``/``.ckpt`` or ``.safetensors``).

    Raises:
        FileNotFoundError naming the path; ValueError if it holds no state dict.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint not found: {path}")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return unwrap_state_dict(load_file(path))
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # mmcv/mmsegmentation checkpoints pickle metadata objects besides the tensors; such a
        # file is only unpickled in full because the user named it as a local source.
        logger.warning("%s holds pickled metadata; loading it without weights_only.", path)
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    try:
        return unwrap_state_dict(checkpoint)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def save_d2_checkpoint(path: str, state_dict: dict[str, torch.Tensor]) -> None:
    """Write ``{"model": state_dict, ...}`` for ``DetectionCheckpointer`` (no name matching).

    The file appears atomically (``utils.atomic``): complete, or not at all.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    data = {
        "model": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        "__author__": CHECKPOINT_AUTHOR,
        "matching_heuristics": False,
    }
    with atomic_write(path, "wb") as f:
        torch.save(data, f)

"""``AtomicCheckpointer``: Detectron2's checkpointer, but a checkpoint file is either complete or
absent, and ``last_checkpoint`` always names a complete one.

Both the checkpoint and the ``last_checkpoint`` tag are written under a temporary name, synced to
disk and renamed into place; the tag is renamed only after the checkpoint. A run killed at any
moment of a save therefore resumes from the previous checkpoint, or from the new one if its rename
happened. A save that fails with an exception removes its temporary file; a killed one may leave a
``*.tmp`` file, which nothing reads. (fvcore's ``PeriodicCheckpointer(max_to_keep=...)`` deletes old
files only after a save has returned, so it never deletes the file the tag names.)
"""

import contextlib
import os
from collections.abc import Callable
from typing import BinaryIO

import torch
from detectron2.checkpoint import DetectionCheckpointer


def write_atomically(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` with ``write(file)``: readers see either the old file or the complete new one.

    The bytes go to ``path + ".tmp"``, are fsynced, renamed over ``path`` (atomic on POSIX within
    a folder), and the folder is fsynced so that the rename itself survives a power loss.
    """
    temp_path = f"{path}.tmp"
    try:
        with open(temp_path, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp_path)
        raise
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class AtomicCheckpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` with atomic ``save`` and ``tag_last_checkpoint`` (same arguments,
    same file names)."""

    def save(self, name: str, **kwargs) -> None:
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        data.update({key: obj.state_dict() for key, obj in self.checkpointables.items()})
        data.update(kwargs)
        basename = f"{name}.pth"
        final_path = os.path.join(self.save_dir, basename)
        self.logger.info(f"Saving checkpoint to {final_path}")
        write_atomically(final_path, lambda f: torch.save(data, f))
        self.tag_last_checkpoint(basename)

    def tag_last_checkpoint(self, last_filename_basename: str) -> None:
        # fvcore truncates the tag in place: a kill right then would leave it empty.
        tag_path = os.path.join(self.save_dir, "last_checkpoint")
        write_atomically(tag_path, lambda f: f.write(last_filename_basename.encode()))

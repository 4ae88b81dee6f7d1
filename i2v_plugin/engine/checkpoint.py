"""``AtomicCheckpointer``: Detectron2's checkpointer, but a checkpoint file is either complete or
absent, and ``last_checkpoint`` always names a complete one.

Both the checkpoint and the ``last_checkpoint`` tag are written with ``utils.atomic.atomic_write``
(a hidden temporary file in the same folder, synced to disk and renamed into place); the tag is
renamed only after the checkpoint. A run killed at any moment of a save therefore resumes from the
previous checkpoint, or from the new one if its rename happened. A save that fails with an
exception removes its temporary file; a killed one may leave a hidden ``.tmp-*`` file, which
nothing reads. (fvcore's ``PeriodicCheckpointer(max_to_keep=...)`` deletes old files only after a
save has returned, so it never deletes the file the tag names.)
"""

import os

import torch
from detectron2.checkpoint import DetectionCheckpointer

from ..utils.atomic import atomic_write


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
        with atomic_write(final_path, "wb") as f:
            torch.save(data, f)
        self.tag_last_checkpoint(basename)

    def tag_last_checkpoint(self, last_filename_basename: str) -> None:
        # fvcore truncates the tag in place: a kill right then would leave it empty.
        with atomic_write(os.path.join(self.save_dir, "last_checkpoint")) as f:
            f.write(last_filename_basename)

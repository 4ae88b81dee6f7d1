"""``AtomicCheckpointer``: Detectron2's checkpointer, but a checkpoint file is either complete or
absent. It is written under a temporary name and renamed into place, and ``last_checkpoint`` is
updated only afterwards, so a run killed while saving resumes from the previous checkpoint."""

import os

import torch
from detectron2.checkpoint import DetectionCheckpointer


class AtomicCheckpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` with atomic ``save`` (same arguments, same file names)."""

    def save(self, name: str, **kwargs) -> None:
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        data.update({key: obj.state_dict() for key, obj in self.checkpointables.items()})
        data.update(kwargs)
        basename = f"{name}.pth"
        final_path = os.path.join(self.save_dir, basename)
        temp_path = final_path + ".tmp"
        self.logger.info(f"Saving checkpoint to {final_path}")
        with open(temp_path, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, final_path)
        self.tag_last_checkpoint(basename)

"""Self-training resumes exactly: a run restarted with ``--resume`` from an intermediate
checkpoint (through tools/train_net.py) ends with the same teacher, student and optimizer state
as the uninterrupted run, because the EMA teacher is in the checkpoint and its coefficient, the
strong views and ClassMix follow the trainer iteration."""

import os
import shutil
import subprocess
import sys

import pytest
import torch

from tests.helpers import REPO_ROOT, TINY_MODEL_OPTS

CONFIG = os.path.join(REPO_ROOT, "configs", "synthetic", "swin_self_training_temporal.yaml")
OPTS = [
    "SEED", "7",
    "SOLVER.MAX_ITER", "6",
    "SOLVER.CHECKPOINT_PERIOD", "3",
    "DATASETS.TEST", "()",
    # Low enough that pseudo-labels exist from the start, so the teacher shapes the loss.
    "MODEL.I2V.SELF_TRAINING.THRESHOLD", "0.2",
    "MODEL.I2V.SELF_TRAINING.EMA_DECAY", "0.9",
]  # fmt: skip

pytestmark = pytest.mark.slow


def train_net(output_dir, *extra_args):
    cmd = [sys.executable, os.path.join(REPO_ROOT, "tools", "train_net.py"), "--config-file"]
    cmd += [CONFIG, *extra_args, *TINY_MODEL_OPTS, *OPTS, "OUTPUT_DIR", str(output_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]


def test_resume_reproduces_the_teacher_exactly(synth_root, tmp_path):
    full, resumed = tmp_path / "full", tmp_path / "resumed"
    train_net(full)
    # The run "stopped" after iteration 2: its checkpoint is all the resumed run gets.
    resumed.mkdir()
    shutil.copy(full / "model_0000002.pth", resumed / "model_0000002.pth")
    (resumed / "last_checkpoint").write_text("model_0000002.pth")
    train_net(resumed, "--resume")

    a = torch.load(full / "model_final.pth", map_location="cpu", weights_only=False)
    b = torch.load(resumed / "model_final.pth", map_location="cpu", weights_only=False)
    start = torch.load(full / "model_0000002.pth", map_location="cpu", weights_only=False)
    teacher = [k for k in a["model"] if k.startswith("objectives.self_training.teacher.")]
    assert teacher and a["model"].keys() == b["model"].keys()
    different = [k for k in a["model"] if not torch.equal(a["model"][k], b["model"][k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:5]}"
    # The teacher moved after the checkpoint and is not a copy of the student.
    assert any(not torch.equal(a["model"][k], start["model"][k]) for k in teacher)
    student = {k.removeprefix("objectives.self_training.teacher."): k for k in teacher}
    assert any(not torch.equal(a["model"][k], a["model"][t]) for k, t in student.items())
    state_a = a["trainer"]["_trainer"]["optimizer"]["state"]
    state_b = b["trainer"]["_trainer"]["optimizer"]["state"]
    for index in state_a:
        for name, value in state_a[index].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(state_b[index][name]))

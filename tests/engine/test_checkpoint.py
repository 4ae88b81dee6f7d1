"""``AtomicCheckpointer``: a save that dies part-way (exception or SIGKILL) never becomes the
checkpoint ``last_checkpoint`` names, and no partial file exists under a checkpoint's final name."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from fvcore.common.checkpoint import PeriodicCheckpointer

from i2v_plugin.engine.checkpoint import AtomicCheckpointer
from tests.helpers import REPO_ROOT

REAL_SAVE = torch.save


def make_checkpointer(folder, value: float) -> AtomicCheckpointer:
    model = torch.nn.Linear(64, 64)
    torch.nn.init.constant_(model.weight, value)
    return AtomicCheckpointer(model, save_dir=str(folder))


def saved_weight(folder) -> float:
    """The weight stored in the checkpoint that ``last_checkpoint`` names, loaded by a resume."""
    checkpointer = make_checkpointer(folder, 0.0)
    checkpointer.resume_or_load("", resume=True)
    return float(checkpointer.model.weight[0, 0])


def partial_save(data, f):
    """Writes the first half of what ``torch.save`` would write, then fails like a full disk."""
    REAL_SAVE(data, f)
    f.seek(f.tell() // 2)
    f.truncate()
    raise OSError(28, "No space left on device")


def test_failed_save_keeps_previous_checkpoint_and_leaves_no_file(tmp_path, monkeypatch):
    make_checkpointer(tmp_path, 1.0).save("model_0000001")
    monkeypatch.setattr(torch, "save", partial_save)
    with pytest.raises(OSError, match="No space"):
        make_checkpointer(tmp_path, 2.0).save("model_0000002")
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000001.pth"
    assert sorted(os.listdir(tmp_path)) == ["last_checkpoint", "model_0000001.pth"]
    monkeypatch.setattr(torch, "save", REAL_SAVE)
    assert saved_weight(tmp_path) == 1.0


def test_max_to_keep_never_deletes_the_tagged_checkpoint(tmp_path, monkeypatch):
    periodic = PeriodicCheckpointer(make_checkpointer(tmp_path, 1.0), period=1, max_to_keep=2)
    periodic.step(0)
    periodic.step(1)
    monkeypatch.setattr(torch, "save", partial_save)
    with pytest.raises(OSError):
        periodic.step(2)
    monkeypatch.setattr(torch, "save", REAL_SAVE)
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000001.pth"
    assert sorted(os.listdir(tmp_path)) == [
        "last_checkpoint",
        "model_0000000.pth",
        "model_0000001.pth",
    ]
    periodic.step(3)  # the next good save rotates out the oldest file only
    assert sorted(os.listdir(tmp_path)) == [
        "last_checkpoint",
        "model_0000001.pth",
        "model_0000003.pth",
    ]
    assert saved_weight(tmp_path) == 1.0


# A child process saves model_0000001, then is SIGKILLed during the save of model_0000002:
# "data" half-way through writing the checkpoint bytes, "tag" once the checkpoint is in place
# but before the new last_checkpoint is.
KILLED_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    from i2v_plugin.engine.checkpoint import AtomicCheckpointer

    def save(folder, value, name):
        model = torch.nn.Linear(64, 64)
        torch.nn.init.constant_(model.weight, value)
        AtomicCheckpointer(model, save_dir=folder).save(name)

    def save_then_die(data, f):
        real_save(data, f)
        f.seek(f.tell() // 2)
        f.truncate()
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def replace_then_die(src, dst):
        if dst.endswith("last_checkpoint"):
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    folder, kill_in = sys.argv[1], sys.argv[2]
    save(folder, 1.0, "model_0000001")
    real_save, real_replace = torch.save, os.replace
    if kill_in == "data":
        torch.save = save_then_die
    else:
        os.replace = replace_then_die
    save(folder, 2.0, "model_0000002")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("kill_in", ["data", "tag"])
def test_sigkill_during_save_resumes_from_a_complete_checkpoint(tmp_path, kill_in):
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(tmp_path), kill_in],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": REPO_ROOT},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000001.pth"
    assert saved_weight(tmp_path) == 1.0
    if kill_in == "data":
        # The partial bytes exist only under a hidden temporary name, and are not a checkpoint.
        assert not (tmp_path / "model_0000002.pth").exists()
        temporary = [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]
        assert len(temporary) == 1 and temporary[0].endswith(".pth")
        with pytest.raises((RuntimeError, OSError)):
            torch.load(tmp_path / temporary[0], weights_only=False)
    else:
        # Killed after the checkpoint's rename: the new file is complete, just not tagged yet.
        data = torch.load(tmp_path / "model_0000002.pth", weights_only=False)
        assert float(data["model"]["weight"][0, 0]) == 2.0

"""Distributed training on CPU through ``tools/train_net.py`` (gloo): two "machines" of one
process each on localhost train and evaluate exactly as one machine with two processes, and a
two-process run killed with SIGKILL after a checkpoint resumes to bit-identical weights.

Every run here sets ``OMP_NUM_THREADS=1``: the number of intra-op threads changes the order of
float sums in some CPU kernels, and the two launches would otherwise get different counts (one
machine with two processes splits the cores; a machine with one process takes them all).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from tests.helpers import REPO_ROOT, TINY_MODEL_OPTS

TRAIN_NET = os.path.join(REPO_ROOT, "tools", "train_net.py")
CONFIG = os.path.join(REPO_ROOT, "configs", "synthetic", "swin_clustered.yaml")
# 4 + 4 samples per step over 2 processes: 2 + 2 each, the tiny model of conftest.
OPTS = [
    "SOLVER.IMS_PER_BATCH_LABELED", "4",
    "SOLVER.IMS_PER_BATCH_UNLABELED", "4",
    "SEED", "3",
]  # fmt: skip


def command(output_dir, *opts, launch=()):
    """train_net.py on the clustered synthetic config with the tiny overrides and ``opts``."""
    return [
        sys.executable, TRAIN_NET, "--config-file", CONFIG, *launch,
        *TINY_MODEL_OPTS, *OPTS, "OUTPUT_DIR", str(output_dir), *opts,
    ]  # fmt: skip


def environment():
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finish(procs, logs, timeout=600):
    """Wait for every process; on failure, the tail of every log."""
    try:
        for proc in procs:
            proc.wait(timeout=timeout)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    texts = [open(log).read() for log in logs]
    assert all(p.returncode == 0 for p in procs), "\n----\n".join(t[-4000:] for t in texts)
    return texts


def run(output_dir, *opts, launch=(), log=None):
    log = log or f"{output_dir}.log"
    with open(log, "w") as f:
        proc = subprocess.Popen(
            command(output_dir, *opts, launch=launch),
            stdout=f,
            stderr=subprocess.STDOUT,
            env=environment(),
            start_new_session=True,
        )
    return finish([proc], [log])[0]


def weights(output_dir) -> dict:
    return torch.load(output_dir / "model_final.pth", map_location="cpu", weights_only=False)


def assert_same_weights(a: dict, b: dict) -> None:
    assert a["model"].keys() == b["model"].keys()
    different = [k for k in a["model"] if not torch.equal(a["model"][k], b["model"][k])]
    assert not different, f"{len(different)} of {len(a['model'])} tensors differ: {different[:5]}"


@pytest.mark.slow
def test_two_machines_of_one_process_match_one_machine_of_two(synth_root, tmp_path):
    opts = ["SOLVER.MAX_ITER", "4"]
    one_machine = tmp_path / "one_machine"
    text = run(one_machine, *opts, launch=["--num-gpus", "2", "--dist-url", "auto"])
    assert "World size: 2" in text

    # Two "machines" on localhost, each its own launcher process, meeting at one TCP address.
    two_machines = tmp_path / "two_machines"
    url = f"tcp://127.0.0.1:{free_port()}"
    procs, logs = [], []
    for rank in (0, 1):
        logs.append(tmp_path / f"machine{rank}.log")
        launch = ["--num-gpus", "1", "--num-machines", "2", "--machine-rank", str(rank)]
        with open(logs[-1], "w") as f:
            procs.append(
                subprocess.Popen(
                    command(two_machines, *opts, launch=[*launch, "--dist-url", url]),
                    stdout=f,
                    stderr=subprocess.STDOUT,
                    env=environment(),
                    start_new_session=True,
                )
            )
    finish(procs, logs)
    assert "World size: 2" in (two_machines / "log.txt").read_text()
    assert (two_machines / "log.txt.rank1").exists()

    assert_same_weights(weights(one_machine), weights(two_machines))
    results = [
        json.loads((d / "final_results.json").read_text()) for d in (one_machine, two_machines)
    ]
    assert results[0]["iteration"] == results[1]["iteration"] == 4
    assert {"i2v_synth_images_val", "i2v_synth_videos_val"} <= set(results[0]["results"])
    assert results[0]["results"] == results[1]["results"]


def read_metrics(output_dir) -> list[dict]:
    path = output_dir / "metrics.json"
    if not path.exists():
        return []
    with open(path) as f:
        # A line may be half written while the run is alive.
        return [json.loads(line) for line in f if line.endswith("\n")]


RESUME_OPTS = [
    "SOLVER.MAX_ITER", "16",
    "SOLVER.CHECKPOINT_PERIOD", "4",
    "MODEL.I2V.GRL.SCHEDULE", "sigmoid",
    "DATASETS.TEST", "()",
    # No loader worker: under DDP each would be a spawned process that imports torch and
    # Detectron2 again (about 30 s per launch on a loaded 2-core machine); the single-process
    # resume test (test_train_net.py) covers resuming with a worker.
    "DATALOADER.NUM_WORKERS", "0",
]  # fmt: skip
TWO_PROCESSES = ["--num-gpus", "2", "--dist-url", "auto"]


@pytest.mark.slow
def test_two_process_resume_after_sigkill_is_bit_exact(synth_root, tmp_path):
    full = tmp_path / "full"
    run(full, *RESUME_OPTS, launch=TWO_PROCESSES)

    # Killed (launcher, both training processes and their loader workers: one process group)
    # once last_checkpoint names the iteration-7 checkpoint, then resumed in place.
    killed = tmp_path / "killed"
    log = tmp_path / "killed.log"
    with open(log, "w") as f:
        proc = subprocess.Popen(
            command(killed, *RESUME_OPTS, launch=TWO_PROCESSES),
            stdout=f,
            stderr=subprocess.STDOUT,
            env=environment(),
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            tag = killed / "last_checkpoint"
            if tag.exists() and tag.read_text() == "model_0000007.pth":
                break
            time.sleep(0.02)
        assert proc.poll() is None, "train_net ended before the kill:\n" + log.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "model_final.pth").exists()
    last = (killed / "last_checkpoint").read_text()
    resume_iter = int(last.removeprefix("model_").removesuffix(".pth")) + 1
    assert 8 <= resume_iter < 16

    logged_before = len(read_metrics(killed))
    text = run(killed, *RESUME_OPTS, launch=[*TWO_PROCESSES, "--resume"], log=tmp_path / "r.log")
    assert "World size: 2" in text
    resumed = [m["iteration"] for m in read_metrics(killed)[logged_before:]]
    assert min(resumed) >= resume_iter and max(resumed) == 15, resumed

    a, b = weights(full), weights(killed)
    assert_same_weights(a, b)
    # The optimizer moments and the schedule too, so training on from here would not drift.
    state_a = a["trainer"]["_trainer"]["optimizer"]["state"]
    state_b = b["trainer"]["_trainer"]["optimizer"]["state"]
    assert state_a.keys() == state_b.keys()
    for index in state_a:
        for name, value in state_a[index].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(state_b[index][name]))
    assert a["trainer"]["hooks"] == b["trainer"]["hooks"]

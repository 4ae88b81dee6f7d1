"""End to end through ``tools/train_net.py``: train, evaluate, write TensorBoard events and the
final results; a run killed with SIGKILL resumes bit-exactly; a missing dataset root is a clear
error; two CPU processes share the cores."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.helpers import REPO_ROOT, TINY_MODEL_OPTS

TRAIN_NET = os.path.join(REPO_ROOT, "tools", "train_net.py")


def train_net_command(config, output_dir, *opts, extra_args=()):
    cmd = [sys.executable, TRAIN_NET, "--config-file", os.path.join(REPO_ROOT, config), *extra_args]
    return cmd + TINY_MODEL_OPTS + ["OUTPUT_DIR", str(output_dir), *opts]


def run_train_net(
    config, output_dir, *opts, extra_args=(), datasets_root=None, check=True, env_drop=()
):
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    if datasets_root is not None:
        env["DETECTRON2_DATASETS"] = datasets_root
    cmd = train_net_command(config, output_dir, *opts, extra_args=extra_args)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def read_metrics(output_dir):
    path = os.path.join(output_dir, "metrics.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        # A line may be half written while the run is alive.
        return [json.loads(line) for line in f if line.endswith("\n")]


@pytest.mark.slow
def test_train_20_iterations_then_evaluate_both_domains(synth_root, tmp_path):
    proc = run_train_net("configs/synthetic/swin_clustered.yaml", tmp_path, "SOLVER.MAX_ITER", "20")
    record = json.loads((tmp_path / "final_results.json").read_text())
    assert record["iteration"] == 20
    for split in ("i2v_synth_images_val", "i2v_synth_videos_val"):
        miou = record["results"][split]["sem_seg"]["mIoU"]
        assert 0.0 <= miou <= 100.0
        assert split in proc.stdout  # the summary table
    assert glob.glob(str(tmp_path / "events.out.tfevents.*"))
    metrics = [json.loads(line) for line in (tmp_path / "metrics.json").read_text().splitlines()]
    logged = set().union(*metrics)
    assert {"loss_sem_seg", "loss_adv_cluster", "i2v/grl_coeff", "i2v/disc/cluster/loss"} <= logged
    assert (tmp_path / "model_final.pth").exists()
    # The run's record also holds its discriminators' health and the skipped samples.
    health = record["discriminators"]["cluster"]
    assert health["collapsed"] is False and set(health["last_window"]) >= {"acc", "const_loss"}
    assert record["data"] == {"skipped_samples": 0, "counted_from_iter": 0}

    # --eval-only on a single dataset keeps the dataset level (Detectron2 drops it otherwise).
    evaluated = run_train_net(
        "configs/synthetic/swin_clustered.yaml",
        tmp_path / "eval",
        "MODEL.WEIGHTS", str(tmp_path / "model_final.pth"),
        "DATASETS.TEST", "('i2v_synth_videos_val',)",
        extra_args=["--eval-only"],
    )  # fmt: skip
    row = next(line for line in evaluated.stdout.splitlines() if line.startswith("i2v_synth_"))
    assert row.split()[0] == "i2v_synth_videos_val" and "nan" not in row


RESUME_CONFIG = "configs/synthetic/swin_clustered.yaml"
RESUME_OPTS = [
    "SEED", "3",
    "SOLVER.MAX_ITER", "240",
    "SOLVER.CHECKPOINT_PERIOD", "40",
    "MODEL.I2V.GRL.SCHEDULE", "sigmoid",
    "DATASETS.TEST", "()",
    # A loader worker, as in real runs: with NUM_WORKERS 0 the main process re-seeds its RNGs
    # for every sample and hides any RNG the loader draws at start-up.
    "DATALOADER.NUM_WORKERS", "1",
]  # fmt: skip


def kill_after(output_dir, checkpoint, logged_iteration, log_path, timeout=300):
    """Run train_net until ``checkpoint`` exists and ``logged_iteration`` is in metrics.json,
    then SIGKILL it and its loader worker (its own process group)."""
    cmd = train_net_command(RESUME_CONFIG, output_dir, *RESUME_OPTS)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            logged = [m["iteration"] for m in read_metrics(output_dir)]
            if (output_dir / checkpoint).exists() and logged and max(logged) >= logged_iteration:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "train_net ended before the kill:\n" + open(log_path).read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_resume_after_sigkill_is_bit_exact(synth_root, tmp_path):
    full = tmp_path / "full"
    run_train_net(RESUME_CONFIG, full, *RESUME_OPTS)

    # Killed 20+ iterations after the iteration-119 checkpoint (clustered loss, sigmoid GRL and
    # the poly LR all mid-way), then resumed in place from whatever last_checkpoint names.
    killed = tmp_path / "killed"
    kill_after(killed, "model_0000119.pth", 139, tmp_path / "killed.log")
    assert not (killed / "model_final.pth").exists()
    last = (killed / "last_checkpoint").read_text()
    resume_iter = int(last.removeprefix("model_").removesuffix(".pth")) + 1
    assert resume_iter >= 120 and torch.load(killed / last, weights_only=False)["iteration"] >= 119
    logged_before = len(read_metrics(killed))
    run_train_net(RESUME_CONFIG, killed, *RESUME_OPTS, extra_args=["--resume"])
    resumed = [m["iteration"] for m in read_metrics(killed)[logged_before:]]
    assert min(resumed) >= resume_iter and max(resumed) == 239, resumed

    a = torch.load(full / "model_final.pth", map_location="cpu", weights_only=False)
    b = torch.load(killed / "model_final.pth", map_location="cpu", weights_only=False)
    assert a["model"].keys() == b["model"].keys()
    different = [k for k in a["model"] if not torch.equal(a["model"][k], b["model"][k])]
    assert not different, f"{len(different)} of {len(a['model'])} tensors differ: {different[:5]}"
    # The optimizer moments and the LR schedule too, so training on from here would not drift.
    state_a = a["trainer"]["_trainer"]["optimizer"]["state"]
    state_b = b["trainer"]["_trainer"]["optimizer"]["state"]
    assert state_a.keys() == state_b.keys()
    for index in state_a:
        for name, value in state_a[index].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(state_b[index][name]))
    assert a["trainer"]["hooks"] == b["trainer"]["hooks"]


@pytest.mark.slow
def test_missing_dataset_root_names_path_and_command(tmp_path):
    proc = run_train_net(
        "configs/synthetic/swin_source_only.yaml",
        tmp_path / "out",
        "SOLVER.MAX_ITER", "1",
        datasets_root=str(tmp_path / "nowhere"),
        check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    expected = os.path.join(str(tmp_path / "nowhere"), "i2v_synth", "images", "train")
    assert expected in proc.stderr and "python datasets/prepare_synthetic.py" in proc.stderr


@pytest.mark.slow
def test_two_process_cpu_run_through_launch_trains_clustered(synth_root, tmp_path):
    # Two CPU processes through Detectron2's launch (gloo), DDP over the whole model including
    # the discriminators, without find_unused_parameters.
    proc = run_train_net(
        "configs/synthetic/swin_clustered.yaml",
        tmp_path,
        "SOLVER.MAX_ITER", "3",
        "SOLVER.IMS_PER_BATCH_LABELED", "4",
        "SOLVER.IMS_PER_BATCH_UNLABELED", "4",
        "DATASETS.TEST", "()",
        extra_args=["--num-gpus", "2", "--dist-url", "auto"],
        env_drop=("OMP_NUM_THREADS",),
    )  # fmt: skip
    assert "World size: 2" in proc.stdout + proc.stderr
    # Each process takes its share of the cores (torch's default is all of them, per process).
    cores = len(os.sched_getaffinity(0))
    for log in ("log.txt", "log.txt.rank1"):
        text = (tmp_path / log).read_text()
        assert f"Threads per process: {max(1, cores // 2)} ({cores} cores / 2 local" in text
    metrics = [json.loads(line) for line in (tmp_path / "metrics.json").read_text().splitlines()]
    assert max(m["iteration"] for m in metrics) == 2
    logged = [m for m in metrics if "total_loss" in m]
    assert logged and all("loss_adv_cluster" in m for m in logged)
    assert (tmp_path / "model_final.pth").exists()

"""The paper path, as a user runs it: DAVIS 2017 and COCO-Stuff trees in their published layouts
(real-sized frames), the two prepare scripts, then ``tools/train_net.py`` on the shipped paper
configs at their real model sizes (Swin-T + UperNet, DeepLabv3 ResNet-101) for 2 iterations with
batch 1 + 1 (2 + 1 for UperNet, see UPERNET_RUN), ending with the evaluation on the fixture's
DAVIS val split.

Everything runs in subprocesses with ``$DETECTRON2_DATASETS`` pointing at the fixture root.
"""

import json
import os
import subprocess
import sys

import pytest

from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES
from i2v_plugin.engine.setup import build_cfg
from tests.helpers import REPO_ROOT
from tests.helpers.dataset_trees import make_paper_coco_tree, make_paper_davis_tree

# The run's size; everything else is the shipped config.
SMALL_RUN = [
    "SOLVER.MAX_ITER", "2",
    "SOLVER.IMS_PER_BATCH_LABELED", "1",
    "SOLVER.IMS_PER_BATCH_UNLABELED", "1",
    "MODEL.WEIGHTS", "",
    "MODEL.DEVICE", "cpu",
    "DATALOADER.NUM_WORKERS", "0",
]  # fmt: skip
# UperNet's pyramid-pooling branch normalises a 1 x 1 map with BatchNorm, which needs 2 labeled
# samples per process in training (across GPUs naiveSyncBN pools them; one process cannot).
UPERNET_RUN = ["SOLVER.IMS_PER_BATCH_LABELED", "2"]
# The joint-labeled rows draw each labeled dataset from its own stream: 1 image + 1 frame here.
JOINT_RUN = ["DATASETS.TRAIN_SAMPLES_PER_STEP", "(1, 1)", "SOLVER.IMS_PER_BATCH_LABELED", "2"]
# Draws a few training batches of a config and prints each batch's domains, as JSON.
BATCH_DOMAINS = """
import json, sys
from i2v_plugin.data import build_i2v_train_loader
from i2v_plugin.engine.setup import build_cfg
loader = build_i2v_train_loader(build_cfg(sys.argv[1], sys.argv[2:]))
batches = []
for batch in loader:
    batches.append(sorted(sample["domain"] for sample in batch))
    if len(batches) == 4:
        break
print(json.dumps(batches))
"""

pytestmark = pytest.mark.slow


def run(args, env, timeout=600):
    result = subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def paper_env(tmp_path_factory):
    """A prepared dataset root (DAVIS + COCO-Stuff) and the environment that points at it."""
    root = tmp_path_factory.mktemp("paper_datasets")
    make_paper_davis_tree(root)
    make_paper_coco_tree(root)
    env = {**os.environ, "DETECTRON2_DATASETS": str(root)}
    quiet = ["--workers", "0", "--no-progress"]
    out = run(["datasets/prepare_davis_semantic.py", *quiet], env)
    assert "12 shared classes" in out
    run(["datasets/prepare_coco_stuff.py", *quiet], env)
    with open(root / "DAVIS" / "shared_classes.json") as f:
        assert json.load(f)["classes"] == list(DEFAULT_SHARED_CLASSES)
    for split in ("train2017", "val2017"):
        assert (root / "coco" / "stuffthingmaps_shared" / f"{split}.json").is_file()
    return env


@pytest.mark.parametrize(
    "config, opts",
    [
        ("configs/swin_clustered.yaml", UPERNET_RUN),
        ("configs/deeplab_r101_global_davis.yaml", []),
        # Table 4's rows are tested on DAVIS val and COCO-Stuff val, each with its own evaluator.
        ("configs/paper/table4_transformer_source_only.yaml", UPERNET_RUN),
        ("configs/paper/table2_coco_davis_labeled_clustered.yaml", JOINT_RUN),
    ],
    ids=[
        "swin_clustered",
        "deeplab_r101_global_davis",
        "table4_transformer_source_only",
        "table2_coco_davis_labeled_clustered",
    ],
)
def test_paper_config_trains_and_evaluates(paper_env, tmp_path, config, opts):
    opts = SMALL_RUN + opts
    if "DATASETS.TRAIN_SAMPLES_PER_STEP" in opts:
        batches = json.loads(run(["-c", BATCH_DOMAINS, config, *opts], paper_env))
        assert batches == [["image", "video"]] * 4
    output = tmp_path / "output"
    run(
        ["tools/train_net.py", "--config-file", config, *opts, "OUTPUT_DIR", str(output)],
        paper_env,
    )
    checkpoint = output / "model_final.pth"
    assert checkpoint.is_file()
    checkpoint.unlink()  # a full-size model: do not keep it in pytest's retained temp folders
    with open(output / "final_results.json") as f:
        record = json.load(f)
    assert record["iteration"] == 2
    test_sets = build_cfg(os.path.join(REPO_ROOT, config)).DATASETS.TEST
    assert sorted(record["results"]) == sorted(test_sets)
    for name in test_sets:
        assert 0.0 <= record["results"][name]["sem_seg"]["mIoU"] <= 100.0

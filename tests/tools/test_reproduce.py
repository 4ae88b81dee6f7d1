"""tools/reproduce.py over the manifest: suites and paper tables, controls (trained, or recorded
as identical to their reference), grids, resuming recorded runs, the dry-run plan."""

import json

import pytest

from i2v_plugin.experiments import plan
from i2v_plugin.experiments.manifest import load_manifest
from tests.helpers import REPO_ROOT
from tests.helpers.tools import load_tool

MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def reproduce():
    return load_tool("reproduce")


def suite(name):
    return plan.select(MANIFEST, suite=name)


def controls(runs, extra=()):
    return plan.with_controls(runs, MANIFEST, plan.config_builder(REPO_ROOT), extra)


def test_controls_are_added_for_adversarial_rows_only():
    runs = controls(suite("swin"))
    assert {"spatial_mu0", "global_mu0", "clustered_mu0"} <= set(runs)
    assert "source_only_mu0" not in runs and "oracle_mu0" not in runs
    control = runs["clustered_mu0"]
    assert control.config == runs["clustered"].config
    assert control.opts[-2:] == ("MODEL.I2V.GRL.MU", "0.0")
    assert control.identical_to == "source_only"
    deeplab = controls(suite("deeplab"))
    assert deeplab["deeplab_global_bn_update_mu0"].opts == (
        "SOLVER.MAX_ITER", "1000", "MODEL.I2V.UNLABELED_BN", "update", "MODEL.I2V.GRL.MU", "0.0"
    )  # fmt: skip
    # Its running statistics see the videos, but the recipe re-estimates them after training.
    assert deeplab["deeplab_global_bn_update_mu0"].identical_to == "deeplab_source_only"
    kept = controls(suite("deeplab"), ("SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "0"))
    assert kept["deeplab_global_bn_update_mu0"].identical_to is None
    assert deeplab["deeplab_global_mu0"].identical_to == "deeplab_source_only"
    assert deeplab["deeplab_global_mu0"].reference_opts == ("SOLVER.MAX_ITER", "1000")


def test_grid_names_every_point():
    runs = plan.with_grid(
        {"c": plan.RunSpec("c", "x.yaml")},
        ["MODEL.I2V.GRL.MU=0.1,1.0", "MODEL.I2V.GRL.SCHEDULE=constant,sigmoid"],
    )
    assert sorted(runs) == [
        "c@MU=0.1,SCHEDULE=constant",
        "c@MU=0.1,SCHEDULE=sigmoid",
        "c@MU=1.0,SCHEDULE=constant",
        "c@MU=1.0,SCHEDULE=sigmoid",
    ]
    assert runs["c@MU=1.0,SCHEDULE=sigmoid"].opts == (
        "MODEL.I2V.GRL.MU", "1.0", "MODEL.I2V.GRL.SCHEDULE", "sigmoid"
    )  # fmt: skip


def dry_run(reproduce, capsys, tmp_path, *args):
    results = tmp_path / "results.json"
    reproduce.main([*args, "--results", str(results), "--dry-run"])
    return capsys.readouterr().out


def test_dry_run_of_table_3_plans_its_five_rows_on_the_default_seeds(reproduce, capsys, tmp_path):
    out = dry_run(reproduce, capsys, tmp_path, "--table", "3")
    planned = out.split("runs to train: ")[1].split()
    names = [
        "video_swin_source_only", "video_swin_spatial", "video_swin_oracle",
        "video_swin_joint_labeled", "video_swin_joint_labeled_spatial",
    ]  # fmt: skip
    assert "25 runs to train" in out
    assert [p.rstrip(",") for p in planned] == [f"{n}/{s}" for n in names for s in range(5)]


def test_dry_run_of_a_suite_with_controls(reproduce, capsys, tmp_path):
    out = dry_run(reproduce, capsys, tmp_path, "--suite", "deeplab", "--controls", "--seeds", "0")
    assert "4 runs to train: deeplab_source_only/0, deeplab_global/0, " in out
    # Its BatchNorm sees the videos, and the weight average's statistics are re-estimated.
    assert "deeplab_global_bn_update_mu0 seed 0: the same run as deeplab_source_only" in out
    assert "deeplab_global_mu0 seed 0: the same run as deeplab_source_only" in out
    reproduce.main(
        ["--suite", "deeplab", "--controls", "--seeds", "0", "--dry-run",
         "--results", str(tmp_path / "results.json"),
         "--opts", "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "0"]
    )  # fmt: skip
    kept = capsys.readouterr().out
    assert "deeplab_global_bn_update_mu0/0" in kept  # its statistics are kept: trained


def test_table_6_has_no_k19_row_and_unknown_only_names_fail(reproduce, capsys, tmp_path):
    out = dry_run(reproduce, capsys, tmp_path, "--table", "6", "--seeds", "0")
    assert (
        "4 runs to train: clustered_k2/0, clustered_k5/0, clustered_k11/0, clustered_k22/0" in out
    )
    with pytest.raises(SystemExit):
        dry_run(reproduce, capsys, tmp_path, "--table", "6", "--only", "clustered")
    with pytest.raises(SystemExit):
        dry_run(reproduce, capsys, tmp_path, "--table", "7")  # an export: no synthetic rows


def test_recorded_runs_are_skipped_and_the_tuning_splits_replace_val(reproduce, tmp_path, capsys):
    tuning = tmp_path / "tuning.json"
    tuning.write_text(
        '{"runs": [{"name": "clustered", "config": "configs/synthetic/swin_clustered.yaml", '
        '"seed": 0, "eval_split": "i2v_synth_videos_tune", "mIoU": 1.0, '
        '"opts": ["DATASETS.TEST", "' + reproduce.TUNE_SPLITS + '"]}]}'
    )
    reproduce.main(
        ["--suite", "swin", "--only", "clustered", "spatial", "--tune", "--seeds", "0",
         "--tuning", str(tuning), "--dry-run"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "clustered seed 0: recorded, skipped" in out
    assert "1 runs to train: spatial/0" in out


def test_identical_controls_are_recorded_without_training(reproduce, tmp_path, capsys):
    results, doc = tmp_path / "results.json", tmp_path / "RESULTS.md"
    trained = []
    for name, config, value in [
        ("spatial", "configs/synthetic/swin_spatial.yaml", 21.0),
        ("source_only", "configs/synthetic/swin_source_only.yaml", 18.0),
    ]:
        trained.append(
            {"name": name, "config": config, "seed": 0, "eval_split": "i2v_synth_videos_val",
             "mIoU": value, "opts": [], "collapsed": [], "command": "python ..."}
        )  # fmt: skip
    results.write_text(json.dumps({"runs": trained}))
    doc.write_text("# Results\n")
    reproduce.main(
        ["--suite", "swin", "--only", "spatial", "--controls", "--seeds", "0",
         "--results", str(results), "--doc", str(doc)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "0 runs to train" in out
    assert "spatial vs spatial_mu0 (control, n = 1): +3.00 (1 seed), MDE –, gain no" in out
    (marker,) = [r for r in json.loads(results.read_text())["runs"] if r["name"] == "spatial_mu0"]
    assert marker["identical_to"] == "source_only" and marker["opts"] == ["MODEL.I2V.GRL.MU", "0.0"]
    assert "| spatial_mu0 | 18.00 | 0 |" in doc.read_text()

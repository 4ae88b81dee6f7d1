"""tools/reproduce.py plans: controls for adversarial rows only, grids, skipping recorded runs."""

import pytest

from tests.helpers.tools import load_tool


@pytest.fixture(scope="module")
def reproduce():
    return load_tool("reproduce")


def test_controls_are_added_for_adversarial_rows_only(reproduce):
    runs = reproduce.with_controls(reproduce.SUITES["swin"])
    assert {"spatial_mu0", "global_mu0", "clustered_mu0"} <= set(runs)
    assert "source_only_mu0" not in runs and "oracle_mu0" not in runs
    control = runs["clustered_mu0"]
    assert control.config == runs["clustered"].config
    assert control.opts[-2:] == ("MODEL.I2V.GRL.MU", "0.0")
    deeplab = reproduce.with_controls(reproduce.SUITES["deeplab"])
    assert deeplab["deeplab_global_bn_update_mu0"].opts == (
        "MODEL.I2V.UNLABELED_BN", "update", "MODEL.I2V.GRL.MU", "0.0"
    )  # fmt: skip


def test_grid_names_every_point(reproduce):
    runs = reproduce.with_grid(
        {"c": reproduce.RunSpec("c", "x.yaml")},
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

"""experiments.records and runner: merging and resuming, controls recorded as identical to
their reference, records made from final_results.json (per-sequence figures kept)."""

from i2v_plugin.experiments.records import (
    identical_record,
    load_runs,
    merge_runs,
    recorded,
    resolved,
    save_runs,
    seed_values,
)
from i2v_plugin.experiments.runner import records_from_results


def record(name, seed, miou, split="i2v_synth_videos_val", opts=()):
    return {
        "name": name,
        "config": f"c/{name}.yaml",
        "seed": seed,
        "eval_split": split,
        "mIoU": miou,
        "opts": list(opts),
        "command": f"python tools/train_net.py --config-file c/{name}.yaml SEED {seed}",
    }


def test_rerun_replaces_the_same_run_and_seed(tmp_path):
    merged = merge_runs([record("a", 0, 10.0)], [record("a", 0, 12.0), record("b", 0, 5.0)])
    assert sorted((r["name"], r["mIoU"]) for r in merged) == [("a", 12.0), ("b", 5.0)]
    path = str(tmp_path / "results.json")
    save_runs(path, merged)
    assert load_runs(path) == merged and load_runs(str(tmp_path / "none.json")) == []


def test_a_run_is_recorded_with_the_same_overrides_in_any_order():
    runs = [record("x", 0, 1.0, opts=["MODEL.I2V.GRL.MU", "0.0", "SOLVER.MAX_ITER", "1000"])]
    assert recorded(
        runs, "x", "c/x.yaml", 0, ["SOLVER.MAX_ITER", "1000", "MODEL.I2V.GRL.MU", "0.0"]
    )
    assert not recorded(runs, "x", "c/x.yaml", 0, ["MODEL.I2V.GRL.MU", "0.0"])
    assert not recorded(
        runs, "x", "c/x.yaml", 1, ["MODEL.I2V.GRL.MU", "0.0", "SOLVER.MAX_ITER", "1000"]
    )


def marker(seed, reference_opts=()):
    return identical_record(
        "x_mu0", "c/x.yaml", seed, ["MODEL.I2V.GRL.MU", "0.0"], "src", "c/src.yaml", reference_opts
    )


def test_an_identical_control_takes_its_references_figures_seed_by_seed():
    runs = [record("src", s, v) for s, v in enumerate((10.0, 20.0, 30.0))]
    runs += [record("src", 0, 90.0, split="i2v_synth_images_val")]
    runs += [marker(0), marker(1), marker(5)]  # no source-only seed 5 recorded
    values = seed_values(runs)
    assert values[("x_mu0", "i2v_synth_videos_val")] == {0: 10.0, 1: 20.0}
    assert values[("x_mu0", "i2v_synth_images_val")] == {0: 90.0}
    copies = [r for r in resolved(runs) if r["name"] == "x_mu0"]
    assert all(r["identical_to"] == "src" for r in copies)
    assert recorded(runs, "x_mu0", "c/x.yaml", 5, ["MODEL.I2V.GRL.MU", "0.0"])  # not planned again


def test_the_reference_must_have_the_recorded_overrides():
    runs = [record("src", 0, 10.0, opts=["SOLVER.MAX_ITER", "1000"]), marker(0)]
    assert ("x_mu0", "i2v_synth_videos_val") not in seed_values(runs)
    runs.append(marker(1, ["SOLVER.MAX_ITER", "1000"]))
    runs.append(record("src", 1, 11.0, opts=["SOLVER.MAX_ITER", "1000"]))
    assert seed_values(runs)[("x_mu0", "i2v_synth_videos_val")] == {1: 11.0}


def test_a_trained_record_of_the_control_takes_precedence():
    runs = [record("src", 0, 10.0), record("x_mu0", 0, 12.0), marker(0)]
    assert seed_values(runs)[("x_mu0", "i2v_synth_videos_val")] == {0: 12.0}


def test_records_from_final_results_keep_per_sequence_figures():
    final = {
        "iteration": 2000,
        "results": {
            "i2v_synth_videos_val": {
                "sem_seg": {"mIoU": 12.34567},
                "per_sequence": {"video_000": 10.0, "video_001": 14.0},
            },
            "i2v_synth_images_val": {"sem_seg": {"mIoU": 80.0}},
        },
        "discriminators": {"spatial": {"collapsed": True}, "cluster": {"collapsed": False}},
    }
    out = records_from_results(final, "x", "c/x.yaml", 3, ["A", "1"], "python ...")
    videos, images = out
    assert videos["mIoU"] == 12.346 and videos["per_sequence"] == {
        "video_000": 10.0,
        "video_001": 14.0,
    }
    assert "per_sequence" not in images
    assert videos["collapsed"] == ["spatial"] and videos["opts"] == ["A", "1"]
    assert (videos["seed"], videos["iteration"], videos["eval_split"]) == (
        3,
        2000,
        "i2v_synth_videos_val",
    )

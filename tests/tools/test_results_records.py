"""tools/results_records.py: mean ± std over seeds and the generated region of docs/RESULTS.md."""

import pytest
from results_records import (
    merge_runs,
    recorded,
    render_controls,
    summarize,
    update_results_doc,
)


def record(name, seed, miou, split="i2v_synth_videos_val"):
    command = f"python tools/train_net.py --config-file c/{name}.yaml SEED {seed}"
    return {
        "name": name,
        "config": f"c/{name}.yaml",
        "seed": seed,
        "eval_split": split,
        "mIoU": miou,
        "command": command,
    }


def test_summary_is_mean_and_sample_std_over_seeds():
    (row,) = summarize([record("a", 0, 10.0), record("a", 1, 20.0), record("a", 2, 30.0)])
    assert row["mean"] == pytest.approx(20.0) and row["std"] == pytest.approx(10.0)
    assert row["seeds"] == [0, 1, 2]


def test_rerun_replaces_the_same_run_and_seed():
    merged = merge_runs([record("a", 0, 10.0)], [record("a", 0, 12.0), record("b", 0, 5.0)])
    assert sorted((r["name"], r["mIoU"]) for r in merged) == [("a", 12.0), ("b", 5.0)]


def test_doc_region_is_regenerated_and_the_rest_kept(tmp_path):
    doc = tmp_path / "RESULTS.md"
    doc.write_text("# Results\nintro\n<!-- results:begin -->\nold\n<!-- results:end -->\noutro\n")
    update_results_doc(str(doc), [record("a", 1, 30.0), record("a", 0, 10.0)])
    text = doc.read_text()
    assert text.startswith("# Results\nintro\n") and text.endswith("outro\n")
    assert "old" not in text and "20.00 ± 14.14" in text
    assert "- a: `python tools/train_net.py --config-file c/a.yaml SEED 0`" in text


def test_adversarial_rows_are_set_against_their_controls_and_claims_need_a_margin(tmp_path):
    runs = [record("x", s, v) for s, v in enumerate((20.0, 21.0, 22.0))]
    runs += [record("x_mu0", s, v) for s, v in enumerate((19.0, 20.0, 21.0))]  # gain 1 = std
    runs += [record("y", s, v) for s, v in enumerate((30.0, 30.5, 31.0))]
    runs += [record("y_mu0", s, v) for s, v in enumerate((20.0, 20.5, 21.0))]
    table = render_controls(runs)
    assert "| x | i2v_synth_videos_val | 21.00 ± 1.00 | 20.00 ± 1.00 | +1.00 | 1.00 | no |" in table
    assert "| y | i2v_synth_videos_val | 30.50 ± 0.50 | 20.50 ± 0.50 | +10.00 | 0.50 | yes |" in (
        table
    )
    assert "x_mu0 |" not in table.split("\n", 2)[2]  # controls are not rows of their own
    doc = tmp_path / "RESULTS.md"
    update_results_doc(str(doc), runs)
    assert "Adversarial rows against their controls" in doc.read_text()


def test_collapsed_discriminators_are_listed_per_seed():
    bad = {**record("x", 1, 5.0), "collapsed": ["global"]}
    (row,) = summarize([record("x", 0, 6.0), bad])
    assert row["collapsed"] == ["1: global"]


def test_a_run_is_recorded_only_with_the_same_overrides():
    runs = [{**record("x", 0, 1.0), "opts": ["MODEL.I2V.GRL.MU", "0.3"]}]
    assert recorded(runs, "x", "c/x.yaml", 0, ["MODEL.I2V.GRL.MU", "0.3"])
    assert not recorded(runs, "x", "c/x.yaml", 0, ["MODEL.I2V.GRL.MU", "1.0"])
    assert not recorded(runs, "x", "c/x.yaml", 1, ["MODEL.I2V.GRL.MU", "0.3"])


def test_paper_table_regions_get_their_own_rows_only(tmp_path):
    doc = tmp_path / "RESULTS.md"
    doc.write_text("<!-- table6:begin -->\n<!-- table6:end -->\n")
    runs = [record("clustered_k2", 0, 5.0), record("other", 0, 9.0)]
    update_results_doc(str(doc), runs, tables={"table6": ["clustered_k2"], "table4": ["other"]})
    text = doc.read_text()
    table6 = text.split("<!-- table6:begin -->")[1].split("<!-- table6:end -->")[0]
    assert "clustered_k2" in table6 and "| other |" not in table6
    assert "table4:begin" not in text  # a region the doc does not have is not added

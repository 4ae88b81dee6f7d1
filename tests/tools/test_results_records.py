"""tools/results_records.py: mean ± std over seeds and the generated region of docs/RESULTS.md."""

import pytest
from results_records import merge_runs, summarize, update_results_doc


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

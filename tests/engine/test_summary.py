"""Result summaries: ``final_results.json`` holds the record, and a write that fails part-way
keeps the previous file and leaves no other file in OUTPUT_DIR."""

import json
import os

import pytest
from detectron2.config import CfgNode

from i2v_plugin.engine.summary import (
    format_results_table,
    per_sequence_scores,
    save_final_results,
)
from i2v_plugin.evaluation.video_evaluator import PER_SEQUENCE_CSV


def test_final_results_are_written_whole_or_not_at_all(tmp_path):
    cfg = CfgNode({"OUTPUT_DIR": str(tmp_path), "SEED": 3})
    results = {"videos_val": {"sem_seg": {"mIoU": 41.5, "fwIoU": 60.0, "pACC": 70.25}}}
    path = save_final_results(cfg, results, 99, discriminators={"spatial": "ok"})
    expected = {"iteration": 99, "seed": 3, "results": results, "discriminators": {"spatial": "ok"}}
    with open(path) as f:
        assert json.load(f) == expected
    with pytest.raises(TypeError):  # not JSON-serialisable, found half-way through the dump
        save_final_results(cfg, results, 100, discriminators={"spatial": object()})
    with open(path) as f:
        assert json.load(f) == expected
    assert os.listdir(tmp_path) == ["final_results.json"]
    assert "41.50" in format_results_table(results)


def test_per_sequence_scores_come_from_the_video_evaluators_csv(tmp_path):
    cfg = CfgNode({"OUTPUT_DIR": str(tmp_path), "DATASETS": {"TEST": ("images", "videos")}})
    folder = tmp_path / "inference" / "videos"
    folder.mkdir(parents=True)
    (folder / PER_SEQUENCE_CSV).write_text(
        "sequence,frames,mIoU\nseq_b,12,40.123456\nseq_a,12,nan\nseq_c,12,75.5\n"
    )
    # images has no per-sequence file (Detectron2's image evaluator): it is left out.
    assert per_sequence_scores(cfg) == {"videos": {"seq_b": 40.1235, "seq_c": 75.5}}

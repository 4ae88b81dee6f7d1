"""Result summaries: ``final_results.json`` holds the record, and a write that fails part-way
keeps the previous file and leaves no other file in OUTPUT_DIR."""

import json
import os

import pytest
from detectron2.config import CfgNode

from i2v_plugin.engine.summary import format_results_table, save_final_results


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

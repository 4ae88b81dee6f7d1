"""tools/benchmark.py: the predict suite runs end to end on generated frames and writes its
figures with the machine they were measured on; options of one suite are refused by others."""

import json

import pytest

from tests.helpers.tools import load_tool


@pytest.mark.slow
def test_predict_suite_writes_figures_on_generated_frames(tmp_path):
    out = tmp_path / "predict.json"
    load_tool("benchmark").main(
        ["--suite", "predict", "--out", str(out), "--rounds", "2", "--frame-size", "48"]
    )
    figures = json.loads(out.read_text())
    assert figures["suite"] == "predict" and figures["device"] == "cpu"
    assert figures["num_frames"] == 2 * figures["batch_size"]
    assert figures["clip"] == "generated 48 px"
    assert figures["predict_fps"] > 0 and figures["model_fps"] > 0
    ratio = figures["predict_fps"] / figures["model_fps"]
    assert figures["predict_vs_model"] == pytest.approx(ratio)


def test_predict_options_are_refused_by_other_suites(tmp_path, capsys):
    with pytest.raises(SystemExit):
        load_tool("benchmark").main(
            ["--suite", "train", "--out", str(tmp_path / "x.json"), "--frame-size", "480"]
        )
    assert "--suite predict only" in capsys.readouterr().err

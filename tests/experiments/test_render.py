"""experiments.render: the generated regions of docs/RESULTS.md (per eval split, paired
comparisons, identical controls, paper tables beside their synthetic rows, tuning)."""

import textwrap

import pytest

from i2v_plugin.experiments.doc import update_doc
from i2v_plugin.experiments.manifest import load_manifest
from i2v_plugin.experiments.records import identical_record
from i2v_plugin.experiments.render import render_paper_table, render_results

MANIFEST_TEXT = """
experiments:
  so: {config: configs/a.yaml, family: f}
  x: {config: configs/a.yaml, family: f}
  y: {config: configs/a.yaml, family: f}
  orc: {config: configs/a.yaml, family: f}
families:
  f: {source_only: so, upper_bound: orc}
comparisons:
  - [x, y]
tables:
  9:
    title: a test table
    columns: [Adv, Test]
    notes: [the paper contradicts itself here]
    rows:
      - {cells: ["✗", V], paper: "10.0", config: configs/a.yaml, synthetic: so}
      - {cells: ["✓", V], paper: "12.5", delta: "+2.50", delta_vs: 1, config: configs/a.yaml,
         synthetic: x, note: printed twice}
      - {cells: ["✓", I], paper: "40.0", config: configs/a.yaml, synthetic: y,
         synthetic_split: images}
"""


@pytest.fixture
def manifest(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "a.yaml").write_text("MODEL: {}\n")
    path = tmp_path / "configs" / "experiments.yaml"
    path.write_text(textwrap.dedent(MANIFEST_TEXT))
    return load_manifest(str(path))


def record(name, seed, miou, split="videos"):
    return {
        "name": name,
        "config": "configs/a.yaml",
        "seed": seed,
        "eval_split": split,
        "mIoU": miou,
        "opts": [],
        "collapsed": [],
        "command": f"python tools/train_net.py --config-file configs/a.yaml SEED {seed} #{name}",
    }


def series(name, values, split="videos"):
    return [record(name, s, v, split) for s, v in enumerate(values)]


RUNS = (
    series("so", (10.0, 20.0, 30.0))
    + series("x", (12.0, 22.0, 32.0))  # +2 every seed: a claimed gain
    + series("y", (20.0, 5.0, 31.0))
    + series("orc", (50.0, 60.0, 70.0))
    + series("so", (80.0, 81.0, 82.0), split="images")
)


def test_rows_and_comparisons_per_split(manifest):
    text = render_results(RUNS, manifest)
    assert "**images**" in text and "**videos**" in text
    assert text.index("**images**") < text.index("**videos**")
    videos = text.split("**videos**")[1]
    assert "| x | 22.00 ± 10.00 | 0, 1, 2 | 5.0% [5.0%, 5.0%] | - | 9.2: 12.5 |  |" in videos
    assert "| x | so (source-only) | 3 | +2.00 [+2.00, +2.00] | 0.00 | yes |" in videos
    assert "| x | y (named) | 3 |" in videos
    assert "| orc | so (source-only) | 3 | +40.00 [+40.00, +40.00] | 0.00 | yes |" in videos
    assert "95% paired t-interval" in text and "- x: `python" in text


def test_an_identical_control_is_shown_with_its_references_figures(manifest):
    runs = RUNS + [
        identical_record("x_mu0", "configs/a.yaml", s, ["MODEL.I2V.GRL.MU", "0.0"], "so",
                         "configs/a.yaml", [])
        for s in (0, 1, 2)
    ]  # fmt: skip
    videos = render_results(runs, manifest).split("**videos**")[1]
    assert "| x_mu0 | 20.00 ± 10.00 | 0, 1, 2 |" in videos
    assert "seeds 0, 1, 2: = so (same run at mu 0, not trained)" in videos
    assert "| x | x_mu0 (control) | 3 | +2.00 [+2.00, +2.00] | 0.00 | yes |" in videos
    assert "- x_mu0: not trained, the same run as so" in render_results(runs, manifest)


def test_paper_table_rows_stand_beside_their_synthetic_rows(manifest):
    text = render_paper_table(RUNS, manifest, 9)
    assert "Paper's Table 9: a test table" in text
    videos = text.split("**videos**")[1].split("**")[0]
    assert (
        "| ✓ | V | 12.5 | +2.50 | x | 22.00 ± 10.00 | +2.00 [+2.00, +2.00] vs so | 0.00 | yes |"
        in (videos)
    )
    assert "| ✗ | V | 10.0 | – | so | 20.00 ± 10.00 | – |" in videos
    assert "| I |" not in videos  # a row of another test set
    images = text.split("**images**")[1].split("**videos**")[0]
    assert "| ✓ | I | 40.0 | – | y | not run |" in images
    assert "- Row 2: printed twice" in text and "- the paper contradicts itself here" in text


def test_doc_regions_are_regenerated_and_the_rest_kept(manifest, tmp_path):
    doc = tmp_path / "RESULTS.md"
    doc.write_text(
        "# Results\nintro\n<!-- results:begin -->\nold\n<!-- results:end -->\nmiddle\n"
        "<!-- table9:begin -->\nold table\n<!-- table9:end -->\noutro\n"
    )
    update_doc(str(doc), RUNS, manifest)
    text = doc.read_text()
    assert text.startswith("# Results\nintro\n<!-- results:begin -->\n")
    assert "\nmiddle\n<!-- table9:begin -->\nPaper's Table 9" in text and text.endswith("outro\n")
    assert "old" not in text
    assert "table1:begin" not in text  # a region the doc does not have is not added


def test_tuning_region_lists_grid_points(tmp_path, manifest):
    doc = tmp_path / "RESULTS.md"
    doc.write_text("# Results\n")
    runs = [{**record("x@MU=0.1", 0, 13.44), "config": "c/x.yaml", "collapsed": ["global"]}]
    update_doc(str(doc), runs, manifest, region="tuning")
    text = doc.read_text()
    assert "<!-- tuning:begin -->" in text
    assert "| x@MU=0.1 | `c/x.yaml` | videos | 13.44 ± 0.00 | 0 | 0: global |" in text


def test_gap_figure_leaves_out_the_ends_controls_and_splits_without_a_gap(manifest, tmp_path):
    """gap_series: rows other than a family's two ends, on the splits where the upper bound is
    above source-only, with the tables' shares; update_doc writes the PNG beside the doc."""
    from PIL import Image

    from i2v_plugin.experiments.compare import gap_share
    from i2v_plugin.experiments.figure import FIGURE_NAME, gap_series

    runs = (
        series("so", [10.0, 11.0, 12.0])
        + series("orc", [20.0, 22.0, 21.0])
        + series("x", [15.0, 16.0, 17.5])
        + series("x_mu0", [10.5, 11.0, 12.5])
        + series("so", [80.0, 81.0, 82.0], split="images")
        + series("orc", [70.0, 71.0, 72.0], split="images")
        + series("x", [79.0, 80.0, 81.0], split="images")
    )
    shares = gap_series(runs, manifest)
    assert list(shares) == ["videos"]
    assert list(shares["videos"]) == ["x"]
    rows = {"so": [10.0, 11.0, 12.0], "orc": [20.0, 22.0, 21.0], "x": [15.0, 16.0, 17.5]}
    values = {name: dict(enumerate(vs)) for name, vs in rows.items()}
    assert shares["videos"]["x"] == gap_share(manifest, "x", values)
    assert 0.4 < shares["videos"]["x"].share < 0.6

    doc = tmp_path / "docs" / "RESULTS.md"
    doc.parent.mkdir()
    update_doc(str(doc), runs, manifest)
    with Image.open(doc.parent / FIGURE_NAME) as image:
        assert image.format == "PNG" and image.width > 400 and image.height > 100


def test_no_gap_figure_without_a_share(manifest, tmp_path):
    """Only source-only records: no share anywhere, so no figure is written."""
    from i2v_plugin.experiments.figure import FIGURE_NAME

    doc = tmp_path / "RESULTS.md"
    update_doc(str(doc), series("so", [10.0, 11.0]), manifest)
    assert doc.exists() and not (tmp_path / FIGURE_NAME).exists()


def test_overview_sets_every_row_against_source_only(manifest):
    """One line per row but the source-only one; intervals that exclude 0 in bold whatever
    their sign; gap shares on the two target splits only where the split exists."""
    from i2v_plugin.experiments.overview import render_overview

    split = "i2v_synth_videos_val"
    runs = (
        series("so", [10.0, 11.0, 12.0], split)
        + series("orc", [20.0, 22.0, 21.0], split)
        + series("x", [12.0, 13.1, 13.9], split)
        + series("y", [9.0, 10.2, 10.8], split)
        + series("so", [80.0, 81.0, 82.0], "i2v_synth_images_val")
        + series("x", [80.5, 80.6, 82.4], "i2v_synth_images_val")
    )
    text = render_overview(runs, manifest)
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[0] == ("| row | n | videos-val Δ | images-val Δ | gap closed, videos-val |")
    rows = {line.split(" | ")[0][2:]: line for line in lines[2:]}
    assert set(rows) == {"x", "y", "orc"}
    assert "**+2.00 [" in rows["x"]  # 2.0, 2.1, 1.9: the interval excludes 0
    assert "**-1.00 [" in rows["y"]  # a loss is bold too
    assert "+0.17 [" in rows["x"] and "**+0.17" not in rows["x"]  # images: contains 0
    assert rows["orc"].endswith("| 100% [100, 100] |")
    assert rows["y"].split(" | ")[3] == "–"  # no images-val record for y

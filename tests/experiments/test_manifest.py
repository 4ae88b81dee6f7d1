"""configs/experiments.yaml: it loads, every experiment and paper config builds, the paper's
tables are complete and self-consistent, and a bad entry is reported by name."""

import os
import textwrap

import pytest

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.experiments.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest
from tests.helpers import REPO_ROOT

MANIFEST = load_manifest(DEFAULT_MANIFEST)


def test_the_default_manifest_is_the_repository_one():
    assert os.path.samefile(DEFAULT_MANIFEST, os.path.join(REPO_ROOT, "configs/experiments.yaml"))
    assert MANIFEST.seeds == (0, 1, 2, 3, 4)


@pytest.mark.parametrize("name", sorted(MANIFEST.experiments))
def test_every_experiment_config_builds_with_its_overrides(name):
    experiment = MANIFEST.experiments[name]
    cfg = build_cfg(os.path.join(REPO_ROOT, experiment.config), list(experiment.overrides))
    assert cfg.MODEL.META_ARCHITECTURE == "I2VSemanticSegmentor"
    assert experiment.config.startswith("configs/synthetic/")


def test_the_paper_tables_are_tables_1_to_7_and_every_row_has_a_config_or_the_export():
    assert sorted(MANIFEST.tables) == [1, 2, 3, 4, 5, 6, 7]
    assert [len(MANIFEST.tables[n].rows) for n in range(1, 8)] == [5, 9, 5, 8, 2, 4, 2]
    for table in MANIFEST.tables.values():
        for row in table.rows:
            path = row.config or row.export
            assert os.path.isfile(os.path.join(REPO_ROOT, path)), (table.number, row.index)
            if row.config:
                assert build_cfg(os.path.join(REPO_ROOT, row.config)).OUTPUT_DIR
    assert {r.export for r in MANIFEST.tables[7].rows} == {"tools/export_backbone.py"}


def test_every_printed_delta_is_the_difference_to_its_row():
    for table in MANIFEST.tables.values():
        for row in table.rows:
            if row.delta is not None:
                base = table.rows[row.delta_vs - 1]
                assert row.figure - base.figure == pytest.approx(float(row.delta), abs=0.006), (
                    table.number,
                    row.index,
                )


def test_the_paper_figures_as_quoted():
    figures = {n: [r.paper for r in t.rows] for n, t in MANIFEST.tables.items()}
    assert figures[1] == ["32.3", "36.9", "37.7", "32.2", "46.2"]
    assert figures[2][:4] == ["29.98", "25.27", "32.70", "38.53"]
    assert figures[2][4:] == ["25.97", "29.01", "28.15", "32.55", "38.27"]
    assert figures[3] == ["19.35", "30.48", "25.75", "32.46", "33.65"]
    assert figures[4] == ["32.3", "33.7", "44.5", "45.0", "10.35", "10.21", "11.31", "10.10"]
    assert figures[5] == ["33.98", "34.47"]
    assert figures[6] == ["45.57", "47.27", "47.97", "47.25"]
    assert figures[7] == ["26.49", "27.84"]


def test_table_runs_follow_the_paper_numbering():
    names = {n: [e.name for e in MANIFEST.table_experiments(n)] for n in MANIFEST.runnable_tables}
    assert sorted(names) == [1, 2, 3, 4, 5, 6]
    assert names[1] == [
        "deeplab_source_only", "deeplab_global", "deeplab_global_ytbb", "deeplab_oracle",
        "deeplab_image_video_labeled",
    ]  # fmt: skip
    assert len(names[3]) == 5
    assert names[6] == ["clustered_k2", "clustered_k5", "clustered_k11", "clustered_k22"]
    assert "clustered" in [e.name for e in MANIFEST.suite("k_sweep")]  # K = 19: a suite row


def test_the_k_sweep_is_one_config_with_k_overrides():
    for k in (2, 5, 11, 22):
        experiment = MANIFEST.experiments[f"clustered_k{k}"]
        assert experiment.config == MANIFEST.experiments["clustered"].config
        cfg = build_cfg(os.path.join(REPO_ROOT, experiment.config), list(experiment.overrides))
        assert cfg.MODEL.I2V.CLUSTER.ENABLED and cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS == k


def test_families_and_references():
    assert MANIFEST.family_of("deeplab_global").upper_bound == "deeplab_image_video_labeled"
    assert MANIFEST.experiments["clustered_aug"].reference == "source_only_aug"
    assert MANIFEST.experiments["spatial"].reference == "source_only"
    assert MANIFEST.experiments["source_only"].reference is None


def write(tmp_path, text):
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "configs" / "a.yaml").write_text("MODEL: {}\n")
    path = tmp_path / "configs" / "experiments.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_an_unknown_config_is_reported_with_its_entry(tmp_path):
    path = write(
        tmp_path,
        """
        experiments:
          good: {config: configs/a.yaml}
          broken: {config: configs/missing.yaml}
        """,
    )
    with pytest.raises(ManifestError, match=r"experiments\.broken: config 'configs/missing.yaml'"):
        load_manifest(path)


@pytest.mark.parametrize(
    "body, message",
    [
        ("experiments:\n  x: {config: configs/a.yaml, colour: red}\n", r"experiments\.x: unknown"),
        ("experiments:\n  x: {config: configs/a.yaml, overrides: [A]}\n", r"KEY VALUE pairs"),
        ("experiments:\n  x: {config: configs/a.yaml, reference: y}\n", r"reference 'y'"),
        ("comparisons:\n  - [x, y]\n", r"comparisons\[0\]: unknown experiments"),
        (
            "tables:\n  1:\n    columns: [K]\n    rows:\n"
            "      - {cells: ['2'], paper: '1.0', config: configs/nope.yaml}\n",
            r"tables\.1\.rows\[1\]: config 'configs/nope.yaml'",
        ),
        (
            "tables:\n  1:\n    columns: [K]\n    rows:\n"
            "      - {cells: ['2'], paper: '1.0', config: configs/a.yaml, synthetic: z}\n",
            r"tables\.1\.rows\[1\]: synthetic 'z'",
        ),
        (
            "tables:\n  1:\n    columns: [K, Adv]\n    rows:\n"
            "      - {cells: ['2'], paper: '1.0', config: configs/a.yaml}\n",
            r"1 cells for 2 columns",
        ),
        (
            "tables:\n  1:\n    columns: [K]\n    rows:\n"
            "      - {cells: ['2'], paper: 1.5, config: configs/a.yaml}\n",
            r"quoted as printed",
        ),
    ],
)
def test_malformed_entries_are_named(tmp_path, body, message):
    with pytest.raises(ManifestError, match=message):
        load_manifest(write(tmp_path, body))

"""Generator versions: version 3 stays reproducible behind SynthParams.version, version 4 differs.

Byte identity with the original version-3 code was checked by hand when version 4 was written
(datasets/README.md); here version 3's output must stay deterministic, keep v3's layout and cache
key, and differ from version 4's.
"""

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from i2v_plugin.synth.generator import generate_synthetic, is_up_to_date
from i2v_plugin.synth.params import (
    V3_DEFAULTS,
    V3_FIELDS,
    V4_ONLY_FIELDS,
    SynthParams,
    default_params,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_COUNTS = dict(
    num_train_images=3,
    num_val_images=2,
    num_tune_images=1,
    num_train_videos=1,
    num_val_videos=1,
    num_tune_videos=1,
    frames_per_video=3,
)
V3_TINY = dataclasses.replace(default_params(3), **TINY_COUNTS)
V4_TINY = dataclasses.replace(default_params(4), **TINY_COUNTS, eval_frames_per_video=3)


def all_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def v3_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("v3") / "i2v_synth"
    return generate_synthetic(root, V3_TINY, workers=1, progress=False)


def test_version_3_defaults_are_v3s_values():
    params = default_params(3)
    assert params.version == 3
    for name, value in V3_DEFAULTS.items():
        assert getattr(params, name) == value
    # Fields that did not change keep one default for both versions.
    assert params.num_train_images == SynthParams().num_train_images == 4000
    assert SynthParams().version == 4 and SynthParams().num_val_videos >= 200


def test_version_3_is_deterministic_whatever_the_workers(v3_root, tmp_path):
    again = generate_synthetic(tmp_path / "i2v_synth", V3_TINY, workers=2, progress=False)
    first, second = all_bytes(v3_root), all_bytes(again)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_version_3_keeps_v3s_layout_and_cache_key(v3_root):
    listed = sorted(p.name for p in (v3_root / "videos" / "ImageSets").iterdir())
    assert listed == ["train.txt", "tune.txt", "val.txt"]
    assert not (v3_root / "videos" / "families.json").exists()
    stored = json.loads((v3_root / "params.json").read_text())
    assert stored["generator_version"] == 3
    assert sorted(stored["params"]) == sorted(V3_FIELDS)
    assert not set(stored["params"]) & set(V4_ONLY_FIELDS)
    assert is_up_to_date(v3_root, V3_TINY)
    assert not is_up_to_date(v3_root, dataclasses.replace(V3_TINY, version=4))


def test_version_4_writes_other_files_from_the_same_counts(v3_root, tmp_path):
    v4_root = generate_synthetic(tmp_path / "i2v_synth", V4_TINY, workers=1, progress=False)
    v3, v4 = all_bytes(v3_root), all_bytes(v4_root)
    # Images are the same in both versions; every video differs.
    shared_images = [n for n in v3 if n.startswith("images/") and n.endswith(".jpg")]
    assert shared_images and all(v3[n] == v4[n] for n in shared_images)
    videos = [n for n in v3 if n.startswith("videos/mp4/")]
    assert videos and all(v3[n] != v4[n] for n in videos)
    assert len(v4) > len(v3)


def test_version_3_refuses_version_4_fields():
    with pytest.raises(ValueError, match="SynthParams.video_clutter .*version 4 only"):
        dataclasses.replace(V3_TINY, video_clutter=(0, 0))
    with pytest.raises(ValueError, match="SynthParams.version"):
        dataclasses.replace(V3_TINY, version=2)
    with pytest.raises(ValueError, match="Unknown generator version 5"):
        default_params(5)


def load_cli():
    spec = importlib.util.spec_from_file_location(
        "prepare_synthetic", REPO_ROOT / "datasets" / "prepare_synthetic.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("flag", [["--v3"], ["--set", "version=3"]])
def test_cli_v3_starts_from_version_3s_defaults(flag):
    cli = load_cli()
    params = cli.resolve_params(cli.parse_args([*flag, "--set", "num_val_videos=3"]))
    assert params == dataclasses.replace(default_params(3), num_val_videos=3)


def test_cli_default_is_version_4_and_contradictions_are_refused(capsys):
    cli = load_cli()
    assert cli.resolve_params(cli.parse_args([])) == default_params(4)
    assert cli.main(["--v3", "--set", "version=4"]) == 2
    assert "--v3 contradicts --set version=4" in capsys.readouterr().err

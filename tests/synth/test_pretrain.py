"""The pretraining task: a disjoint class set, deterministic on-the-fly samples, and the cached
folder the registered splits read."""

import itertools
import json

import numpy as np
import pytest
from PIL import Image

from i2v_plugin.data.datasets.synth_classes import PRETRAIN_CLASSES, SYNTH_CLASSES
from i2v_plugin.synth.pretrain import (
    PretrainSettings,
    ensure_pretrain_dataset,
    render_pretrain_sample,
)
from i2v_plugin.synth.pretrain_shapes import rasterize_pretrain_shape
from i2v_plugin.synth.shapes import SHAPE_NAMES, Pose, rasterize_shape

TINY = PretrainSettings(num_train=12, num_val=4)
POSE = Pose(cx=47.5, cy=47.5, size=80.0, angle=0.4)


def test_class_lists_are_disjoint_but_for_background():
    assert len(PRETRAIN_CLASSES) == len(set(PRETRAIN_CLASSES)) == 11
    assert PRETRAIN_CLASSES[0] == SYNTH_CLASSES[0] == "background"
    assert not set(PRETRAIN_CLASSES[1:]) & set(SYNTH_CLASSES[1:])


def test_pretraining_shapes_are_substantial_and_differ_from_each_other_and_the_benchmarks():
    masks = {n: rasterize_pretrain_shape(n, POSE, 96, 96) for n in PRETRAIN_CLASSES[1:]}
    circle = np.hypot(*(np.indices((96, 96)) - 47.5)) <= 41
    for name, mask in masks.items():
        assert 0.15 < mask.sum() / circle.sum() <= 1.0, name
        assert not (mask & ~circle).any(), f"{name} leaves its enclosing circle"
    others = {n: rasterize_shape(n, POSE, 96, 96) for n in SHAPE_NAMES}
    for (a, ma), (b, mb) in itertools.combinations({**masks, **others}.items(), 2):
        iou = (ma & mb).sum() / (ma | mb).sum()
        assert iou < 0.9, f"{a} and {b} look alike (IoU {iou:.2f})"
    with pytest.raises(ValueError, match="Unknown pretraining shape 'disk'"):
        rasterize_pretrain_shape("disk", POSE, 8, 8)


def test_samples_are_deterministic_and_cover_every_class():
    image, label = render_pretrain_sample(3, 5, 48)
    assert image.shape == (48, 48, 3) and image.dtype == np.uint8
    assert label.shape == (48, 48) and label.dtype == np.uint8
    again = render_pretrain_sample(3, 5, 48)
    np.testing.assert_array_equal(image, again[0])
    np.testing.assert_array_equal(label, again[1])
    assert not np.array_equal(image, render_pretrain_sample(4, 5, 48)[0])
    assert not np.array_equal(image, render_pretrain_sample(3, 5, 48, split="val")[0])
    seen = set()
    for index in range(10):
        _, label = render_pretrain_sample(0, index, 64)
        assert label.max() <= 10
        assert 1 + index % 10 in np.unique(label), "the topmost shape's class is visible"
        seen |= set(np.unique(label).tolist())
    assert seen == set(range(11))
    with pytest.raises(ValueError, match="Unknown pretraining split 'test'"):
        render_pretrain_sample(0, 0, 32, split="test")


def test_folder_holds_the_rendered_samples_and_is_cached(tmp_path):
    root = ensure_pretrain_dataset(tmp_path / "pre", TINY, workers=1, progress=False)
    assert json.loads((root / "classes.json").read_text()) == {"classes": list(PRETRAIN_CLASSES)}
    for split, count in (("train", 12), ("val", 4)):
        names = sorted(p.name for p in (root / "images" / split).iterdir())
        assert names == [f"{i:06d}.jpg" for i in range(count)]
    rgb, label = render_pretrain_sample(0, 7, 64)
    stored = np.asarray(Image.open(root / "images" / "stuffthingmaps" / "train" / "000007.png"))
    np.testing.assert_array_equal(stored, label)
    jpeg = np.asarray(Image.open(root / "images" / "train" / "000007.jpg"))
    # The JPEG (q95) is its own render, not another one.
    other_rgb, _ = render_pretrain_sample(0, 8, 64)
    own, other = (np.abs(jpeg.astype(int) - x).mean() for x in (rgb, other_rgb))
    assert own < 0.1 * other
    stamp = (root / "params.json").stat().st_mtime_ns
    ensure_pretrain_dataset(root, TINY, workers=1, progress=False)
    assert (root / "params.json").stat().st_mtime_ns == stamp
    bigger = PretrainSettings(num_train=13, num_val=4)
    ensure_pretrain_dataset(root, bigger, workers=2, progress=False)
    assert len(list((root / "images" / "train").iterdir())) == 13
    # Workers do not change the files.
    other = ensure_pretrain_dataset(tmp_path / "other", bigger, workers=1, progress=False)
    for path in sorted((root / "images").rglob("*.*")):
        assert path.read_bytes() == (other / path.relative_to(root)).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "pre"], "no staging left"


def test_invalid_settings_and_foreign_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="PretrainSettings.size"):
        PretrainSettings(size=4)
    with pytest.raises(ValueError, match="PretrainSettings.objects"):
        PretrainSettings(objects=(2, 1))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="notes.txt"):
        ensure_pretrain_dataset(tmp_path / "mine", TINY, workers=1, progress=False)

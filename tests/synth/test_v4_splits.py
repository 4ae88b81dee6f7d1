"""Version 4's video splits: sizes, class balance, paired scenes, sealed families, factor splits."""

import dataclasses
from collections import Counter

import numpy as np
import pytest

from i2v_plugin.synth.families import SEALED_FAMILY_NAMES
from i2v_plugin.synth.generator import make_image_sample
from i2v_plugin.synth.params import SynthParams, num_videos, video_splits
from i2v_plugin.synth.sealed_plan import assigned_family
from i2v_plugin.synth.splits import VIDEO_SPLITS
from i2v_plugin.synth.video_v4 import render_video

TINY = SynthParams(frames_per_video=4, eval_frames_per_video=3)
STEADY = dataclasses.replace(TINY, camera_shake=0.0)


def render(params, split, index):
    return render_video(params, VIDEO_SPLITS[split], index)


def test_default_evaluation_splits_are_large_and_class_balanced():
    params = SynthParams()
    assert params.num_val_images >= 1000 and params.num_tune_images >= 1000
    assert 12 <= params.eval_frames_per_video <= 24
    for split in video_splits(params):
        count = num_videos(params, split)
        assert count >= 200, split
        # The topmost object's class cycles over the ten classes: 20 sequences per class.
        classes = Counter(1 + i % 10 for i in range(count))
        assert min(classes.values()) >= 20


@pytest.mark.parametrize("split", ["val", "sealed_val", "style_val", "geometry_val"])
def test_each_sequence_shows_its_round_robin_class(split):
    for index in range(10):
        _, labels, _ = render(TINY, split, index)
        counts = np.bincount(np.concatenate([lab.ravel() for lab in labels]), minlength=11)
        assert int(np.argmax(counts[1:])) + 1 == 1 + index % 10


def test_paired_splits_share_scenes_and_differ_in_pixels():
    for index in range(3):
        val_frames, val_labels, _ = render(STEADY, "val", index)
        geo_frames, geo_labels, _ = render(STEADY, "geometry_val", index)
        for a, b in zip(val_labels, geo_labels, strict=True):
            np.testing.assert_array_equal(a, b)
        diff = np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(val_frames, geo_frames)])
        assert diff > 1
    # tune draws other scenes than val.
    _, tune_labels, _ = render(STEADY, "tune", 0)
    assert not np.array_equal(tune_labels[0], render(STEADY, "val", 0)[1][0])


def test_sealed_evaluation_videos_have_their_assigned_family_and_val_none():
    assigned = Counter()
    for index in range(0, 50, 10):
        plan = render(TINY, "sealed_val", index)[2]
        assert assigned_family(index) in plan.active
        assigned[assigned_family(index)] += 1
        assert render(TINY, "val", index)[2].active == ()
    assert set(assigned) == set(SEALED_FAMILY_NAMES), "blocks of ten cycle over every family"


@pytest.mark.slow
def test_train_videos_mix_sealed_families_with_the_set_probability():
    plans = [render(TINY, "train", i)[2].active for i in range(60)]
    share = np.mean([len(active) for active in plans]) / len(SEALED_FAMILY_NAMES)
    assert 0.15 < share < 0.45  # sealed_train_prob = 0.3
    assert any(a == () for a in plans)
    off = dataclasses.replace(TINY, sealed_train_prob=0.0)
    assert all(render(off, "train", i)[2].active == () for i in range(10))


def test_sealed_families_change_the_pixels_of_the_same_scene():
    changed = 0
    for index in range(0, 50, 10):
        sealed_frames, _, plan = render(STEADY, "sealed_val", index)
        val_frames, _, _ = render(STEADY, "val", index)
        diff = np.mean(
            [np.abs(a.astype(int) - b).mean() for a, b in zip(sealed_frames, val_frames)]
        )
        changed += diff > 2
    assert changed == 5


def test_style_split_has_image_geometry_and_geometry_split_has_video_geometry():
    def foreground(labels):
        return np.mean([(lab > 0).mean() for lab in labels])

    images = np.mean([(make_image_sample(TINY, "val", i)[1] > 0).mean() for i in range(20)])
    style = np.mean([foreground(render(TINY, "style_val", i)[1]) for i in range(10)])
    geometry = np.mean([foreground(render(TINY, "geometry_val", i)[1]) for i in range(10)])
    assert abs(style - images) < 0.25 * images
    assert geometry < 0.6 * images


def test_geometry_split_pixels_are_clean_renders():
    # No noise: two frames of a still scene region are identical where nothing moves.
    still = dataclasses.replace(
        TINY, video_speed=(0.0, 0.0), video_rotation_speed=0.0, video_scale_change=0.0
    )
    frames, _, _ = render(still, "geometry_val", 0)
    np.testing.assert_array_equal(frames[0], frames[-1])
    noisy, _, _ = render(still, "val", 0)
    assert not np.array_equal(noisy[0], noisy[-1])

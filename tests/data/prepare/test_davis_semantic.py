"""DAVIS 2017 instance masks -> semantic masks: the shared class list computed from the
semantics files (through synonyms) and the instance -> class conversion pixel by pixel
(semi-supervised and unsupervised masks), on a tiny tree in the published layout."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from i2v_plugin.data.datasets.classes import load_shared_classes
from i2v_plugin.data.datasets.davis import load_davis_frames
from i2v_plugin.data.label_io import LabelFormatError, read_label_map
from i2v_plugin.data.prepare.davis_semantic import (
    compute_shared_classes,
    load_davis_semantics,
    parse_classes_option,
    prepare_davis_semantic,
)
from i2v_plugin.utils.palette import DAVIS_PALETTE
from tests.helpers.dataset_trees import (
    DAVIS_NUM_FRAMES,
    DAVIS_SEMANTICS,
    DAVIS_SHARED_CLASSES,
    DAVIS_TRAIN,
    DAVIS_VAL,
    instance_mask,
    make_davis_tree,
    write_palette_png,
)

TRAIN, VAL, NUM_FRAMES = DAVIS_TRAIN, DAVIS_VAL, DAVIS_NUM_FRAMES
EXPECTED_CLASSES = DAVIS_SHARED_CLASSES
# The class index each object id must get with EXPECTED_CLASSES, written out by hand.
EXPECTED_IDS = {
    "bmx-bumps": {1: 1, 2: 2},
    "dog-gooses": {1: 3, 2: 0},
    "lab-coat-train": {1: 1, 2: 4, 3: 0},
    "bike-packing": {1: 2, 2: 1, 3: 4},
    "dogs-jump": {1: 3, 2: 3, 3: 1, 4: 0},
    "goat": {1: 0},
}


@pytest.fixture
def davis_root(tmp_path):
    return make_davis_tree(tmp_path)


def semantic_mask(davis_root, seq, frame, folder="Annotations_semantic"):
    path = os.path.join(davis_root, folder, "480p", seq, f"{frame:05d}.png")
    with Image.open(path) as img:
        assert img.mode == "P"
    return read_label_map(path, ("P",))


def expected_semantic(seq, frame, ids=None) -> np.ndarray:
    mask = instance_mask(seq, frame)
    expected = np.zeros_like(mask)
    expected[mask == 255] = 255
    for object_id, class_index in (ids or EXPECTED_IDS[seq]).items():
        expected[mask == object_id] = class_index
    return expected


def test_shared_classes_are_train_val_coco_intersection_through_synonyms(davis_root):
    semantics = load_davis_semantics(os.path.join(davis_root, "davis_semantics.json"))
    assert compute_shared_classes(semantics, TRAIN, VAL) == EXPECTED_CLASSES


def test_conversion_is_exact_pixel_by_pixel_and_the_list_is_stored(davis_root):
    result = prepare_davis_semantic(davis_root, progress=False)
    assert result["classes"] == EXPECTED_CLASSES
    assert result["converted"] == result["total"] == NUM_FRAMES * len(TRAIN + VAL)
    assert load_shared_classes(os.path.join(davis_root, "shared_classes.json")) == EXPECTED_CLASSES
    for seq in TRAIN + VAL:
        for frame in range(NUM_FRAMES):
            np.testing.assert_array_equal(
                semantic_mask(davis_root, seq, frame), expected_semantic(seq, frame)
            )


def test_classes_option_overrides_the_computed_list(davis_root):
    classes = parse_classes_option("dog,motorbike,person")
    assert classes == ["background", "dog", "motorcycle", "person"]
    prepare_davis_semantic(davis_root, classes=classes, progress=False)
    ids = {1: 1, 2: 1, 3: 3, 4: 0}  # dogs-jump: dog, dog, person, horse
    np.testing.assert_array_equal(
        semantic_mask(davis_root, "dogs-jump", 1), expected_semantic("dogs-jump", 1, ids)
    )
    with pytest.raises(ValueError, match="goat"):
        parse_classes_option("dog,goat")


def test_unsupervised_masks_convert_and_unknown_ids_name_the_sequence(davis_root):
    prepare_davis_semantic(davis_root, annotations="Annotations_unsupervised", progress=False)
    np.testing.assert_array_equal(
        semantic_mask(davis_root, "bike-packing", 0, "Annotations_unsupervised_semantic"),
        expected_semantic("bike-packing", 0),
    )
    mask = instance_mask("goat", 1)
    mask[0, 0] = 2  # goat lists only object 1
    write_palette_png(
        os.path.join(davis_root, "Annotations_unsupervised", "480p", "goat", "00001.png"), mask
    )
    with pytest.raises(ValueError, match=r"sequence 'goat' has object ids \[2\].*lists only \[1\]"):
        prepare_davis_semantic(davis_root, annotations="Annotations_unsupervised", progress=False)


def test_rgb_annotation_is_refused_and_palette_png_is_not_an_L_map(davis_root):
    path = os.path.join(davis_root, "Annotations", "480p", "goat", "00000.png")
    with pytest.raises(LabelFormatError, match="mode 'P'"):
        read_label_map(path, ("L",))
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(path)  # an RGB rendering
    with pytest.raises(LabelFormatError, match=r"goat.00000\.png.*mode 'RGB'"):
        prepare_davis_semantic(davis_root, progress=False)


def test_bad_semantics_entries_are_named(davis_root):
    path = os.path.join(davis_root, "davis_semantics.json")
    with open(path, "w") as f:
        json.dump({**DAVIS_SEMANTICS, "goat": {"1": "unicorn"}}, f)
    with pytest.raises(ValueError, match="'goat', object 1: category 'unicorn'"):
        prepare_davis_semantic(davis_root, progress=False)
    with open(path, "w") as f:
        json.dump({k: v for k, v in DAVIS_SEMANTICS.items() if k != "dogs-jump"}, f)
    with pytest.raises(ValueError, match="dogs-jump"):
        prepare_davis_semantic(davis_root, progress=False)


def test_converted_labels_are_what_the_labeled_split_loads(davis_root):
    prepare_davis_semantic(davis_root, progress=False)
    labeled = load_davis_frames(davis_root, "val", "Annotations")
    assert [d["video_id"] for d in labeled] == [s for s in VAL for _ in range(NUM_FRAMES)]
    assert labeled[1]["sem_seg_file_name"] == os.path.join(
        davis_root, "Annotations_semantic", "480p", "bike-packing", "00001.png"
    )
    with Image.open(labeled[1]["sem_seg_file_name"]) as img:  # DAVIS's own palette, kept
        assert img.getpalette() == DAVIS_PALETTE.flatten().tolist()
    # A later class list (e.g. another --classes) makes the old conversion stale.
    prepare_davis_semantic(
        davis_root, classes=["background", "dog"], annotations="Annotations_unsupervised",
        progress=False,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="rerun"):
        load_davis_frames(davis_root, "val", "Annotations")

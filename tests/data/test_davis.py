"""DAVIS 2017: the shared class list computed from the semantics files (through synonyms), the
instance -> class conversion pixel by pixel (semi-supervised and unsupervised masks), and the
registered frame dicts, on a tiny tree in the published layout."""

import json
import os
import uuid

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from i2v_plugin.data.datasets import davis
from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES, load_shared_classes
from i2v_plugin.data.datasets.davis import load_davis_frames, register_all_davis
from i2v_plugin.data.datasets.davis_semantic import (
    compute_shared_classes,
    load_davis_semantics,
    parse_classes_option,
    prepare_davis_semantic,
)
from i2v_plugin.data.label_io import LabelFormatError, read_label_map

TRAIN = ["bmx-bumps", "dog-gooses", "lab-coat-train"]
VAL = ["bike-packing", "dogs-jump", "goat"]
SEMANTICS = {
    "bmx-bumps": {"1": "person", "2": "bike"},
    "dog-gooses": {"1": "dog", "2": "goose"},
    "lab-coat-train": {"1": "person", "2": "cellphone", "3": "car"},
    "bike-packing": {"1": "bicycle", "2": "person", "3": "cellphone"},
    "dogs-jump": {"1": "dog", "2": "dog", "3": "person", "4": "horse"},
    "goat": {"1": "goat"},
}
CATEGORIES = ["person", "bike", "bicycle", "dog", "goose", "cellphone", "car", "goat", "horse"]
# train ∩ val ∩ COCO, COCO order: "bike" is COCO's bicycle, car only in train, horse only in val.
EXPECTED_CLASSES = ["background", "person", "bicycle", "dog", "cell phone"]
NUM_FRAMES = 2
# The class index each object id must get with EXPECTED_CLASSES, written out by hand.
EXPECTED_IDS = {
    "bmx-bumps": {1: 1, 2: 2},
    "dog-gooses": {1: 3, 2: 0},
    "lab-coat-train": {1: 1, 2: 4, 3: 0},
    "bike-packing": {1: 2, 2: 1, 3: 4},
    "dogs-jump": {1: 3, 2: 3, 3: 1, 4: 0},
    "goat": {1: 0},
}


def instance_mask(seq: str, frame: int) -> np.ndarray:
    """6 x 8 mask with background, every object id of ``seq`` and void (255)."""
    ids = [int(k) for k in SEMANTICS[seq]]
    mask = np.zeros((6, 8), np.uint8)
    for n, object_id in enumerate(ids):
        mask[n % 6, (frame + n) % 8 : (frame + n) % 8 + 2] = object_id
    mask[5, 6:] = 255
    return mask


def write_palette_png(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image = Image.fromarray(array)
    image.putpalette([(v * 37) % 256 for v in range(768)])
    image.save(path)


@pytest.fixture
def davis_root(tmp_path):
    root = tmp_path / "DAVIS"
    sets = root / "ImageSets" / "2017"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("\n".join(TRAIN) + "\n")
    (sets / "val.txt").write_text("\n".join(VAL) + "\n")
    (root / "davis_semantics.json").write_text(json.dumps(SEMANTICS))
    categories = {name: {"id": i + 1, "super_category": "x"} for i, name in enumerate(CATEGORIES)}
    (root / "categories.json").write_text(json.dumps(categories))
    for seq in TRAIN + VAL:
        for frame in range(NUM_FRAMES):
            jpg = root / "JPEGImages" / "480p" / seq / f"{frame:05d}.jpg"
            jpg.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((6, 8, 3), 90, np.uint8)).save(jpg)
            for folder in ("Annotations", "Annotations_unsupervised"):
                png = root / folder / "480p" / seq / f"{frame:05d}.png"
                write_palette_png(str(png), instance_mask(seq, frame))
    return str(root)


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
        json.dump({**SEMANTICS, "goat": {"1": "unicorn"}}, f)
    with pytest.raises(ValueError, match="'goat', object 1: category 'unicorn'"):
        prepare_davis_semantic(davis_root, progress=False)
    with open(path, "w") as f:
        json.dump({k: v for k, v in SEMANTICS.items() if k != "dogs-jump"}, f)
    with pytest.raises(ValueError, match="dogs-jump"):
        prepare_davis_semantic(davis_root, progress=False)


def test_frame_dicts_unlabeled_and_labeled(davis_root):
    unlabeled = load_davis_frames(davis_root, "train")
    assert len(unlabeled) == len(TRAIN) * NUM_FRAMES
    first = unlabeled[0]
    assert first == {
        "file_name": os.path.join(davis_root, "JPEGImages", "480p", "bmx-bumps", "00000.jpg"),
        "domain": "video",
        "video_id": "bmx-bumps",
        "frame_index": 0,
    }
    assert [d["frame_index"] for d in unlabeled[:NUM_FRAMES]] == list(range(NUM_FRAMES))
    with pytest.raises(FileNotFoundError, match="prepare_davis_semantic.py"):
        load_davis_frames(davis_root, "val", "Annotations")
    prepare_davis_semantic(davis_root, progress=False)
    labeled = load_davis_frames(davis_root, "val", "Annotations")
    assert [d["video_id"] for d in labeled] == [s for s in VAL for _ in range(NUM_FRAMES)]
    assert labeled[1]["sem_seg_file_name"] == os.path.join(
        davis_root, "Annotations_semantic", "480p", "bike-packing", "00001.png"
    )
    # A later class list (e.g. another --classes) makes the old conversion stale.
    prepare_davis_semantic(
        davis_root, classes=["background", "dog"], annotations="Annotations_unsupervised",
        progress=False,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="rerun"):
        load_davis_frames(davis_root, "val", "Annotations")


def test_registration_metadata_follows_the_stored_list(davis_root, tmp_path, monkeypatch):
    for name in ("davis2017_semantic_train", "davis2017_semantic_val"):
        meta = MetadataCatalog.get(name)
        assert meta.evaluator_type == "video_sem_seg" and meta.ignore_label == 255
        assert meta.stuff_classes == list(DEFAULT_SHARED_CLASSES)
    assert not hasattr(MetadataCatalog.get("davis2017_unlabeled_train"), "evaluator_type")
    prepare_davis_semantic(davis_root, progress=False)
    names = {f"test_davis_{uuid.uuid4().hex}": ("val", "Annotations")}
    monkeypatch.setattr(davis, "_PREDEFINED_SPLITS", names)
    register_all_davis(str(tmp_path))
    (name,) = names
    assert MetadataCatalog.get(name).stuff_classes == EXPECTED_CLASSES
    assert len(DatasetCatalog.get(name)) == len(VAL) * NUM_FRAMES

"""COCO-Stuff 164k -> maps of the shared classes: the remap (every value 0..181 and 255, pixel by
pixel) and the resumable prepare step, on a tiny tree in the published layout."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES, load_shared_classes
from i2v_plugin.data.datasets.coco_stuff import load_coco_stuff_shared
from i2v_plugin.data.label_io import LabelFormatError, read_label_map
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.prepare.coco_stuff import coco_stuff_remap_table, prepare_coco_stuff
from i2v_plugin.data.prepare.shared_classes import save_shared_classes
from tests.helpers.dataset_trees import COCO_IMAGE_IDS, every_value_map, make_coco_tree, write_png

IMAGE_IDS = COCO_IMAGE_IDS
# COCO-Stuff value (category_id - 1) of each shared class, as published (DATASETS.md).
PUBLISHED_VALUES = {
    "person": 0,
    "bicycle": 1,
    "car": 2,
    "motorcycle": 3,
    "bird": 15,
    "cow": 20,
    "dog": 17,
    "horse": 18,
    "backpack": 26,
    "surfboard": 41,
    "cell phone": 76,
}


def expected_remap(labels: np.ndarray, classes) -> np.ndarray:
    """The remap written out independently of the code under test."""
    expected = np.zeros_like(labels)
    expected[labels == 255] = 255
    for index, name in enumerate(classes[1:], start=1):
        expected[labels == PUBLISHED_VALUES[name]] = index
    return expected


@pytest.fixture
def coco_root(tmp_path):
    return make_coco_tree(tmp_path)


def converted(coco_root, split, image_id):
    path = os.path.join(coco_root, "stuffthingmaps_shared", split, f"{image_id}.png")
    with Image.open(path) as img:
        assert img.mode == "L"
    return read_label_map(path, ("L",))


def test_default_classes_remap_every_value_pixel_by_pixel(coco_root):
    summary = prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, progress=False)
    assert summary["train2017"] == {"converted": 2, "reused": 0, "total": 2}
    for split, ids in IMAGE_IDS.items():
        for image_id in ids:
            source = read_label_map(
                os.path.join(coco_root, "stuffthingmaps", split, f"{image_id}.png"), ("L",)
            )
            result = converted(coco_root, split, image_id)
            np.testing.assert_array_equal(result, expected_remap(source, DEFAULT_SHARED_CLASSES))
    # Spot checks against the published ids themselves.
    table = coco_stuff_remap_table(DEFAULT_SHARED_CLASSES)
    assert table[0] == DEFAULT_SHARED_CLASSES.index("person")
    assert table[76] == DEFAULT_SHARED_CLASSES.index("cell phone")
    assert table[4] == 0 and table[16] == 0 and table[19] == 0  # airplane, cat, sheep
    assert table[91] == 0 and table[181] == 0 and table[255] == 255  # stuff, unlabeled


def test_custom_class_list_keeps_each_class_index(coco_root, tmp_path):
    classes_json = tmp_path / "classes.json"
    save_shared_classes(classes_json, ["background", "dog", "person", "cellphone"])
    classes = load_shared_classes(classes_json)
    prepare_coco_stuff(coco_root, classes, splits=["val2017"], progress=False)
    source = every_value_map()
    result = converted(coco_root, "val2017", "000000000139")
    expected = np.zeros_like(source)
    expected[source == 17] = 1  # dog
    expected[source == 0] = 2  # person
    expected[source == 76] = 3  # "cellphone" is COCO's "cell phone"
    expected[source == 255] = 255
    np.testing.assert_array_equal(result, expected)


def test_converted_maps_are_what_the_registered_split_loads(coco_root):
    prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, progress=False)
    dicts = load_coco_stuff_shared(coco_root, "train2017")
    assert [os.path.basename(d["file_name"]) for d in dicts] == [
        f"{i}.jpg" for i in IMAGE_IDS["train2017"]
    ]
    for d in dicts:
        assert d["domain"] == "image"
        assert d["file_name"].startswith(os.path.join(coco_root, "train2017"))
        assert d["sem_seg_file_name"] == os.path.join(
            coco_root, "stuffthingmaps_shared", "train2017",
            os.path.basename(d["file_name"])[:-4] + ".png",
        )  # fmt: skip
    # The mapper reads those maps as training ids.
    mapper = I2VDatasetMapper(is_train=False, augmentations=[], num_classes=12)
    mapped = mapper(dicts[0])
    np.testing.assert_array_equal(
        mapped["sem_seg"].numpy(), converted(coco_root, "train2017", IMAGE_IDS["train2017"][0])
    )


def test_resume_converts_only_missing_and_new_classes_rewrite_all(coco_root):
    prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, progress=False)
    missing = os.path.join(coco_root, "stuffthingmaps_shared", "train2017", "000000000025.png")
    os.remove(missing)
    again = prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, progress=False)
    assert again["train2017"] == {"converted": 1, "reused": 1, "total": 2}
    assert again["val2017"] == {"converted": 0, "reused": 1, "total": 1}
    assert os.path.isfile(missing)

    # An interrupted run leaves an incomplete manifest: the rerun finishes it.
    manifest = os.path.join(coco_root, "stuffthingmaps_shared", "val2017.json")
    with open(manifest) as f:
        content = json.load(f)
    with open(manifest, "w") as f:
        json.dump({**content, "complete": False}, f)
    resumed = prepare_coco_stuff(
        coco_root, DEFAULT_SHARED_CLASSES, splits=["val2017"], progress=False
    )
    assert resumed["val2017"]["converted"] == 0
    with open(manifest) as f:
        assert json.load(f)["complete"] is True

    changed = prepare_coco_stuff(coco_root, ["background", "person"], progress=False)
    assert changed["val2017"]["converted"] == 1 and changed["train2017"]["converted"] == 2
    result = converted(coco_root, "val2017", "000000000139")
    np.testing.assert_array_equal(
        result, expected_remap(every_value_map(), ["background", "person"])
    )


def test_values_outside_coco_stuff_are_rejected_naming_the_file(coco_root):
    bad = os.path.join(coco_root, "stuffthingmaps", "val2017", "000000000139.png")
    write_png(bad, np.full((4, 4), 200, np.uint8))
    with pytest.raises(ValueError, match=r"000000000139\.png.*\[200\]"):
        prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, splits=["val2017"], progress=False)


def test_palette_source_map_is_refused(coco_root):
    bad = os.path.join(coco_root, "stuffthingmaps", "val2017", "000000000139.png")
    write_png(bad, every_value_map(), mode="P")
    with pytest.raises(LabelFormatError, match="mode 'P'"):
        read_label_map(bad, ("L",))
    with pytest.raises(LabelFormatError, match="000000000139.png"):
        prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, splits=["val2017"], progress=False)


def test_class_without_coco_id_and_missing_source_are_errors(tmp_path):
    with pytest.raises(ValueError, match="'goat' is not a COCO thing class"):
        coco_stuff_remap_table(["background", "goat"])
    with pytest.raises(FileNotFoundError, match=r"stuffthingmaps.train2017"):
        prepare_coco_stuff(str(tmp_path), DEFAULT_SHARED_CLASSES, progress=False)

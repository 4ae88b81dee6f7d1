"""COCO-Stuff registration: the dicts of a converted split, the checks on its manifest (present
and complete), images without a converted label, and metadata that follows the manifest, on a
tiny tree in the published layout."""

import json
import os
import uuid

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from i2v_plugin.data.datasets import coco_stuff
from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES
from i2v_plugin.data.datasets.coco_stuff import load_coco_stuff_shared, register_all_coco_stuff
from i2v_plugin.data.prepare.coco_stuff import prepare_coco_stuff
from tests.helpers.dataset_trees import COCO_IMAGE_IDS, make_coco_tree


@pytest.fixture
def coco_root(tmp_path):
    return make_coco_tree(tmp_path)


def test_dicts_point_at_the_converted_maps(coco_root):
    with pytest.raises(FileNotFoundError, match="prepare_coco_stuff.py") as err:
        load_coco_stuff_shared(coco_root, "train2017")
    assert os.path.join("stuffthingmaps_shared", "train2017.json") in str(err.value)
    prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, progress=False)
    dicts = load_coco_stuff_shared(coco_root, "train2017")
    assert dicts == [
        {
            "file_name": os.path.join(coco_root, "train2017", f"{image_id}.jpg"),
            "sem_seg_file_name": os.path.join(
                coco_root, "stuffthingmaps_shared", "train2017", f"{image_id}.png"
            ),
            "domain": "image",
        }
        for image_id in COCO_IMAGE_IDS["train2017"]
    ]


def test_incomplete_conversion_and_missing_labels_are_refused(coco_root):
    prepare_coco_stuff(coco_root, DEFAULT_SHARED_CLASSES, progress=False)
    manifest = os.path.join(coco_root, "stuffthingmaps_shared", "val2017.json")
    with open(manifest) as f:
        content = json.load(f)
    with open(manifest, "w") as f:
        json.dump({**content, "complete": False}, f)
    with pytest.raises(RuntimeError, match="did not finish"):
        load_coco_stuff_shared(coco_root, "val2017")
    with open(manifest, "w") as f:
        json.dump(content, f)
    label = os.path.join(coco_root, "stuffthingmaps_shared", "val2017", "000000000139.png")
    os.remove(label)
    with pytest.raises(FileNotFoundError, match=r"1 images .* no converted label.*000000000139"):
        load_coco_stuff_shared(coco_root, "val2017")


def test_predefined_registration_and_metadata(coco_root, tmp_path, monkeypatch):
    for name in ("coco_stuff_shared_train", "coco_stuff_shared_val"):
        meta = MetadataCatalog.get(name)
        assert meta.evaluator_type == "sem_seg" and meta.ignore_label == 255
        assert meta.stuff_classes == list(DEFAULT_SHARED_CLASSES)
    prepare_coco_stuff(coco_root, ["background", "person", "dog"], progress=False)
    name = f"test_coco_{uuid.uuid4().hex}"
    monkeypatch.setattr(coco_stuff, "_PREDEFINED_SPLITS", {name: "val2017"})
    register_all_coco_stuff(str(tmp_path))
    assert MetadataCatalog.get(name).stuff_classes == ["background", "person", "dog"]
    assert len(DatasetCatalog.get(name)) == 1

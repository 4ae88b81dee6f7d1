"""DAVIS 2017 registration: unlabeled and labeled frame dicts, the checks on the converted labels
(manifest present, complete and made for the stored class list), and metadata that follows the
stored list, on a tiny tree in the published layout."""

import json
import os
import uuid

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from i2v_plugin.data.datasets import davis
from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES
from i2v_plugin.data.datasets.davis import load_davis_frames, register_all_davis
from i2v_plugin.data.prepare.davis_semantic import prepare_davis_semantic
from tests.helpers.dataset_trees import (
    DAVIS_NUM_FRAMES,
    DAVIS_SHARED_CLASSES,
    DAVIS_TRAIN,
    DAVIS_VAL,
    make_davis_tree,
)


@pytest.fixture
def davis_root(tmp_path):
    return make_davis_tree(tmp_path)


def test_unlabeled_frame_dicts(davis_root):
    unlabeled = load_davis_frames(davis_root, "train")
    assert len(unlabeled) == len(DAVIS_TRAIN) * DAVIS_NUM_FRAMES
    assert unlabeled[0] == {
        "file_name": os.path.join(davis_root, "JPEGImages", "480p", "bmx-bumps", "00000.jpg"),
        "domain": "video",
        "video_id": "bmx-bumps",
        "frame_index": 0,
    }
    frame_indices = [d["frame_index"] for d in unlabeled[:DAVIS_NUM_FRAMES]]
    assert frame_indices == list(range(DAVIS_NUM_FRAMES))
    with pytest.raises(FileNotFoundError, match=r"ImageSets.2017.test\.txt"):
        load_davis_frames(davis_root, "test")


def test_labeled_frames_need_a_finished_conversion_for_the_stored_classes(davis_root):
    with pytest.raises(FileNotFoundError, match="prepare_davis_semantic.py"):
        load_davis_frames(davis_root, "val", "Annotations")
    prepare_davis_semantic(davis_root, progress=False)
    labeled = load_davis_frames(davis_root, "val", "Annotations")
    assert [d["video_id"] for d in labeled] == [
        s for s in DAVIS_VAL for _ in range(DAVIS_NUM_FRAMES)
    ]
    assert labeled[3]["sem_seg_file_name"] == os.path.join(
        davis_root, "Annotations_semantic", "480p", "dogs-jump", "00001.png"
    )

    manifest = os.path.join(davis_root, "Annotations_semantic", "manifest.json")
    with open(manifest) as f:
        content = json.load(f)
    with open(manifest, "w") as f:
        json.dump({**content, "complete": False}, f)
    with pytest.raises(RuntimeError, match="did not finish"):
        load_davis_frames(davis_root, "val", "Annotations")
    with open(manifest, "w") as f:
        json.dump({**content, "classes": ["background", "dog"]}, f)
    with pytest.raises(RuntimeError, match="rerun"):
        load_davis_frames(davis_root, "val", "Annotations")

    with open(manifest, "w") as f:
        json.dump(content, f)
    os.remove(labeled[3]["sem_seg_file_name"])
    with pytest.raises(FileNotFoundError, match=r"dogs-jump.00001\.png.*Rerun"):
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
    assert MetadataCatalog.get(name).stuff_classes == DAVIS_SHARED_CLASSES
    assert len(DatasetCatalog.get(name)) == len(DAVIS_VAL) * DAVIS_NUM_FRAMES

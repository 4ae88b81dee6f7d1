"""FBMS-59 registration: ``Def.dat`` parsing (counter from 0 or 1, grey and packed-RGB scales),
the unlabeled frame dicts and the labeled ground-truth frames of a converted split, and
metadata, on a tiny tree in the published layout."""

import os
import uuid

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from i2v_plugin.data.datasets import fbms
from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES
from i2v_plugin.data.datasets.fbms import (
    load_fbms_frames,
    load_fbms_labeled,
    parse_def_file,
    register_all_fbms,
)
from i2v_plugin.data.prepare.fbms_groundtruth import prepare_fbms_split
from tests.helpers.dataset_trees import BLUE_PACKED, RED_ISH_PACKED, make_fbms_tree


@pytest.fixture
def fbms_root(tmp_path):
    return make_fbms_tree(tmp_path)


def test_def_file_parsing(fbms_root):
    definition = parse_def_file(str(fbms_root / "Testset/marple2/GroundTruth/marple2Def.dat"))
    assert definition.region_scales == (0, RED_ISH_PACKED, BLUE_PACKED)
    assert definition.total_frames == 12
    assert [(f.frame_number, f.gt_file, f.image_file) for f in definition.frames] == [
        (0, "marple2_000_gt.ppm", "marple2_000.jpg"),
        (10, "marple2_010_gt.ppm", "marple2_010.jpg"),
    ]  # the PROB entry is skipped
    cars = parse_def_file(str(fbms_root / "Trainingset/cars1/GroundTruth/cars1Def.dat"))
    assert [(f.frame_number, f.image_file) for f in cars.frames] == [
        (0, "cars1_01.jpg"),
        (4, "cars1_05.jpg"),
    ]


def test_inconsistent_def_file_is_named(fbms_root):
    dat = fbms_root / "Trainingset/cars1/GroundTruth/cars1Def.dat"
    header = "Total number of labeled frames for this shot:\n"
    dat.write_text(dat.read_text().replace(header + "2", header + "3"))
    with pytest.raises(ValueError, match=r"cars1Def\.dat.*is 3, but 2"):
        parse_def_file(str(dat))


def test_frame_dicts_and_labeled_dicts(fbms_root):
    frames = load_fbms_frames(str(fbms_root), "Testset")
    assert [d["frame_index"] for d in frames] == list(range(12))
    assert os.path.basename(frames[10]["file_name"]) == "marple2_010.jpg"
    assert {d["video_id"] for d in frames} == {"marple2"} and "sem_seg_file_name" not in frames[0]
    with pytest.raises(FileNotFoundError, match="prepare_fbms.py"):
        load_fbms_labeled(str(fbms_root), "Testset")
    prepare_fbms_split(str(fbms_root / "Testset"), progress=False)
    labeled = load_fbms_labeled(str(fbms_root), "Testset")
    assert [(os.path.basename(d["file_name"]), d["frame_index"]) for d in labeled] == [
        ("marple2_000.jpg", 0),
        ("marple2_010.jpg", 10),
    ]
    assert labeled[1]["sem_seg_file_name"].endswith(
        os.path.join("marple2", "GroundTruth_semantic", "marple2_010.png")
    )
    assert all(d["domain"] == "video" and d["video_id"] == "marple2" for d in labeled)


def test_registration_metadata(fbms_root, tmp_path, monkeypatch):
    assert MetadataCatalog.get("fbms59_val").stuff_classes == ["background", "foreground"]
    assert MetadataCatalog.get("fbms59_val").evaluator_type == "video_sem_seg"
    table = {"marple2": {1: "person", 2: "dog"}}
    prepare_fbms_split(str(fbms_root / "Testset"), DEFAULT_SHARED_CLASSES, table, progress=False)
    names = {f"test_fbms_{uuid.uuid4().hex}": (load_fbms_labeled, "Testset", "video_sem_seg")}
    monkeypatch.setattr(fbms, "_PREDEFINED_SPLITS", names)
    register_all_fbms(str(tmp_path))
    (name,) = names
    assert MetadataCatalog.get(name).stuff_classes == list(DEFAULT_SHARED_CLASSES)
    assert len(DatasetCatalog.get(name)) == 2

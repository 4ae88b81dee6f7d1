"""FBMS-59: ``Def.dat`` parsing (counter from 0 or 1, grey and packed-RGB scales), pgm and ppm
ground truth converted pixel by pixel (foreground/background and per-sequence classes), and the
registered dicts, on a tiny tree in the published layout."""

import json
import os
import uuid

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from i2v_plugin.data.datasets import fbms
from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES
from i2v_plugin.data.datasets.fbms import load_fbms_frames, load_fbms_labeled, register_all_fbms
from i2v_plugin.data.datasets.fbms_groundtruth import (
    load_class_table,
    parse_def_file,
    prepare_fbms_split,
)
from i2v_plugin.data.label_io import read_label_map

H, W = 6, 8
RED_ISH, BLUE = (200, 10, 30), (0, 0, 255)
# (200 << 16) | (10 << 8) | 30 and (0 << 16) | (0 << 8) | 255, written out by hand.
RED_ISH_PACKED, BLUE_PACKED = 13109790, 255


def dat_text(regions, total, frames):
    """A Def.dat in the published layout: headed fields, value on the following line."""
    parts = [
        "Ground truth definition file; FBMS-59",
        "",
        "Total number of regions:",
        str(len(regions)),
    ]
    for k, scale in enumerate(regions):
        parts += ["", f"Scale of region {k}:", str(scale)]
    parts += ["", "Total number of frames in this shot:", str(total)]
    parts += ["", "Total number of labeled frames for this shot:", str(len(frames))]
    for number, gt_name, image_name in frames:
        parts += ["", "Frame number:", str(number), "", "File name:", gt_name]
        parts += ["", "Input file name:", image_name]
    return "\n".join(parts) + "\n"


def grey_gt(frame: int) -> np.ndarray:
    gt = np.zeros((H, W), np.uint8)
    gt[1:4, frame : frame + 3] = 255
    return gt


def colour_gt(frame: int) -> np.ndarray:
    gt = np.zeros((H, W, 3), np.uint8)
    gt[0:2, frame : frame + 4] = RED_ISH
    gt[3:6, 5:8] = BLUE
    return gt


def regions_of_colour_gt(frame: int) -> np.ndarray:
    """Region index of each pixel of ``colour_gt``: 0 black, 1 red-ish, 2 blue."""
    regions = np.zeros((H, W), np.uint8)
    regions[0:2, frame : frame + 4] = 1
    regions[3:6, 5:8] = 2
    return regions


def write_sequence(split_dir, seq, names, gt_frames, dat):
    seq_dir = split_dir / seq
    (seq_dir / "GroundTruth").mkdir(parents=True)
    for name in names:
        Image.fromarray(np.full((H, W, 3), 80, np.uint8)).save(seq_dir / name)
    for gt_name, array in gt_frames.items():
        Image.fromarray(array).save(seq_dir / "GroundTruth" / gt_name)
    (seq_dir / "GroundTruth" / f"{seq}Def.dat").write_text(dat)


@pytest.fixture
def fbms_root(tmp_path):
    """Trainingset/cars1: counter from 1, .pgm; Testset/marple2: counter from 0, .ppm, 3 regions
    and a *PROB_gt.ppm entry that must be skipped."""
    root = tmp_path / "FBMS"
    cars = [f"cars1_{i:02d}.jpg" for i in range(1, 6)]
    write_sequence(
        root / "Trainingset", "cars1", cars,
        {"cars1_01_gt.pgm": grey_gt(0), "cars1_05_gt.pgm": grey_gt(4)},
        dat_text([0, 255], 5, [(0, "cars1_01_gt.pgm", "cars1_01.jpg"),
                               (4, "cars1_05_gt.pgm", "cars1_05.jpg")]),
    )  # fmt: skip
    marple = [f"marple2_{i:03d}.jpg" for i in range(0, 12)]
    write_sequence(
        root / "Testset", "marple2", marple,
        {"marple2_000_gt.ppm": colour_gt(0), "marple2_010_gt.ppm": colour_gt(3),
         "marple2_010PROB_gt.ppm": np.full((H, W, 3), 7, np.uint8)},
        dat_text([0, RED_ISH_PACKED, BLUE_PACKED], 12,
                 [(0, "marple2_000_gt.ppm", "marple2_000.jpg"),
                  (10, "marple2_010_gt.ppm", "marple2_010.jpg"),
                  (10, "marple2_010PROB_gt.ppm", "marple2_010.jpg")]),
    )  # fmt: skip
    return root


def semantic(root, split, seq, stem):
    path = os.path.join(root, split, seq, "GroundTruth_semantic", f"{stem}.png")
    return read_label_map(path, ("L",))


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


def test_foreground_conversion_pgm_and_ppm_pixel_by_pixel(fbms_root):
    counts = prepare_fbms_split(str(fbms_root / "Trainingset"), progress=False)
    assert counts == {"converted": 2, "reused": 0, "total": 2}
    prepare_fbms_split(str(fbms_root / "Testset"), progress=False)
    for frame, stem in ((0, "cars1_01"), (4, "cars1_05")):
        expected = (grey_gt(frame) == 255).astype(np.uint8)
        np.testing.assert_array_equal(semantic(fbms_root, "Trainingset", "cars1", stem), expected)
    for frame, stem in ((0, "marple2_000"), (3, "marple2_010")):
        expected = (regions_of_colour_gt(frame) > 0).astype(np.uint8)
        np.testing.assert_array_equal(semantic(fbms_root, "Testset", "marple2", stem), expected)
    written = os.listdir(fbms_root / "Testset/marple2/GroundTruth_semantic")
    assert sorted(written) == ["marple2_000.png", "marple2_010.png"]


def test_class_table_maps_regions_to_shared_classes(fbms_root, tmp_path):
    table_path = tmp_path / "fbms_classes.json"
    table_path.write_text(json.dumps({"marple2": {"1": "person", "2": "motorbike"}}))
    table = load_class_table(str(table_path))
    prepare_fbms_split(str(fbms_root / "Testset"), DEFAULT_SHARED_CLASSES, table, progress=False)
    regions = regions_of_colour_gt(3)
    expected = np.zeros((H, W), np.uint8)
    expected[regions == 1] = 1  # person
    expected[regions == 2] = 4  # motorbike -> motorcycle
    np.testing.assert_array_equal(
        semantic(fbms_root, "Testset", "marple2", "marple2_010"), expected
    )
    with pytest.raises(ValueError, match="no entry for FBMS sequence 'cars1'"):
        prepare_fbms_split(str(fbms_root / "Trainingset"), DEFAULT_SHARED_CLASSES, table)
    table_path.write_text(json.dumps({"marple2": {"1": "person"}}))
    with pytest.raises(ValueError, match="'marple2' has no class for region 2"):
        prepare_fbms_split(
            str(fbms_root / "Testset"), DEFAULT_SHARED_CLASSES, load_class_table(str(table_path))
        )


def test_unknown_colour_is_an_error_or_ignore(fbms_root):
    gt = colour_gt(0)
    gt[5, 0] = (1, 2, 3)
    Image.fromarray(gt).save(fbms_root / "Testset/marple2/GroundTruth/marple2_000_gt.ppm")
    with pytest.raises(ValueError, match=r"marple2_000_gt\.ppm: 1 pixels have values \[66051\]"):
        prepare_fbms_split(str(fbms_root / "Testset"), progress=False)
    prepare_fbms_split(str(fbms_root / "Testset"), unknown_to_ignore=True, progress=False)
    expected = (regions_of_colour_gt(0) > 0).astype(np.uint8)
    expected[5, 0] = 255
    np.testing.assert_array_equal(
        semantic(fbms_root, "Testset", "marple2", "marple2_000"), expected
    )


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

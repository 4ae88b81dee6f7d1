"""FBMS-59 ground truth -> index PNGs: pgm and ppm ground truth converted pixel by pixel
(foreground/background and per-sequence classes) and pixels of no region, on a tiny tree in the
published layout."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from i2v_plugin.data.datasets.classes import DEFAULT_SHARED_CLASSES
from i2v_plugin.data.label_io import read_label_map
from i2v_plugin.data.prepare.fbms_groundtruth import load_class_table, prepare_fbms_split
from tests.helpers.dataset_trees import (
    FBMS_H,
    FBMS_W,
    colour_gt,
    grey_gt,
    make_fbms_tree,
    regions_of_colour_gt,
)


@pytest.fixture
def fbms_root(tmp_path):
    return make_fbms_tree(tmp_path)


def semantic(root, split, seq, stem):
    path = os.path.join(root, split, seq, "GroundTruth_semantic", f"{stem}.png")
    return read_label_map(path, ("L",))


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
    expected = np.zeros((FBMS_H, FBMS_W), np.uint8)
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

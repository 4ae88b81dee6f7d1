"""Pascal VOC 2012: unlabeled train images, labeled val images whose palette PNGs are read as
class indices (never colours), and refusal of RGB labels."""

import os

import numpy as np
import pytest
from detectron2.data import MetadataCatalog
from PIL import Image

from i2v_plugin.data.datasets.voc import VOC_CLASSES, load_voc_images
from i2v_plugin.data.label_io import LabelFormatError, read_label_map
from i2v_plugin.data.mapper import I2VDatasetMapper

TRAIN_IDS = ["2007_000032", "2007_000039"]
VAL_IDS = ["2007_000033"]


def voc_label() -> np.ndarray:
    """6 x 8 map with every VOC value 0..20 and the void boundary 255."""
    labels = np.full(48, 255, np.uint8)
    labels[:21] = np.arange(21)
    return labels.reshape(6, 8)


def save_palette_png(path, labels):
    image = Image.fromarray(labels)
    # VOC's colour map: a pixel's colour says nothing about its index once read as "P".
    image.putpalette([(i * 53) % 256 for i in range(768)])
    image.save(path)


@pytest.fixture
def voc_root(tmp_path):
    root = tmp_path / "VOCdevkit" / "VOC2012"
    for folder in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / folder).mkdir(parents=True)
    for image_id in TRAIN_IDS + VAL_IDS:
        Image.fromarray(np.full((6, 8, 3), 120, np.uint8)).save(
            root / "JPEGImages" / f"{image_id}.jpg"
        )
        save_palette_png(root / "SegmentationClass" / f"{image_id}.png", voc_label())
    (root / "ImageSets/Segmentation/train.txt").write_text("\n".join(TRAIN_IDS) + "\n")
    (root / "ImageSets/Segmentation/val.txt").write_text("\n".join(VAL_IDS) + "\n")
    return str(root)


def test_unlabeled_train_and_labeled_val_dicts(voc_root):
    train = load_voc_images(voc_root, "train", labeled=False)
    assert train == [
        {"file_name": os.path.join(voc_root, "JPEGImages", f"{i}.jpg"), "domain": "image"}
        for i in TRAIN_IDS
    ]
    as_target = load_voc_images(voc_root, "train", labeled=False, domain="video")
    assert [d["domain"] for d in as_target] == ["video", "video"]
    (val,) = load_voc_images(voc_root, "val", labeled=True)
    assert val["sem_seg_file_name"] == os.path.join(
        voc_root, "SegmentationClass", f"{VAL_IDS[0]}.png"
    )


def test_palette_label_values_are_the_class_indices(voc_root):
    (val,) = load_voc_images(voc_root, "val", labeled=True)
    labels = read_label_map(val["sem_seg_file_name"], ("P",))
    np.testing.assert_array_equal(labels, voc_label())
    mapper = I2VDatasetMapper(is_train=False, augmentations=[], num_classes=len(VOC_CLASSES))
    np.testing.assert_array_equal(mapper(val)["sem_seg"].numpy(), voc_label())


def test_rgb_label_is_refused(voc_root):
    path = os.path.join(voc_root, "SegmentationClass", f"{VAL_IDS[0]}.png")
    with pytest.raises(LabelFormatError, match="mode 'P'"):
        read_label_map(path, ("L",))
    with Image.open(path) as img:
        img.convert("RGB").save(path)
    with pytest.raises(LabelFormatError, match=rf"{VAL_IDS[0]}\.png.*mode 'RGB'"):
        read_label_map(path, ("P",))


def test_missing_files_are_named(voc_root):
    os.remove(os.path.join(voc_root, "JPEGImages", f"{TRAIN_IDS[1]}.jpg"))
    with pytest.raises(FileNotFoundError, match=f"{TRAIN_IDS[1]}.jpg does not exist"):
        load_voc_images(voc_root, "train", labeled=False)
    with pytest.raises(FileNotFoundError, match=r"trainval\.txt"):
        load_voc_images(voc_root, "trainval", labeled=True)


def test_registered_metadata():
    meta = MetadataCatalog.get("voc2012_val")
    assert meta.stuff_classes == list(VOC_CLASSES) and len(VOC_CLASSES) == 21
    assert (VOC_CLASSES[1], VOC_CLASSES[15], VOC_CLASSES[20]) == (
        "aeroplane",
        "person",
        "tvmonitor",
    )
    assert meta.evaluator_type == "sem_seg" and meta.ignore_label == 255
    assert not hasattr(MetadataCatalog.get("voc2012_unlabeled_train"), "evaluator_type")

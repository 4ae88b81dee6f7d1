"""Video-like augmentations (INPUT.VIDEO_AUG): off by default, pixels only (labels and geometry
untouched), "image"-domain samples only, one draw per clip."""

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog
from detectron2.data import transforms as T

from i2v_plugin.data.augmentations import (
    RandomDownscale,
    RandomGaussianBlur,
    RandomGaussianNoise,
    RandomJPEG,
    build_video_augmentations,
)
from i2v_plugin.data.mapper import I2VDatasetMapper
from tests.helpers import tiny_cfg

SOURCE_ONLY = "configs/synthetic/swin_source_only.yaml"
ALL_ON = ["INPUT.VIDEO_AUG.ENABLED", "True", "INPUT.VIDEO_AUG.PROB", "1.0",
          "INPUT.VIDEO_AUG.LIGHTING", "25.0"]  # fmt: skip


def test_off_by_default():
    cfg = tiny_cfg()
    assert not cfg.INPUT.VIDEO_AUG.ENABLED and build_video_augmentations(cfg) == []
    assert I2VDatasetMapper(cfg, is_train=True).video_augmentations is None
    assert len(build_video_augmentations(tiny_cfg("configs/synthetic/swin_source_only_aug.yaml")))


@pytest.mark.parametrize(
    "aug",
    [RandomGaussianBlur(0.5, 1.5), RandomGaussianNoise(10.0), RandomDownscale(0.3), RandomJPEG(10)]
    + [a.aug for a in build_video_augmentations(tiny_cfg(SOURCE_ONLY, *ALL_ON))],
    ids=lambda a: type(a).__name__,
)
def test_each_augmentation_changes_pixels_only(aug):
    rng = np.random.default_rng(0)
    image = rng.integers(30, 220, (40, 48, 3), dtype=np.uint8)
    label = rng.integers(0, 11, (40, 48), dtype=np.uint8)
    np.random.seed(0)
    transform = aug.get_transform(image)
    out = transform.apply_image(image.copy())
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not np.array_equal(out, image)
    assert np.array_equal(transform.apply_segmentation(label.copy()), label)


def test_mapper_labels_are_untouched_and_only_images_are_degraded(synth_root):
    plain = I2VDatasetMapper(tiny_cfg(), is_train=True)
    degraded = I2VDatasetMapper(tiny_cfg(SOURCE_ONLY, *ALL_ON), is_train=True)
    image = DatasetCatalog.get("i2v_synth_images_train")[0]
    np.random.seed(3)
    a = plain(image)
    np.random.seed(3)
    b = degraded(image)
    assert torch.equal(a["sem_seg"], b["sem_seg"]) and not torch.equal(a["image"], b["image"])
    # The padding to the crop size comes after them and stays blank.
    padded = b["sem_seg"] == 255
    assert (b["image"][:, padded] == 0).all()
    video = {**DatasetCatalog.get("i2v_synth_videos_train")[0], "frame_index": 2}
    np.random.seed(3)
    c = plain(video)
    np.random.seed(3)
    assert torch.equal(c["image"], degraded(video)["image"])


def test_one_draw_per_clip(synth_root):
    cfg = tiny_cfg(SOURCE_ONLY, *ALL_ON, "INPUT.CLIP.LENGTH", "2",
                   "INPUT.CLIP.STILL_MOTION", "0.0")  # fmt: skip
    out = I2VDatasetMapper(cfg, is_train=True)(DatasetCatalog.get("i2v_synth_images_train")[0])
    assert out["image"].shape[0] == 2 and torch.equal(out["image"][0], out["image"][1])


def test_invalid_strengths_are_named():
    with pytest.raises(ValueError, match="DOWNSCALE"):
        build_video_augmentations(
            tiny_cfg(
                "configs/synthetic/swin_source_only_aug.yaml", "INPUT.VIDEO_AUG.DOWNSCALE", "0"
            )
        )
    assert isinstance(
        build_video_augmentations(tiny_cfg("configs/synthetic/swin_source_only_aug.yaml"))[0],
        T.RandomApply,
    )

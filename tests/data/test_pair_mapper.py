"""Temporal pairs of unlabeled video frames (INPUT.UNLABELED_PAIR_DISTANCE): which frames, one
augmentation for both, the same result whatever decoded the frames, and the padding mask."""

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T

from i2v_plugin.data.mapper import I2VDatasetMapper, pair_frame_index
from i2v_plugin.data.video import read_frames
from tests.helpers import tiny_cfg


def mapper(distance=2, augmentations=(), **kw):
    return I2VDatasetMapper(
        augmentations=list(augmentations), num_classes=11, pair_distance=distance, **kw
    )


def unlabeled_video(name="i2v_synth_videos_train", frame=1):
    return {**DatasetCatalog.get(name)[0], "frame_index": frame}


@pytest.mark.parametrize(
    "frame, n, distance, expected",
    [
        (1, 6, 2, 3),
        (4, 6, 2, 2),
        (5, 6, 2, 3),
        (0, 3, 5, 2),
        (1, 3, 5, 2),
        (2, 3, 5, 2),
        (0, 1, 2, 0),
    ],
)
def test_pair_is_k_frames_later_clamped_to_the_video(frame, n, distance, expected):
    assert pair_frame_index(frame, n, distance) == expected


def test_encoded_video_pair_holds_frames_t_and_t_plus_k(synth_root):
    d = unlabeled_video(frame=1)
    out = mapper()(d)
    expected = read_frames(d["video_file"], [1, 3])
    assert torch.equal(out["image"], torch.as_tensor(expected[0].transpose(2, 0, 1).copy()))
    assert torch.equal(out["pair_image"], torch.as_tensor(expected[1].transpose(2, 0, 1).copy()))
    assert out["frame_index"] == 1 and out["pair_frame_index"] == 3
    assert "clip_frame_indices" not in out and "sem_seg" not in out


def test_frame_folder_pair_reads_the_neighbouring_file(synth_root):
    dicts = [
        {k: v for k, v in d.items() if k != "sem_seg_file_name"}
        for d in DatasetCatalog.get("i2v_synth_videos_train_labeled")
    ]
    out = mapper(distance=3)(dicts[0])
    assert out["pair_frame_index"] == 3
    expected = utils.read_image(dicts[3]["file_name"], format="RGB")
    assert torch.equal(out["pair_image"], torch.as_tensor(expected.transpose(2, 0, 1).copy()))


def test_both_frames_share_one_augmentation(synth_root):
    d = unlabeled_video(frame=0)
    augs = [T.RandomCrop("absolute", (40, 36)), T.RandomFlip(prob=0.5)]
    plain = mapper(distance=2)(d)
    for seed in range(6):
        np.random.seed(seed)
        out = mapper(distance=2, augmentations=augs, pad_to_size=(48, 48))(d)
        # Find the crop and flip on frame t; frame t + k must show exactly the same window.
        image, pair = out["image"].numpy(), out["pair_image"].numpy()
        windows = [
            (flip, y, x)
            for flip in (False, True)
            for y in range(64 - 40 + 1)
            for x in range(64 - 36 + 1)
            if np.array_equal(_window(plain["image"], flip, y, x), image[:, :40, :36])
        ]
        assert len(windows) == 1
        assert np.array_equal(_window(plain["pair_image"], *windows[0]), pair[:, :40, :36])
        assert (pair[:, 40:] == 0).all() and (pair[:, :, 36:] == 0).all()
        valid = out["valid"].numpy()
        assert valid[:40, :36].all() and not valid[40:].any() and not valid[:, 36:].any()


def _window(image, flip, y, x):
    crop = image.numpy()[:, y : y + 40, x : x + 36]
    return crop[:, :, ::-1] if flip else crop


def test_frames_a_stream_decoded_are_taken_as_they_are(synth_root):
    d = unlabeled_video(frame=2)
    frame = np.full((64, 64, 3), 10, np.uint8)
    pair = np.full((64, 64, 3), 200, np.uint8)
    decoded = {**d, "video_frame": frame, "pair_video_frame": pair, "pair_frame_index": 4}
    out = mapper()(decoded)
    assert (out["image"] == 10).all() and (out["pair_image"] == 200).all()
    assert out["pair_frame_index"] == 4 and "video_frame" not in out
    # A stream without pairs: its single frame is dropped and the pair read from the file.
    single = mapper()({**d, "video_frame": frame})
    assert torch.equal(single["image"], mapper()(d)["image"])
    assert single["pair_frame_index"] == 4


def test_labeled_samples_stills_and_evaluation_get_no_pair(synth_root):
    labeled = DatasetCatalog.get("i2v_synth_videos_train_labeled")[0]
    assert "pair_image" not in mapper()(labeled)
    still = {k: v for k, v in DatasetCatalog.get("i2v_synth_images_train")[0].items()}
    still.pop("sem_seg_file_name")
    assert "pair_image" not in mapper()(still)
    test_mapper = I2VDatasetMapper(
        tiny_cfg("configs/synthetic/swin_self_training_temporal.yaml"), is_train=False
    )
    assert "pair_image" not in test_mapper(unlabeled_video())


def test_pair_distance_comes_from_the_config_and_excludes_clips():
    cfg = tiny_cfg("configs/synthetic/swin_self_training_temporal.yaml")
    assert (
        I2VDatasetMapper(cfg, is_train=True).pair_distance == cfg.INPUT.UNLABELED_PAIR_DISTANCE > 0
    )
    assert I2VDatasetMapper(tiny_cfg(), is_train=True).pair_distance == 0
    with pytest.raises(ValueError, match="cannot be combined with clips"):
        mapper(distance=2, clip_length=2)

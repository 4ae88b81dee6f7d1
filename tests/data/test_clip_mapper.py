"""Clip mapping: T frames at a stride around the dict's frame (frame folders and encoded videos),
one augmentation sampled per clip and applied to every frame and label, still images as copies,
unlabeled neighbours as ignore, and the T = 1 path unchanged."""

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T
from PIL import Image

from i2v_plugin.data.clip_sampling import clip_frame_indices
from i2v_plugin.data.label_io import read_label_map
from i2v_plugin.data.mapper import I2VDatasetMapper
from i2v_plugin.data.video import read_frames
from tests.helpers import tiny_cfg


def mapper(length=3, stride=2, augmentations=(), **kw):
    return I2VDatasetMapper(
        augmentations=list(augmentations),
        num_classes=11,
        clip_length=length,
        clip_stride=stride,
        **kw,
    )


def frame_dict(name="i2v_synth_videos_val", video=0, frame=0):
    dicts = [d for d in DatasetCatalog.get(name) if d["video_id"].endswith(f"_{video:04d}")]
    return dicts[frame], dicts


@pytest.mark.parametrize(
    "frame, n, length, stride, expected, key",
    [
        (3, 6, 3, 2, [1, 3, 5], 1),  # centred
        (0, 6, 3, 2, [0, 2, 4], 0),  # shifted right at the start, still on the stride grid
        (5, 6, 3, 2, [1, 3, 5], 2),  # shifted left at the end
        (1, 10, 4, 3, [1, 4, 7, 9], 0),  # no grid through frame 1 fits: clamped at the end
        (2, 3, 4, 1, [0, 1, 2, 2], 2),  # sequence shorter than the clip: clamped at the end
    ],
)
def test_clip_indices_respect_stride_and_bounds(frame, n, length, stride, expected, key):
    indices, position = clip_frame_indices(frame, n, length, stride)
    assert indices == expected and position == key
    assert indices[position] == frame


def test_clips_stay_on_the_stride_grid_whenever_one_fits():
    length, stride = 3, 3
    for n in range(5, 12):
        for frame in range(n):
            indices, key = clip_frame_indices(frame, n, length, stride)
            assert indices[key] == frame and 0 <= indices[0] and indices[-1] < n
            fits = any(
                frame - k * stride >= 0 and frame + (length - 1 - k) * stride < n
                for k in range(length)
            )
            assert fits == all(b - a == stride for a, b in zip(indices, indices[1:]))


def test_frame_folder_clip_reads_neighbours_at_the_stride(synth_root):
    d, dicts = frame_dict(frame=3)
    out = mapper(length=3, stride=2)(d)
    assert out["image"].shape == (3, 3, 64, 64) and out["sem_seg"].shape == (3, 64, 64)
    assert out["clip_frame_indices"] == [1, 3, 5] and out["clip_key_index"] == 1
    for t, index in enumerate([1, 3, 5]):
        frame = utils.read_image(dicts[index]["file_name"], format="RGB")
        label = read_label_map(dicts[index]["sem_seg_file_name"])
        assert np.array_equal(out["image"][t].permute(1, 2, 0).numpy(), frame)
        assert np.array_equal(out["sem_seg"][t].numpy(), label)
    # The frames really differ (the synthetic videos move), so the check above is not vacuous.
    assert not np.array_equal(out["image"][0].numpy(), out["image"][2].numpy())


def test_encoded_video_clip_decodes_frames_at_the_stride(synth_root):
    d = dict(DatasetCatalog.get("i2v_synth_videos_train")[0], frame_index=4)
    out = mapper(length=2, stride=3)(d)
    assert out["clip_frame_indices"] == [1, 4] and out["clip_key_index"] == 1
    expected = read_frames(d["video_file"], [1, 4])
    for t in range(2):
        assert np.array_equal(out["image"][t].permute(1, 2, 0).numpy(), expected[t])
    assert "sem_seg" not in out


def test_random_video_clips_fit_the_video(synth_root):
    d = DatasetCatalog.get("i2v_synth_videos_train")[1]
    np.random.seed(0)
    for _ in range(5):
        out = mapper(length=3, stride=2)(d)
        indices = out["clip_frame_indices"]
        assert indices[out["clip_key_index"]] == out["frame_index"]
        assert np.diff(indices).tolist() == [2, 2] and 0 <= indices[0] and indices[-1] < 6


def test_one_flip_flips_every_frame_and_label(synth_root):
    d, _ = frame_dict(frame=2)
    plain = mapper()(d)
    flipped = mapper(augmentations=[T.RandomFlip(prob=1.0)])(d)
    assert np.array_equal(flipped["image"].numpy(), plain["image"].flip(-1).numpy())
    assert np.array_equal(flipped["sem_seg"].numpy(), plain["sem_seg"].flip(-1).numpy())


def test_one_random_augmentation_is_sampled_per_clip(synth_root):
    d, _ = frame_dict(video=1, frame=2)
    plain = mapper()(d)
    augs = [T.RandomFlip(prob=0.5), T.RandomCrop("absolute", (40, 24))]
    seen_flips = set()
    for seed in range(8):
        np.random.seed(seed)
        out = mapper(augmentations=augs)(d)
        assert out["image"].shape == (3, 3, 40, 24) and out["sem_seg"].shape == (3, 40, 24)
        # Find the crop window and flip on frame 0; every frame and label must match it.
        match = None
        for flip in (False, True):
            source = plain["image"].flip(-1) if flip else plain["image"]
            for y in range(64 - 40 + 1):
                for x in range(64 - 24 + 1):
                    if np.array_equal(source[0, :, y : y + 40, x : x + 24], out["image"][0]):
                        match = (flip, y, x)
        assert match is not None
        flip, y, x = match
        seen_flips.add(flip)
        image = plain["image"].flip(-1) if flip else plain["image"]
        label = plain["sem_seg"].flip(-1) if flip else plain["sem_seg"]
        assert np.array_equal(out["image"].numpy(), image[..., y : y + 40, x : x + 24].numpy())
        assert np.array_equal(out["sem_seg"].numpy(), label[..., y : y + 40, x : x + 24].numpy())
    assert seen_flips == {False, True}  # the flip really was random


def test_still_image_becomes_copies_with_copied_labels(synth_root):
    d = DatasetCatalog.get("i2v_synth_images_train")[0]
    out = mapper(length=3, augmentations=[T.RandomFlip(prob=1.0)])(d)
    assert out["image"].shape == (3, 3, 64, 64) and out["clip_key_index"] == 1
    assert all(np.array_equal(out["image"][0], out["image"][t]) for t in (1, 2))
    assert all(np.array_equal(out["sem_seg"][0], out["sem_seg"][t]) for t in (1, 2))
    expected = utils.read_image(d["file_name"], format="RGB")[:, ::-1]
    assert np.array_equal(out["image"][0].permute(1, 2, 0).numpy(), expected)


def test_neighbours_without_label_file_are_ignored_and_padding_uses_ignore(tmp_path):
    folder, labels = tmp_path / "frames" / "seq", tmp_path / "labels" / "seq"
    folder.mkdir(parents=True)
    labels.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((30, 40, 3), 40 * i, np.uint8)).save(folder / f"{i:05d}.png")
    Image.fromarray(np.full((30, 40), 4, np.uint8)).save(labels / "00001.png")
    d = {
        "file_name": str(folder / "00001.png"),
        "sem_seg_file_name": str(labels / "00001.png"),
        "domain": "video",
        "video_id": "seq",
    }
    out = mapper(length=3, stride=1, pad_to_size=(32, 48))(d)
    sem = out["sem_seg"].numpy()
    assert out["image"].shape == (3, 3, 32, 48)
    assert (sem[0] == 255).all() and (sem[2] == 255).all()
    assert (sem[1, :30, :40] == 4).all() and (sem[1, 30:] == 255).all()
    assert [int(out["image"][t, 0, 0, 0]) for t in range(3)] == [0, 40, 80]


def test_clip_settings_come_from_the_config():
    cfg = tiny_cfg(
        "configs/synthetic/swin_source_only.yaml",
        "INPUT.CLIP.LENGTH",
        "4",
        "INPUT.CLIP.STRIDE",
        "3",
    )
    m = I2VDatasetMapper(cfg, is_train=True)
    assert (m.clip_length, m.clip_stride) == (4, 3)
    with pytest.raises(ValueError, match="INPUT.CLIP.LENGTH"):
        mapper(length=0)


def test_length_one_keeps_the_image_path(synth_root):
    d, _ = frame_dict(frame=1)
    out = mapper(length=1)(d)
    assert out["image"].shape == (3, 64, 64) and out["sem_seg"].shape == (64, 64)
    assert "clip_key_index" not in out


def test_copies_of_a_still_image_get_their_own_camera_motion(synth_root):
    d = DatasetCatalog.get("i2v_synth_images_train")[0]
    np.random.seed(0)
    out = mapper(length=4, still_motion=0.1)(d)
    frames, labels = out["image"].numpy(), out["sem_seg"].numpy()
    assert frames.shape == (4, 3, 64, 64) and labels.shape == (4, 64, 64)
    assert not any(np.array_equal(frames[0], frames[t]) for t in (1, 2, 3))
    # The view never leaves the image: no invented border, every label still a real class.
    assert set(np.unique(labels)) <= set(np.unique(out["sem_seg"].numpy()[0])) | {0}
    assert not (labels == 255).any()
    # Each label moved with its own frame: the object's pixels are where that frame shows it.
    for t in range(4):
        bright = frames[t].max(axis=0) > 128
        inside = labels[t] > 0
        assert (bright == inside).mean() > 0.9


def test_videos_and_evaluation_are_never_moved(synth_root):
    d, _ = frame_dict(frame=2)
    moved = mapper(length=3, still_motion=0.2)(d)
    plain = mapper(length=3)(d)
    assert torch.equal(moved["image"], plain["image"])
    cfg = tiny_cfg("configs/synthetic/video_swin_spatial.yaml")
    assert cfg.INPUT.CLIP.STILL_MOTION > 0
    assert I2VDatasetMapper(cfg, is_train=False).still_motion == 0.0

"""I2VDatasetMapper: label checks (mode, range, size), crop padding, domain, video frames."""

import numpy as np
import pytest
from detectron2.data import transforms as T
from PIL import Image

from i2v_plugin.data.label_io import LabelFormatError, read_label_map
from i2v_plugin.data.mapper import I2VDatasetMapper


def write_sample(tmp_path, label, mode="L", size=(40, 48), name="a"):
    image_path = tmp_path / f"{name}.jpg"
    Image.fromarray(np.full((*size, 3), 120, np.uint8)).save(image_path)
    label_path = tmp_path / f"{name}.png"
    img = Image.fromarray(label.astype(np.uint8), mode="L")
    if mode == "P":
        img = img.convert("P")
        img.putpalette([v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)])
    elif mode == "RGB":
        img = img.convert("RGB")
    img.save(label_path)
    return {"file_name": str(image_path), "sem_seg_file_name": str(label_path), "domain": "image"}


def mapper(**kw):
    args = dict(augmentations=[], num_classes=5, ignore_label=255)
    args.update(kw)
    return I2VDatasetMapper(**args)


def test_palette_labels_are_read_as_indices_not_colours(tmp_path):
    label = np.arange(40 * 48).reshape(40, 48) % 5
    d = write_sample(tmp_path, label, mode="P")
    assert Image.open(d["sem_seg_file_name"]).mode == "P"
    out = mapper()(d)
    assert np.array_equal(out["sem_seg"].numpy(), label)
    assert out["image"].shape == (3, 40, 48) and out["domain"] == "image"


def test_a_colour_label_file_is_an_error_naming_it(tmp_path):
    d = write_sample(tmp_path, np.zeros((40, 48)), mode="RGB")
    with pytest.raises(LabelFormatError, match=r"a\.png.*'RGB'"):
        mapper()(d)
    with pytest.raises(LabelFormatError, match="'P'"):
        read_label_map(d["sem_seg_file_name"], modes=("P",))


def test_out_of_range_label_names_file_and_values(tmp_path):
    label = np.zeros((40, 48))
    label[0, 0], label[1, 1] = 7, 255
    d = write_sample(tmp_path, label)
    with pytest.raises(ValueError, match=r"a\.png.*\[7\].*0\.\.4"):
        mapper()(d)


def test_missing_label_file_is_named(tmp_path):
    d = write_sample(tmp_path, np.zeros((40, 48)))
    d["sem_seg_file_name"] = str(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError, match="nope.png"):
        mapper()(d)


def test_padding_to_crop_size_uses_ignore_label(tmp_path):
    d = write_sample(tmp_path, np.ones((40, 48)))
    out = mapper(pad_to_size=(64, 64))(d)
    assert out["image"].shape == (3, 64, 64)
    sem = out["sem_seg"].numpy()
    assert (sem[:40, :48] == 1).all() and (sem[40:] == 255).all() and (sem[:, 48:] == 255).all()
    assert (out["image"][:, 40:].numpy() == 0).all()


def test_augmentation_moves_image_and_label_together(tmp_path):
    label = np.zeros((40, 48))
    label[:, :10] = 3
    d = write_sample(tmp_path, label)
    out = mapper(augmentations=[T.RandomFlip(prob=1.0)])(d)
    assert (out["sem_seg"][:, -10:] == 3).all() and (out["sem_seg"][:, :-10] == 0).all()


def test_unknown_domain_is_rejected(tmp_path):
    d = write_sample(tmp_path, np.zeros((40, 48)))
    d["domain"] = "film"
    with pytest.raises(ValueError, match="domain"):
        mapper()(d)


def test_frames_are_drawn_uniformly_in_time_at_the_sampling_rate():
    from i2v_plugin.data.mapper import sample_frame_index

    np.random.seed(0)
    # 60 fps native, resampled to 30 fps: only every other native frame can be drawn.
    d = {"num_frames": 120, "fps": 60.0, "sample_fps": 30.0}
    drawn = {sample_frame_index(d) for _ in range(2000)}
    assert drawn == set(range(0, 120, 2))
    # Without a sampling rate every native frame is a candidate.
    assert {sample_frame_index({"num_frames": 5}) for _ in range(500)} == set(range(5))

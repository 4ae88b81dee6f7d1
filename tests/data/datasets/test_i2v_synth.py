"""The unlabeled-still-images ablation on the synthetic benchmark: the val images registered in
the "video" domain feed the unlabeled stream of the real two-stream loader."""

import itertools

from detectron2.data import DatasetCatalog

from i2v_plugin.data.loader import build_i2v_train_loader
from tests.helpers import tiny_cfg


def test_images_as_video_split_is_unlabeled_and_in_the_video_domain(synth_root):
    dicts = DatasetCatalog.get("i2v_synth_images_val_as_video")
    assert len(dicts) == 4
    assert all(d["domain"] == "video" and "sem_seg_file_name" not in d for d in dicts)


def test_clustered_voc_config_trains_on_images_as_the_second_domain(synth_root):
    cfg = tiny_cfg("configs/synthetic/swin_clustered_voc.yaml")
    batch = next(itertools.islice(iter(build_i2v_train_loader(cfg)), 1))
    domains = [d["domain"] for d in batch]
    assert domains == ["image", "image", "video", "video"]
    assert all("sem_seg" not in d for d in batch[2:])
    assert all(
        d["file_name"].endswith(".jpg") and "/images/val/" in d["file_name"] for d in batch[2:]
    )

"""Registration of the synthetic benchmark: the unlabeled-still-images ablation (the val images
registered in the "video" domain feed the unlabeled stream of the real two-stream loader), the
version-4 splits, the pretraining splits, and the layering (data/ never imports synth/)."""

import ast
import itertools
import os
from pathlib import Path

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from i2v_plugin.data.datasets.synth_classes import PRETRAIN_CLASSES, SYNTH_CLASSES
from i2v_plugin.data.loader import build_i2v_train_loader
from tests.helpers import tiny_cfg

REPO_ROOT = Path(__file__).resolve().parents[3]


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


# ------------------------------------------------------------- version 4 splits, pretraining

V4_LABELED_SPLITS = (
    "i2v_synth_videos_sealed_val",
    "i2v_synth_videos_sealed_tune",
    "i2v_synth_videos_severe_val",
    "i2v_synth_videos_style_val",
    "i2v_synth_videos_geometry_val",
)


@pytest.mark.parametrize("name", V4_LABELED_SPLITS)
def test_version_4_splits_are_labeled_frame_folders(synth_root, name):
    meta = MetadataCatalog.get(name)
    assert meta.stuff_classes == list(SYNTH_CLASSES) and meta.ignore_label == 255
    assert meta.evaluator_type == "video_sem_seg"
    dicts = DatasetCatalog.get(name)
    split = name[len("i2v_synth_videos_") :]
    assert dicts and all(d["video_id"].startswith(split + "_") for d in dicts)
    assert all(d["domain"] == "video" and os.path.isfile(d["sem_seg_file_name"]) for d in dicts)
    assert [d["frame_index"] for d in dicts if d["video_id"] == dicts[0]["video_id"]] == list(
        range(len([d for d in dicts if d["video_id"] == dicts[0]["video_id"]]))
    )


def test_pretraining_splits_read_the_cached_folder(synth_root):
    from i2v_plugin.synth.pretrain import PretrainSettings, ensure_pretrain_dataset

    for name in ("i2v_synth_pretrain_train", "i2v_synth_pretrain_val"):
        meta = MetadataCatalog.get(name)
        assert meta.stuff_classes == list(PRETRAIN_CLASSES) and meta.evaluator_type == "sem_seg"
    root = os.path.join(os.environ["DETECTRON2_DATASETS"], "i2v_synth_pretrain")
    if not os.path.exists(root):
        with pytest.raises(FileNotFoundError, match="prepare_synthetic.py --pretrain-only"):
            DatasetCatalog.get("i2v_synth_pretrain_train")
    ensure_pretrain_dataset(root, PretrainSettings(num_train=6, num_val=2), progress=False)
    dicts = DatasetCatalog.get("i2v_synth_pretrain_train")
    assert len(dicts) == 6 and all(d["domain"] == "image" for d in dicts)
    assert all(
        os.path.isfile(d["file_name"]) and os.path.isfile(d["sem_seg_file_name"]) for d in dicts
    )
    assert len(DatasetCatalog.get("i2v_synth_pretrain_val")) == 2


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a file of the i2v_plugin package imports."""
    package = path.relative_to(REPO_ROOT).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def test_the_data_layer_imports_nothing_from_the_generator():
    files = sorted((REPO_ROOT / "i2v_plugin" / "data").rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(
            m for m in imported_modules(path) if m.startswith("i2v_plugin.synth")
        )
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    # The check sees relative imports: the generator itself imports the data layer.
    generator = REPO_ROOT / "i2v_plugin" / "synth" / "writer.py"
    assert "i2v_plugin.data.video.write_video" in imported_modules(generator)

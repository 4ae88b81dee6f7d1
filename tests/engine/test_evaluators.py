"""The trainer's evaluators report Detectron2's boundary IoU (it needs OpenCV, a pinned
requirement) without the "requires OpenCV" warning."""

import logging
import uuid

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from i2v_plugin.engine import I2VTrainer
from tests.helpers import tiny_cfg

CLASSES = ["background", "car", "person"]


@pytest.mark.parametrize("evaluator_type", ["sem_seg", "video_sem_seg"])
def test_evaluator_reports_boundary_iou_per_class(tmp_path, evaluator_type):
    gt = np.zeros((16, 16), dtype=np.uint8)
    gt[2:10, 3:12] = 1
    gt[11:15, 1:6] = 2
    gt_path = str(tmp_path / "gt.png")
    Image.fromarray(gt, mode="L").save(gt_path)
    record = {"file_name": str(tmp_path / "image.jpg"), "sem_seg_file_name": gt_path}
    name = f"test_boundary_iou_{uuid.uuid4().hex}"
    DatasetCatalog.register(name, lambda: [record])
    MetadataCatalog.get(name).set(
        stuff_classes=CLASSES, ignore_label=255, evaluator_type=evaluator_type
    )
    warnings = []
    handler = logging.Handler()
    handler.emit = lambda entry: warnings.append(entry.getMessage())
    logger = logging.getLogger("detectron2.evaluation.sem_seg_evaluation")
    logger.addHandler(handler)
    try:
        cfg = tiny_cfg(
            "configs/synthetic/swin_source_only.yaml", "MODEL.SEM_SEG_HEAD.NUM_CLASSES", "3"
        )
        evaluator = I2VTrainer.build_evaluator(cfg, name, output_folder=str(tmp_path / "eval"))
        evaluator.reset()
        logits = torch.nn.functional.one_hot(torch.as_tensor(gt, dtype=torch.long), 3)
        evaluator.process([record], [{"sem_seg": logits.permute(2, 0, 1).float()}])
        result = evaluator.evaluate()["sem_seg"]
    finally:
        logger.removeHandler(handler)
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    assert not [w for w in warnings if "OpenCV" in w]
    for class_name in CLASSES:
        assert result[f"BoundaryIoU-{class_name}"] == pytest.approx(100.0)  # a perfect prediction


def test_batched_evaluation_gives_the_per_frame_results(synth_root, tmp_path):
    """TEST.IMS_PER_BATCH batches frames for speed; sequences still arrive in order, so every
    metric (per-sequence and temporal ones included) equals batch-1 evaluation's."""
    torch.manual_seed(0)
    splits = "('i2v_synth_images_val', 'i2v_synth_videos_val')"
    results = []
    for batch in ("1", "5"):
        cfg = tiny_cfg(
            "configs/synthetic/swin_source_only.yaml", "DATASETS.TEST", splits,
            "TEST.IMS_PER_BATCH", batch, "OUTPUT_DIR", str(tmp_path / batch),
        )  # fmt: skip
        if not results:
            model = I2VTrainer.build_model(cfg).eval()
        results.append(I2VTrainer.test(cfg, model))
    for split in results[0]:
        first, batched = results[0][split]["sem_seg"], results[1][split]["sem_seg"]
        assert first.keys() == batched.keys()
        for key, value in first.items():
            assert value == pytest.approx(batched[key], abs=1e-6, nan_ok=True), (split, key)

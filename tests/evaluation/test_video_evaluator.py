"""VideoSemSegEvaluator on tiny fake datasets registered for the duration of one test."""

import csv
import json
import math
import uuid

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.evaluation import SemSegEvaluator
from PIL import Image

from i2v_plugin.data.label_io import LabelFormatError
from i2v_plugin.evaluation import SequenceStats, VideoSemSegEvaluator, merge_sequence_stats

CLASSES = ["background", "car", "person"]


@pytest.fixture
def register(tmp_path):
    """Returns ``register(frames, classes=CLASSES, mode="L")`` -> (dataset name, inputs).

    ``frames`` is a list of (video_id or None, frame_index, gt array); each gt is written as a
    PNG and the dataset is removed from the catalogs after the test.
    """
    names = []

    def _register(frames, classes=CLASSES, mode="L"):
        name = f"test_video_eval_{uuid.uuid4().hex}"
        records, inputs = [], []
        for i, (video_id, frame_index, gt) in enumerate(frames):
            gt_path = str(tmp_path / f"{name}_{i}.png")
            image = Image.fromarray(np.asarray(gt, dtype=np.uint8), mode="L")
            image.convert(mode).save(gt_path)
            record = {"file_name": str(tmp_path / f"frame_{i}.jpg"), "sem_seg_file_name": gt_path}
            if video_id is not None:
                record.update(video_id=video_id, frame_index=frame_index)
            records.append(record)
            inputs.append(dict(record))
        DatasetCatalog.register(name, lambda: records)
        MetadataCatalog.get(name).set(stuff_classes=list(classes), ignore_label=255)
        names.append(name)
        return name, inputs

    yield _register
    for name in names:
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)


def logits_for(labels, num_classes=3):
    """(C, H, W) float logits whose argmax is ``labels``."""
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    return torch.nn.functional.one_hot(labels, num_classes).permute(2, 0, 1).float()


def run(evaluator, inputs, preds):
    evaluator.reset()
    for inp, pred in zip(inputs, preds):
        evaluator.process([inp], [{"sem_seg": logits_for(pred)}])
    return evaluator.evaluate()["sem_seg"]


def test_global_metrics_identical_to_semseg_evaluator(register):
    rng = np.random.default_rng(0)
    frames = []
    for video in ("a", "b", "c"):
        for index in range(3):
            gt = rng.integers(0, 3, size=(6, 7))
            gt[rng.random((6, 7)) < 0.15] = 255
            frames.append((video, index, gt))
    name, inputs = register(frames)
    logits = [torch.randn(3, 6, 7, generator=torch.Generator().manual_seed(i)) for i in range(9)]

    reference, video = SemSegEvaluator(name, distributed=False), VideoSemSegEvaluator(name, False)
    for evaluator in (reference, video):
        evaluator.reset()
        evaluator.process(inputs[:4], [{"sem_seg": x} for x in logits[:4]])
        evaluator.process(inputs[4:], [{"sem_seg": x} for x in logits[4:]])
    expected = reference.evaluate()["sem_seg"]
    got = video.evaluate()["sem_seg"]
    for key in ("mIoU", "fwIoU", "mACC", "pACC", "IoU-car", "ACC-person"):
        assert key in expected
    for key, value in expected.items():
        assert got[key] == value or (math.isnan(got[key]) and math.isnan(value)), key
    per_sequence_sum = sum(stats.conf for stats in video._sequences.values())
    np.testing.assert_array_equal(per_sequence_sum, reference._conf_matrix)


def test_per_sequence_miou_and_its_mean(register):
    # Sequence a: class 0 IoU 3/5, class 1 IoU 2/4, class 2 only predicted on an ignored pixel
    # -> 0.55. Sequence b: IoU 1, 0 (predicted, absent from GT), 1/2 -> 0.5.
    frames = [
        ("a", 0, [[0, 1], [1, 1]]),
        ("a", 1, [[0, 0], [1, 255]]),
        ("b", 0, [[2, 2], [0, 0]]),
    ]
    preds = [[[0, 1], [1, 0]], [[0, 0], [0, 2]], [[2, 1], [0, 0]]]
    name, inputs = register(frames)
    result = run(VideoSemSegEvaluator(name, distributed=False), inputs, preds)
    assert result["mIoU_seq"] == pytest.approx(100 * (0.55 + 0.5) / 2)


def test_j_and_f_of_a_shifting_square(register):
    gt = np.zeros((8, 8), dtype=int)
    gt[2:5, 2:5] = 1
    preds = []
    for shift in (0, 1, 2):
        pred = np.zeros((8, 8), dtype=int)
        pred[2:5, 2 + shift : 5 + shift] = 2  # any non-background class is foreground
        preds.append(pred)
    preds.append(np.zeros((8, 8), dtype=int))
    frames = [("a", i, gt) for i in range(4)] + [("b", 0, np.zeros((8, 8), dtype=int))]
    preds.append(np.zeros((8, 8), dtype=int))
    name, inputs = register(frames)
    # Tolerance 0 px: J = [1, 6/12, 3/15, 0], F = [1, 4/8, 3/8, 0]; sequence b is empty -> 1, 1.
    result = run(VideoSemSegEvaluator(name, False, boundary_tolerance=0.0), inputs, preds)
    j_a, f_a = (1 + 0.5 + 0.2 + 0) / 4, (1 + 0.5 + 0.375 + 0) / 4
    assert result["J_mean"] == pytest.approx(100 * (j_a + 1) / 2)
    assert result["F_mean"] == pytest.approx(100 * (f_a + 1) / 2)
    assert result["JF_mean"] == pytest.approx(100 * (j_a + f_a + 2) / 4)
    # Recall: a has one frame > 0.5 of four, b has its one frame; decay only defined for a.
    assert result["J_recall"] == pytest.approx(100 * (0.25 + 1) / 2)
    assert result["F_recall"] == pytest.approx(100 * (0.25 + 1) / 2)
    assert result["J_decay"] == pytest.approx(100.0)
    assert result["F_decay"] == pytest.approx(100.0)


# Same four frames as the pure VC test: VC_2 windows 3/4, 1, 5/6; VC_3 windows 1, 4/5.
VC_GT = [
    [[0, 0, 1], [1, 1, 255]],
    [[0, 0, 1], [1, 2, 1]],
    [[0, 1, 1], [1, 2, 1]],
    [[0, 1, 1], [1, 2, 1]],
]
VC_PRED = [
    [[0, 0, 1], [1, 1, 1]],
    [[0, 1, 1], [1, 2, 1]],
    [[0, 1, 1], [1, 2, 1]],
    [[0, 1, 1], [0, 2, 1]],
]


def test_vc_averages_over_all_windows_of_all_sequences(register, tmp_path):
    # Sequence b: one window whose six constant GT pixels all change prediction -> 0.
    frames = [("a", i, gt) for i, gt in enumerate(VC_GT)]
    frames += [("b", 0, np.zeros((2, 3))), ("b", 1, np.zeros((2, 3)))]
    preds = VC_PRED + [np.zeros((2, 3), dtype=int), np.ones((2, 3), dtype=int)]
    name, inputs = register(frames)
    out_dir = tmp_path / "eval"
    evaluator = VideoSemSegEvaluator(name, False, str(out_dir), vc_windows=(2, 3, 5))
    result = run(evaluator, inputs, preds)
    assert result["VC_2"] == pytest.approx(100 * (3 / 4 + 1 + 5 / 6 + 0) / 4)
    assert result["VC_3"] == pytest.approx(100 * (1 + 4 / 5) / 2)
    assert math.isnan(result["VC_5"])

    with open(out_dir / "video_per_sequence.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(row["sequence"], row["frames"]) for row in rows] == [("a", "4"), ("b", "2")]
    assert float(rows[0]["VC_2"]) == pytest.approx(100 * 31 / 36)
    assert float(rows[1]["VC_2"]) == 0.0 and math.isnan(float(rows[1]["VC_3"]))
    for column in ("mIoU", "J_mean", "F_mean", "JF_mean", "VC_5"):
        assert column in rows[0]
    summary = json.loads((out_dir / "video_summary.json").read_text())
    assert summary["VC_2"] == pytest.approx(result["VC_2"])
    assert summary["VC_5"] is None and summary["mIoU"] == pytest.approx(result["mIoU"])


def test_vc_windows_do_not_span_an_interrupted_sequence(register):
    frames = [("a", 0, VC_GT[0]), ("b", 0, VC_GT[0]), ("a", 1, VC_GT[1])]
    name, inputs = register(frames)
    result = run(VideoSemSegEvaluator(name, False, vc_windows=(2,)), inputs, VC_PRED[:3])
    assert math.isnan(result["VC_2"])


def test_images_without_video_id_are_one_frame_sequences(register, tmp_path):
    frames = [(None, 0, [[0, 1], [1, 1]]), (None, 0, [[0, 0], [2, 2]])]
    name, inputs = register(frames)
    evaluator = VideoSemSegEvaluator(name, False, str(tmp_path / "eval"))
    result = run(evaluator, inputs, [[[0, 1], [1, 1]], [[0, 0], [2, 2]]])
    assert result["mIoU_seq"] == pytest.approx(100.0)
    assert math.isnan(result["VC_8"]) and math.isnan(result["VC_16"])
    with open(tmp_path / "eval" / "video_per_sequence.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(row["sequence"] for row in rows) == sorted(inp["file_name"] for inp in inputs)


def test_distributed_path_on_one_process_gives_the_same_result(register):
    name, inputs = register([("a", i, gt) for i, gt in enumerate(VC_GT)])
    local = run(VideoSemSegEvaluator(name, distributed=False), inputs, VC_PRED)
    gathered = run(VideoSemSegEvaluator(name, distributed=True), inputs, VC_PRED)
    assert gathered.keys() == local.keys()
    for key, value in local.items():
        assert gathered[key] == value or (math.isnan(gathered[key]) and math.isnan(value)), key


def test_merge_sequence_stats_adds_counts_without_touching_inputs():
    first = {"a": SequenceStats(np.eye(2, dtype=np.int64), [(2, 0.5, 0.5)], {2: 0.5}, {2: 1})}
    second = {
        "a": SequenceStats(np.eye(2, dtype=np.int64), [(0, 1.0, 1.0)], {2: 1.0}, {2: 2}),
        "b": SequenceStats(np.zeros((2, 2), dtype=np.int64), [(0, 0.0, 0.0)]),
    }
    merged = merge_sequence_stats([first, second])
    np.testing.assert_array_equal(merged["a"].conf, 2 * np.eye(2))
    assert sorted(merged["a"].frames) == [(0, 1.0, 1.0), (2, 0.5, 0.5)]
    assert merged["a"].vc_sum == {2: 1.5} and merged["a"].vc_windows == {2: 3}
    assert set(merged) == {"a", "b"}
    assert first["a"].frames == [(2, 0.5, 0.5)] and first["a"].conf[0, 0] == 1


def test_rgb_ground_truth_raises(register):
    name, inputs = register([("a", 0, [[0, 1], [1, 0]])], mode="RGB")
    with pytest.raises(LabelFormatError):
        run(VideoSemSegEvaluator(name, distributed=False), inputs, [[[0, 1], [1, 0]]])

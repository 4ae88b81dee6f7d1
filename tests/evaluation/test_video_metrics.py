"""Pure video metrics on tiny masks whose expected values are counted by hand."""

import math

import numpy as np
import pytest
from scipy import ndimage

from i2v_plugin.evaluation.video_metrics import (
    boundary_f_measure,
    boundary_map,
    boundary_tolerance_px,
    confusion_matrix,
    decay,
    iou_per_class,
    mean_iou,
    recall,
    region_similarity,
    update_label_runs,
    window_consistency,
)


def square(top, left, size=3, shape=(8, 8)):
    """Bool mask with a size x size square whose top-left pixel is (top, left)."""
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + size, left : left + size] = True
    return mask


def test_confusion_matrix_layout_puts_ignore_in_last_column():
    pred = np.array([[0, 1], [1, 1]])
    gt = np.array([[0, 1], [255, 0]])
    expected = np.array([[1, 0, 0], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(confusion_matrix(pred, gt, 2, 255), expected)


def test_confusion_matrix_rejects_out_of_range_labels_and_shape_mismatch():
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), 7), 3, 255)
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 3, 255)


def test_iou_excludes_classes_absent_from_gt_and_prediction():
    # class 0: tp 1, union 2; class 1: tp 2, union 3; class 2 predicted only on an ignored pixel.
    gt = np.array([[0, 0, 1, 1, 255]])
    pred = np.array([[0, 1, 1, 1, 2]])
    conf = confusion_matrix(pred, gt, 3, 255)
    iou = iou_per_class(conf)
    np.testing.assert_allclose(iou[:2], [1 / 2, 2 / 3])
    assert math.isnan(iou[2])
    assert mean_iou(conf) == pytest.approx(7 / 12)


def test_iou_counts_a_class_predicted_but_absent_from_gt_as_zero():
    gt = np.array([[0, 0]])
    pred = np.array([[0, 2]])
    iou = iou_per_class(confusion_matrix(pred, gt, 3, 255))
    assert iou[0] == pytest.approx(0.5) and iou[2] == 0.0 and math.isnan(iou[1])
    assert mean_iou(confusion_matrix(pred, gt, 3, 255)) == pytest.approx(0.25)


def test_mean_iou_is_nan_without_valid_pixels():
    assert math.isnan(
        mean_iou(confusion_matrix(np.zeros((1, 2), int), np.full((1, 2), 255), 2, 255))
    )


def test_boundary_of_square_is_its_ring():
    mask = square(1, 1)
    expected = mask.copy()
    expected[2, 2] = False
    for connectivity in (4, 8):
        np.testing.assert_array_equal(boundary_map(mask, connectivity), expected)


def test_boundary_connectivity_differs_at_a_diagonal_notch():
    mask = square(1, 1, size=4)
    mask[4, 4] = False
    # (3, 3) has all four edge neighbours in the mask but its diagonal (4, 4) is outside.
    assert not boundary_map(mask, 4)[3, 3]
    assert boundary_map(mask, 8)[3, 3]
    assert boundary_map(mask, 4).sum() == 11 and boundary_map(mask, 8).sum() == 12


def test_image_border_is_not_a_boundary():
    assert not boundary_map(np.ones((4, 5), dtype=bool)).any()
    half = np.zeros((4, 4), dtype=bool)
    half[:, :2] = True
    np.testing.assert_array_equal(np.argwhere(boundary_map(half))[:, 1], [1, 1, 1, 1])


def test_boundary_tolerance_is_ceil_of_ratio_times_diagonal():
    assert boundary_tolerance_px((3, 4), 0.5) == 3  # 2.5 rounds up
    assert boundary_tolerance_px((480, 854), 0.008) == 8  # DAVIS default on 480p: 7.84
    assert boundary_tolerance_px((480, 854), 0.0) == 0


@pytest.mark.parametrize(
    ("shift", "tolerance", "expected"),
    [
        (0, 0, 1.0),
        (1, 0, 4 / 8),  # rings share 4 of their 8 pixels
        (1, 1, 1.0),  # every ring pixel is at most one step from the other ring
        (2, 0, 3 / 8),  # only the shared column
        (2, 1, 5 / 8),  # shared column + the adjacent column; far corners/sides are 2 away
    ],
)
def test_boundary_f_of_shifted_square(shift, tolerance, expected):
    gt = square(2, 2)
    pred = square(2, 2 + shift)
    assert boundary_f_measure(pred, gt, tolerance) == pytest.approx(expected)


def test_boundary_f_empty_cases():
    empty = np.zeros((6, 6), dtype=bool)
    assert boundary_f_measure(empty, empty, 1) == 1.0
    assert boundary_f_measure(square(1, 1, shape=(6, 6)), empty, 1) == 0.0
    assert boundary_f_measure(empty, square(1, 1, shape=(6, 6)), 1) == 0.0


def test_boundary_f_matches_disk_dilation_reference():
    rng = np.random.default_rng(0)
    radius = 3
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disk = xx**2 + yy**2 <= radius**2
    for _ in range(5):
        gt = ndimage.binary_opening(rng.random((30, 40)) > 0.5)
        pred = ndimage.binary_opening(rng.random((30, 40)) > 0.5)
        gt_b, pred_b = boundary_map(gt), boundary_map(pred)
        precision = (pred_b & ndimage.binary_dilation(gt_b, disk)).sum() / pred_b.sum()
        rec = (gt_b & ndimage.binary_dilation(pred_b, disk)).sum() / gt_b.sum()
        expected = 2 * precision * rec / (precision + rec)
        assert boundary_f_measure(pred, gt, radius) == pytest.approx(expected)


def test_region_similarity_of_shifted_square_and_empty_masks():
    assert region_similarity(square(2, 3), square(2, 2)) == pytest.approx(6 / 12)
    assert region_similarity(square(2, 4), square(2, 2)) == pytest.approx(3 / 15)
    empty = np.zeros((8, 8), dtype=bool)
    assert region_similarity(empty, empty) == 1.0
    assert region_similarity(empty, square(2, 2)) == 0.0


def test_recall_counts_values_strictly_above_half():
    assert recall([0.4, 0.5, 0.6, 0.9]) == 0.5
    assert math.isnan(recall([]))


def test_decay_first_bin_minus_last_bin():
    assert decay([1, 1, 0.5, 0.5, 0.2, 0.2, 0, 0]) == pytest.approx(1.0)
    # Five frames split 2/1/1/1: (1 + 0.8) / 2 - 0.2.
    assert decay([1, 0.8, 0.6, 0.4, 0.2]) == pytest.approx(0.7)
    assert math.isnan(decay([1, 0.5, 0]))


# Pixels (row-major) a..f over four frames; 255 is ignored.
# GT:   a 0000  b 0011  c 1111  d 1111  e 1222  f 255,1,1,1
# pred: a 0000  b 0111  c 1111  d 1110  e 1222  f 1111
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


def window_values(window):
    """VC of every window of ``window`` frames in the VC_GT / VC_PRED sequence."""
    gt_prev = gt_runs = pred_prev = pred_runs = None
    values = []
    for frame, (gt, pred) in enumerate(zip(VC_GT, VC_PRED)):
        gt, pred = np.array(gt), np.array(pred)
        gt_runs = update_label_runs(gt_prev, gt_runs, gt, gt != 255)
        pred_runs = update_label_runs(pred_prev, pred_runs, pred)
        gt_prev, pred_prev = gt, pred
        if frame + 1 >= window:
            values.append(window_consistency(gt_runs, pred_runs, window))
    return values


def test_label_runs_reset_on_change_and_on_ignore():
    gt0, gt1 = np.array(VC_GT[0]), np.array(VC_GT[1])
    runs0 = update_label_runs(None, None, gt0, gt0 != 255)
    np.testing.assert_array_equal(runs0, [[1, 1, 1], [1, 1, 0]])
    runs1 = update_label_runs(gt0, runs0, gt1, gt1 != 255)
    np.testing.assert_array_equal(runs1, [[2, 2, 2], [2, 1, 1]])
    # A pixel ignored in two frames in a row stays at 0, never "constant".
    np.testing.assert_array_equal(update_label_runs(gt0, runs0, gt0, gt0 != 255)[1, 2], 0)


def test_vc2_windows_counted_by_hand():
    # (0,1): a b c d constant, b's prediction changes -> 3/4; (1,2): a c d e f all stable -> 1;
    # (2,3): all six constant, d's prediction changes -> 5/6.
    assert window_values(2) == pytest.approx([3 / 4, 1.0, 5 / 6])


def test_vc3_and_vc4_windows_counted_by_hand():
    # (0-2): a c d, all stable; (1-3): a c d e f, d changes -> 4/5.
    assert window_values(3) == pytest.approx([1.0, 4 / 5])
    assert window_values(4) == pytest.approx([2 / 3])


def test_window_without_constant_gt_is_nan():
    gt_runs = np.array([[1, 1], [0, 1]])
    assert math.isnan(window_consistency(gt_runs, np.full((2, 2), 5), 2))

"""Pure numpy metrics for video semantic segmentation, each usable and testable on its own.

* Confusion matrices and IoU in Detectron2's layout (rows = prediction, columns = ground truth,
  one extra row/column collecting ignore-label pixels), so per-sequence matrices add up to
  ``SemSegEvaluator``'s global one.
* DAVIS-style region similarity J and boundary F-measure on binary foreground masks, with the
  per-sequence statistics Mean, Recall and Decay.
* VSPW-style temporal consistency VC_n, computed incrementally from per-pixel run lengths: a
  pixel's label is identical over the last n frames exactly when the run of equal labels ending
  at the current frame is at least n long, so a sequence needs only its latest labels and two run
  arrays instead of a buffer of n-1 frames.
"""

import math

import numpy as np
from scipy import ndimage


def confusion_matrix(
    pred: np.ndarray, gt: np.ndarray, num_classes: int, ignore_label: int
) -> np.ndarray:
    """Count (prediction, ground truth) label pairs of one frame.

    Args:
        pred: (H, W) integer array of predicted classes in [0, num_classes).
        gt: (H, W) integer array of classes in [0, num_classes) or ``ignore_label``.
        num_classes: C.
        ignore_label: ground-truth value of pixels that are not evaluated.
    Returns:
        (C + 1, C + 1) int64 matrix ``m[p, g]``; ignore-label pixels are counted in column C
        (Detectron2's layout, so the metrics drop them by slicing ``[:-1, :-1]``).
    Raises:
        ValueError if the shapes differ or a label is out of range, because Detectron2's
        bincount would otherwise fold such pixels silently into other cells.
    """
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} != ground-truth shape {gt.shape}")
    gt = np.where(gt == ignore_label, num_classes, gt).astype(np.int64)
    pred = pred.astype(np.int64)
    if gt.size and (gt.min() < 0 or gt.max() > num_classes):
        raise ValueError(
            f"ground truth has labels outside [0, {num_classes}) other than the ignore label "
            f"{ignore_label}: {sorted(set(np.unique(gt).tolist()) - set(range(num_classes + 1)))}"
        )
    if pred.size and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f"prediction has labels outside [0, {num_classes})")
    side = num_classes + 1
    counts = np.bincount(side * pred.reshape(-1) + gt.reshape(-1), minlength=side * side)
    return counts.reshape(side, side)


def iou_per_class(conf: np.ndarray) -> np.ndarray:
    """Intersection over union of every class from a confusion matrix.

    Only pixels with a valid ground truth count, for the prediction too (a class predicted only
    on ignore-label pixels is absent).

    Args:
        conf: (C + 1, C + 1) matrix from :func:`confusion_matrix` (or a sum of them).
    Returns:
        (C,) float64 array; NaN for a class absent from both ground truth and prediction. A class
        predicted but absent from the ground truth gets 0 (its false positives count).
    """
    valid = conf[:-1, :-1].astype(np.float64)
    tp = np.diag(valid)
    union = valid.sum(axis=0) + valid.sum(axis=1) - tp
    iou = np.full(tp.shape, np.nan)
    present = union > 0
    iou[present] = tp[present] / union[present]
    return iou


def mean_iou(conf: np.ndarray) -> float:
    """Mean of :func:`iou_per_class` over the classes present in ground truth or prediction.

    Args:
        conf: (C + 1, C + 1) confusion matrix.
    Returns:
        float in [0, 1]; NaN if no pixel has a valid ground truth.
    """
    iou = iou_per_class(conf)
    present = ~np.isnan(iou)
    return float(iou[present].mean()) if present.any() else math.nan


def boundary_map(mask: np.ndarray, connectivity: int = 4) -> np.ndarray:
    """Pixels of a binary mask that touch a pixel outside it.

    The image border is not treated as a boundary: the frame edge is where the camera stops,
    not an object contour, and counting it would reward every mask that touches the edge.

    Args:
        mask: (H, W) bool array.
        connectivity: 4 (a neighbour above, below, left or right leaves the mask: a thin,
            8-connected contour) or 8 (diagonal neighbours count too: a 4-connected contour).
    Returns:
        (H, W) bool array, True on boundary pixels (a subset of ``mask``).
    """
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    mask = mask.astype(bool)
    interior = ndimage.binary_erosion(mask, structure=structure, border_value=1)
    return mask & ~interior


def boundary_tolerance_px(shape: tuple[int, int], ratio: float) -> int:
    """DAVIS boundary tolerance in pixels: ``ceil(ratio * image diagonal)``.

    Args:
        shape: (H, W) of the frame.
        ratio: tolerance as a fraction of the diagonal (DAVIS uses 0.008).
    Returns:
        non-negative int radius.
    """
    height, width = shape
    return int(math.ceil(ratio * math.hypot(height, width)))


def _within_disk_of(points: np.ndarray, radius: int) -> np.ndarray:
    """Bool (H, W): pixels at Euclidean distance <= radius from a True pixel of ``points``.

    Same result as a binary dilation by the disk ``x**2 + y**2 <= radius**2`` but linear in the
    image size, whereas the dilation's cost grows with the disk area.
    """
    if radius == 0:
        return points.copy()
    return ndimage.distance_transform_edt(~points) <= radius


def boundary_f_measure(
    pred_mask: np.ndarray, gt_mask: np.ndarray, tolerance_px: int, connectivity: int = 4
) -> float:
    """DAVIS boundary F-measure of two binary masks.

    Precision = fraction of predicted boundary pixels within ``tolerance_px`` (Euclidean) of a
    ground-truth boundary pixel; recall = the converse; F = 2PR / (P + R).

    Args:
        pred_mask, gt_mask: (H, W) bool arrays.
        tolerance_px: matching radius in pixels (0 = boundaries must coincide).
        connectivity: passed to :func:`boundary_map`.
    Returns:
        float in [0, 1]; 1.0 when both boundaries are empty, 0.0 when exactly one is.
    """
    pred_boundary = boundary_map(pred_mask, connectivity)
    gt_boundary = boundary_map(gt_mask, connectivity)
    num_pred = int(pred_boundary.sum())
    num_gt = int(gt_boundary.sum())
    if num_pred == 0 and num_gt == 0:
        return 1.0
    if num_pred == 0 or num_gt == 0:
        return 0.0
    precision = (pred_boundary & _within_disk_of(gt_boundary, tolerance_px)).sum() / num_pred
    recall = (gt_boundary & _within_disk_of(pred_boundary, tolerance_px)).sum() / num_gt
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def region_similarity(pred_mask: np.ndarray, gt_mask: np.ndarray) -> float:
    """DAVIS region similarity J: IoU of two binary masks.

    Args:
        pred_mask, gt_mask: (H, W) bool arrays.
    Returns:
        float in [0, 1]; 1.0 when both masks are empty (nothing to find, nothing found).
    """
    pred_mask = pred_mask.astype(bool)
    gt_mask = gt_mask.astype(bool)
    union = np.count_nonzero(pred_mask | gt_mask)
    if union == 0:
        return 1.0
    return np.count_nonzero(pred_mask & gt_mask) / union


def recall(values, threshold: float = 0.5) -> float:
    """DAVIS recall: fraction of frames whose value exceeds ``threshold``.

    Args:
        values: sequence of per-frame floats.
    Returns:
        float in [0, 1]; NaN for an empty sequence.
    """
    values = np.asarray(values, dtype=np.float64)
    return float(np.mean(values > threshold)) if values.size else math.nan


def decay(values, num_bins: int = 4) -> float:
    """DAVIS decay: mean of the first temporal bin minus mean of the last.

    The frames are split in order into ``num_bins`` contiguous bins whose sizes differ by at
    most one (earlier bins take the remainder, as ``np.array_split`` does).

    Args:
        values: per-frame floats in temporal order.
    Returns:
        float (positive when quality drops over time); NaN for fewer than ``num_bins`` frames.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < num_bins:
        return math.nan
    bins = np.array_split(values, num_bins)
    return float(bins[0].mean() - bins[-1].mean())


def update_label_runs(
    prev_labels: np.ndarray | None,
    prev_runs: np.ndarray | None,
    labels: np.ndarray,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Advance per-pixel run lengths of unchanged labels by one frame.

    Args:
        prev_labels: (H, W) labels of the previous frame, or None for a sequence's first frame.
        prev_runs: (H, W) integer runs returned for the previous frame, or None.
        labels: (H, W) labels of the current frame.
        valid: optional (H, W) bool; invalid pixels (ignore label) get run 0, so no window
            containing them is counted.
    Returns:
        (H, W) int32 run lengths: the number of consecutive frames ending at this one over which
        the pixel's label stayed equal and valid.
    """
    if prev_labels is None:
        runs = np.ones(labels.shape, dtype=np.int32)
    else:
        if prev_labels.shape != labels.shape:
            raise ValueError(f"frame shape changed from {prev_labels.shape} to {labels.shape}")
        runs = np.where(labels == prev_labels, prev_runs + 1, 1).astype(np.int32)
    if valid is not None:
        runs[~valid] = 0
    return runs


def window_consistency(gt_runs: np.ndarray, pred_runs: np.ndarray, window: int) -> float:
    """VC of the window of ``window`` frames ending at the current frame.

    Args:
        gt_runs: (H, W) ground-truth runs from :func:`update_label_runs` (0 on ignore pixels).
        pred_runs: (H, W) prediction runs.
        window: n, the number of frames in the window.
    Returns:
        fraction of pixels with a constant valid ground truth over the window whose prediction is
        constant too; NaN when the window has no such pixel (including a sequence shorter than n
        so far), so that the caller skips it.
    """
    gt_constant = gt_runs >= window
    num_constant = np.count_nonzero(gt_constant)
    if num_constant == 0:
        return math.nan
    return np.count_nonzero(gt_constant & (pred_runs >= window)) / num_constant

"""``VideoSemSegEvaluator``: Detectron2's semantic-segmentation metrics plus video metrics.

The global metrics (mIoU, fwIoU, per-class IoU, mACC, pACC) come unchanged from
``SemSegEvaluator``; this subclass adds, per sequence and averaged over sequences:

* ``mIoU_seq``: mean over sequences of each sequence's mIoU. Within a sequence, a class counts
  when it occurs in the ground truth or in the prediction (on pixels with a valid ground truth);
  classes absent from both are left out of that sequence's mean.
* ``VC_<n>``: VSPW temporal consistency over windows of n consecutive labelled frames, averaged
  over all windows of all sequences. A window none of whose pixels keeps one valid ground-truth
  label throughout has no defined VC and is skipped.
* DAVIS J and F on the foreground (every class but background 0, ignore pixels excluded from
  both masks as DAVIS does with void pixels): Mean, Recall and Decay, and ``JF_mean``.

All values are percentages, like Detectron2's mIoU. Frames of a sequence must arrive together
and in increasing ``frame_index`` (what the sequential test loader does); only the open
sequence's latest labels and label-run arrays are kept, so memory does not grow with the data.
"""

import copy
import csv
import json
import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch
from detectron2.evaluation import SemSegEvaluator
from detectron2.utils import comm
from detectron2.utils.file_io import PathManager

from i2v_plugin.data.label_io import load_label_for_evaluator
from i2v_plugin.modeling.class_map import class_map

from .video_metrics import (
    boundary_f_measure,
    boundary_tolerance_px,
    confusion_matrix,
    decay,
    mean_iou,
    recall,
    region_similarity,
    update_label_runs,
    window_consistency,
)

BACKGROUND_CLASS = 0
PER_SEQUENCE_CSV = "video_per_sequence.csv"
SUMMARY_JSON = "video_summary.json"

logger = logging.getLogger(__name__)


@dataclass
class SequenceStats:
    """Mergeable accumulators of one sequence (picklable, so ranks can gather them).

    conf: (C + 1, C + 1) int64 confusion matrix (Detectron2 layout).
    frames: (frame_index, J, F) per processed frame, in arrival order.
    vc_sum / vc_windows: per window size n, the sum of window VC values and the window count.
    """

    conf: np.ndarray
    frames: list[tuple[int, float, float]] = field(default_factory=list)
    vc_sum: dict[int, float] = field(default_factory=dict)
    vc_windows: dict[int, int] = field(default_factory=dict)

    def merge(self, other: "SequenceStats") -> None:
        """Add ``other``'s counts into this one (a sequence split across ranks)."""
        self.conf += other.conf
        self.frames.extend(other.frames)
        for n, total in other.vc_sum.items():
            self.vc_sum[n] = self.vc_sum.get(n, 0.0) + total
            self.vc_windows[n] = self.vc_windows.get(n, 0) + other.vc_windows[n]


@dataclass
class _OpenSequence:
    """Temporal state of the sequence whose frames are arriving; never gathered."""

    key: str
    frame_index: int
    num_frames: int
    gt: np.ndarray
    gt_runs: np.ndarray
    pred: np.ndarray
    pred_runs: np.ndarray


def merge_sequence_stats(per_rank: list[dict[str, SequenceStats]]) -> dict[str, SequenceStats]:
    """Merge per-rank ``{sequence: SequenceStats}`` dicts into new objects (inputs untouched)."""
    merged: dict[str, SequenceStats] = {}
    for sequences in per_rank:
        for key, stats in sequences.items():
            if key in merged:
                merged[key].merge(stats)
            else:
                merged[key] = copy.deepcopy(stats)
    return merged


def _nanmean(values) -> float:
    """Mean of the non-NaN values; NaN (without a numpy warning) when there are none."""
    values = np.asarray(list(values), dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


class VideoSemSegEvaluator(SemSegEvaluator):
    """``SemSegEvaluator`` plus per-sequence mIoU, VC_n and DAVIS J&F (see module docstring).

    Inputs without ``"video_id"`` (an image split) are one-frame sequences keyed by file name;
    their VC is then NaN, since no window of n >= 2 frames exists.
    """

    def __init__(
        self,
        dataset_name: str,
        distributed: bool = True,
        output_dir: str | None = None,
        *,
        vc_windows: tuple[int, ...] = (8, 16),
        boundary_tolerance: float = 0.008,
    ):
        """
        Args:
            dataset_name: registered dataset; its metadata gives ``stuff_classes`` (class 0 is
                background) and ``ignore_label``.
            distributed: gather results from all ranks in :meth:`evaluate`.
            output_dir: where to write Detectron2's files plus the per-sequence CSV and summary.
            vc_windows: window sizes n of VC_n (each >= 1).
            boundary_tolerance: F-measure matching radius as a fraction of the image diagonal.
        """
        super().__init__(
            dataset_name, distributed, output_dir, sem_seg_loading_fn=load_label_for_evaluator
        )
        if not vc_windows or any(int(n) != n or n < 1 for n in vc_windows):
            raise ValueError(f"vc_windows must be positive integers, got {vc_windows}")
        if boundary_tolerance < 0:
            raise ValueError(f"boundary_tolerance must be >= 0, got {boundary_tolerance}")
        self._vc_windows = tuple(sorted({int(n) for n in vc_windows}))
        self._boundary_tolerance = boundary_tolerance
        if self._class_names[BACKGROUND_CLASS].lower() != "background":
            logger.warning(
                "%s: class 0 is %r, not 'background'; J&F still treat it as background.",
                dataset_name,
                self._class_names[BACKGROUND_CLASS],
            )

    def reset(self):
        super().reset()
        self._sequences: dict[str, SequenceStats] = {}
        self._open: _OpenSequence | None = None
        self._closed_keys: set[str] = set()

    def process(self, inputs, outputs):
        """Accumulate one batch.

        Args:
            inputs: dicts with "file_name", and for video frames "video_id" and "frame_index".
            outputs: dicts with "sem_seg", a (C, H, W) float tensor of logits.
        """
        for inp, out in zip(inputs, outputs):
            pred = np.asarray(class_map(out["sem_seg"]).to(torch.device("cpu")), dtype=np.int64)
            gt = self.sem_seg_loading_fn(self.input_file_to_gt_file[inp["file_name"]], dtype=int)
            key = str(inp.get("video_id", inp["file_name"]))
            stats = self._sequences.get(key)
            if stats is None:
                side = self._num_classes + 1
                stats = self._sequences[key] = SequenceStats(np.zeros((side, side), np.int64))
            frame_index = int(inp.get("frame_index", len(stats.frames)))
            stats.conf += confusion_matrix(pred, gt, self._num_classes, self._ignore_label)

            valid = gt != self._ignore_label
            gt_fg = valid & (gt != BACKGROUND_CLASS)
            pred_fg = valid & (pred != BACKGROUND_CLASS)
            tolerance = boundary_tolerance_px(gt.shape, self._boundary_tolerance)
            j = region_similarity(pred_fg, gt_fg)
            f = boundary_f_measure(pred_fg, gt_fg, tolerance)
            stats.frames.append((frame_index, j, f))

            self._update_consistency(key, frame_index, gt, valid, pred, stats)
        super().process(inputs, outputs)

    def _update_consistency(self, key, frame_index, gt, valid, pred, stats: SequenceStats):
        """Advance the open sequence's label runs and count every window that ends here."""
        state = self._open
        if state is not None and state.key != key:
            self._closed_keys.add(state.key)
            state = None
        if state is None and key in self._closed_keys:
            logger.warning(
                "Sequence %r resumed after another sequence; VC windows across the gap are lost.",
                key,
            )
        if state is not None and frame_index <= state.frame_index:
            logger.warning(
                "Sequence %r: frame_index %d after %d; VC restarts at this frame.",
                key,
                frame_index,
                state.frame_index,
            )
            state = None
        if state is None:
            gt_runs = update_label_runs(None, None, gt, valid)
            pred_runs = update_label_runs(None, None, pred)
            num_frames = 1
        else:
            gt_runs = update_label_runs(state.gt, state.gt_runs, gt, valid)
            pred_runs = update_label_runs(state.pred, state.pred_runs, pred)
            num_frames = state.num_frames + 1
        for n in self._vc_windows:
            if num_frames < n:
                continue
            vc = window_consistency(gt_runs, pred_runs, n)
            if not math.isnan(vc):
                stats.vc_sum[n] = stats.vc_sum.get(n, 0.0) + vc
                stats.vc_windows[n] = stats.vc_windows.get(n, 0) + 1
        self._open = _OpenSequence(key, frame_index, num_frames, gt, gt_runs, pred, pred_runs)

    def evaluate(self):
        """Global metrics from ``SemSegEvaluator`` plus the video metrics.

        Returns:
            ``{"sem_seg": {...}}`` on the main process, None on the others.
        """
        results = super().evaluate()
        if self._distributed:
            per_rank = comm.gather(self._sequences, dst=0)
            if not comm.is_main_process():
                return None
            sequences = merge_sequence_stats(per_rank)
        else:
            sequences = self._sequences

        rows = [self._sequence_row(key, sequences[key]) for key in sorted(sequences)]
        summary = self._summarize(rows, sequences)
        results["sem_seg"].update(summary)
        logger.info("Video metrics on %s: %s", self._dataset_name, summary)
        if self._output_dir:
            self._write_outputs(rows, results["sem_seg"])
        return results

    def _sequence_row(self, key: str, stats: SequenceStats) -> dict:
        """One sequence's metrics, in percent."""
        ordered = sorted(stats.frames, key=lambda frame: frame[0])
        j_values = [frame[1] for frame in ordered]
        f_values = [frame[2] for frame in ordered]
        row = {"sequence": key, "frames": len(ordered), "mIoU": 100 * mean_iou(stats.conf)}
        for name, values in (("J", j_values), ("F", f_values)):
            row[f"{name}_mean"] = 100 * _nanmean(values)
            row[f"{name}_recall"] = 100 * recall(values)
            row[f"{name}_decay"] = 100 * decay(values)
        row["JF_mean"] = (row["J_mean"] + row["F_mean"]) / 2
        for n in self._vc_windows:
            windows = stats.vc_windows.get(n, 0)
            row[f"VC_{n}"] = 100 * stats.vc_sum[n] / windows if windows else math.nan
        return row

    def _summarize(self, rows: list[dict], sequences: dict[str, SequenceStats]) -> dict:
        """Averages over sequences; VC_n averages over all windows of all sequences."""
        summary = {"mIoU_seq": _nanmean(row["mIoU"] for row in rows)}
        for n in self._vc_windows:
            windows = sum(stats.vc_windows.get(n, 0) for stats in sequences.values())
            total = sum(stats.vc_sum.get(n, 0.0) for stats in sequences.values())
            summary[f"VC_{n}"] = 100 * total / windows if windows else math.nan
        for name in ("J", "F"):
            for stat in ("mean", "recall", "decay"):
                key = f"{name}_{stat}"
                summary[key] = _nanmean(row[key] for row in rows)
        summary["JF_mean"] = (summary["J_mean"] + summary["F_mean"]) / 2
        return summary

    def _write_outputs(self, rows: list[dict], results: dict) -> None:
        """Write the per-sequence CSV and the summary JSON (NaN written as null)."""
        PathManager.mkdirs(self._output_dir)
        columns = ["sequence", "frames", "mIoU"]
        columns += [f"{n}_{s}" for n in ("J", "F") for s in ("mean", "recall", "decay")]
        columns += ["JF_mean"] + [f"VC_{n}" for n in self._vc_windows]
        with PathManager.open(os.path.join(self._output_dir, PER_SEQUENCE_CSV), "w") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        summary = {
            key: None if isinstance(value, float) and math.isnan(value) else float(value)
            for key, value in results.items()
        }
        with PathManager.open(os.path.join(self._output_dir, SUMMARY_JSON), "w") as f:
            json.dump(summary, f, indent=2)

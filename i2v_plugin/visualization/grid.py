"""Qualitative prediction grid: rows of (frame, ground truth, one prediction per checkpoint)."""

import os

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..data.label_io import read_label_map
from ..inference.frame_predictor import FramePredictor
from ..inference.palette import CLASS_PALETTE, IGNORE_INDEX, colorize
from ..inference.sources import read_rgb_image


def pick_samples(dataset_name: str, num: int) -> list[dict]:
    """``num`` labeled samples spread evenly over the split (deterministic).

    Raises ValueError naming the split if it has no labeled sample.
    """
    if num < 1:
        raise ValueError(f"num must be >= 1, got {num}")
    dicts = [d for d in DatasetCatalog.get(dataset_name) if "sem_seg_file_name" in d]
    if not dicts:
        raise ValueError(f"Dataset {dataset_name!r} has no labeled sample (sem_seg_file_name)")
    positions = np.unique(np.linspace(0, len(dicts) - 1, num).round().astype(int))
    return [dicts[i] for i in positions]


def pixel_accuracy(prediction: np.ndarray, label: np.ndarray) -> float:
    """Fraction of labeled pixels (label != 255) predicted right; NaN if none is labeled."""
    valid = label != IGNORE_INDEX
    return float((prediction[valid] == label[valid]).mean()) if valid.any() else float("nan")


def predict_samples(cfg, samples: list[dict], weights: dict[str, str]) -> dict[str, list]:
    """Class maps of every sample for every checkpoint: {name: [(H, W) uint8, ...]}."""
    frames = [read_rgb_image(d["file_name"]) for d in samples]
    predictions = {}
    for name, path in weights.items():
        predictor = FramePredictor(cfg, weights=path)
        # One frame per call: splits may mix frame sizes.
        predictions[name] = [predictor.predict_frames([f])[0] for f in frames]
    return predictions


def _sample_label(sample: dict) -> str:
    if "video_id" in sample:
        return f"{sample['video_id']} #{sample.get('frame_index', '?')}"
    return os.path.basename(sample["file_name"])


def _legend_handles(classes, labels: list[np.ndarray]) -> list[Patch]:
    present = sorted(set(np.unique(np.concatenate([m.ravel() for m in labels]))) - {IGNORE_INDEX})
    return [
        Patch(
            facecolor=CLASS_PALETTE[c] / 255.0,
            edgecolor="grey",
            label=classes[c] if c < len(classes) else str(c),
        )
        for c in present
    ]


def prediction_grid(cfg, dataset_name: str, weights: dict[str, str], num: int = 4) -> Figure:
    """Figure with one row per sample: frame, ground truth, then each checkpoint's prediction
    (titled with its pixel accuracy on that frame), and a legend of the classes shown.

    Args:
        cfg: model config shared by all checkpoints.
        dataset_name: a registered labeled split (e.g. ``i2v_synth_videos_val``).
        weights: display name -> checkpoint path, in column order (at least one).
        num: number of rows.
    """
    if not weights:
        raise ValueError("prediction_grid needs at least one checkpoint (name=path)")
    samples = pick_samples(dataset_name, num)
    predictions = predict_samples(cfg, samples, weights)
    labels = [read_label_map(d["sem_seg_file_name"]) for d in samples]
    classes = MetadataCatalog.get(dataset_name).get("stuff_classes", [])
    columns = ["frame", "ground truth", *weights]
    fig = Figure(figsize=(2.0 * len(columns), 2.0 * len(samples) + 0.8), layout="constrained")
    axes = fig.subplots(len(samples), len(columns), squeeze=False)
    for row, (sample, label) in enumerate(zip(samples, labels)):
        cells = [read_rgb_image(sample["file_name"]), colorize(label)]
        cells += [colorize(predictions[name][row]) for name in weights]
        for col, (ax, image) in enumerate(zip(axes[row], cells)):
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            title = columns[col] if row == 0 else ""
            if col >= 2:
                accuracy = pixel_accuracy(predictions[columns[col]][row], label)
                title = f"{title}\n" if title else ""
                title += f"pixel acc {100 * accuracy:.0f}%"
            ax.set_title(title, fontsize=8)
        axes[row][0].set_ylabel(_sample_label(sample), fontsize=7)
    handles = _legend_handles(classes, labels + [p for v in predictions.values() for p in v])
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)), fontsize=7)
    return fig

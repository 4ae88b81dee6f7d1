"""The two-stream training loader: a labeled stream and an unlabeled stream, each with its own
sampler and workers, zipped into one mixed batch per step."""

import logging

from detectron2.data import (
    DatasetCatalog,
    DatasetFromList,
    MetadataCatalog,
    build_batch_data_loader,
)
from detectron2.utils import comm

from ..modeling.adversarial.build import adversarial_enabled
from .mapper import I2VDatasetMapper
from .samplers import ResumableTrainingSampler, SeededMapDataset

logger = logging.getLogger(__name__)


class TrainStream:
    """One infinite, resumable stream of mapped batches from a list of dataset dicts."""

    def __init__(
        self, dicts: list[dict], mapper, total_batch_size: int, num_workers: int, seed: int
    ):
        """
        Args:
            dicts: dataset dicts of this stream.
            mapper: dict -> model input dict (or None to draw another sample).
            total_batch_size: samples per step summed over all processes.
            num_workers: data-loading worker processes per process.
            seed: shuffling / augmentation seed, identical on every process.
        """
        self.total_batch_size = total_batch_size
        self.sampler = ResumableTrainingSampler(len(dicts), seed=seed)
        dataset = SeededMapDataset(DatasetFromList(dicts, copy=False), mapper, seed=seed)
        # The loader's own generator: without it, starting the loader draws its worker base seed
        # from torch's global RNG in the middle of the first step of every run, after
        # StepSeedHook seeded that step, so a resumed run's first step would see other dropout.
        self.loader = build_batch_data_loader(
            dataset, self.sampler, total_batch_size, num_workers=num_workers, seed=seed
        )

    def set_start_iter(self, start_iter: int) -> None:
        """Continue the stream as if ``start_iter`` steps had been consumed already."""
        self.sampler.start_position = start_iter * self.total_batch_size

    def __iter__(self):
        return iter(self.loader)


class TwoStreamLoader:
    """Yields ``labeled_batch + unlabeled_batch`` (lists of dicts) forever.

    Each step takes exactly one batch from every stream, so every batch holds the configured mix
    and nothing is dropped or shared between streams.
    """

    def __init__(self, labeled: TrainStream, unlabeled: TrainStream | None = None):
        self.streams = [s for s in (labeled, unlabeled) if s is not None]

    def set_start_iter(self, start_iter: int) -> None:
        for stream in self.streams:
            stream.set_start_iter(start_iter)

    def __iter__(self):
        for batches in zip(*self.streams):
            yield [sample for batch in batches for sample in batch]


def load_dataset_dicts(names, role: str) -> list[dict]:
    """Concatenate registered datasets; an empty one is an error naming it and its role."""
    dicts = []
    for name in names:
        items = DatasetCatalog.get(name)
        if not items:
            raise ValueError(
                f"Dataset {name!r} ({role}) has no samples. Check its files under "
                "$DETECTRON2_DATASETS (see datasets/README.md)."
            )
        dicts.extend(items)
    return dicts


def check_class_count(names, num_classes: int) -> None:
    """Labeled training sets must have exactly the classes the head predicts."""
    for name in names:
        classes = MetadataCatalog.get(name).get("stuff_classes")
        if classes is not None and len(classes) != num_classes:
            raise ValueError(
                f"Dataset {name!r} has {len(classes)} classes {list(classes)} but "
                f"MODEL.SEM_SEG_HEAD.NUM_CLASSES is {num_classes}; set NUM_CLASSES to match (the "
                "class list is stored with the prepared dataset, see datasets/README.md)."
            )


def _stream_seed(cfg, offset: int) -> int:
    seed = cfg.SEED if cfg.SEED >= 0 else comm.shared_random_seed()
    return int(seed) + offset


def build_i2v_train_loader(cfg) -> TwoStreamLoader:
    """Build the training loader from ``cfg.DATASETS.TRAIN`` (labeled) and
    ``cfg.DATASETS.TRAIN_UNLABELED`` (used only when an adversarial loss is on)."""
    if not cfg.DATASETS.TRAIN:
        raise ValueError("DATASETS.TRAIN is empty: the segmentation loss needs labeled data.")
    mapper = I2VDatasetMapper(cfg, is_train=True)
    labeled_dicts = load_dataset_dicts(cfg.DATASETS.TRAIN, "DATASETS.TRAIN, labeled")
    missing = [d.get("file_name") for d in labeled_dicts[:1000] if "sem_seg_file_name" not in d]
    if missing:
        raise ValueError(
            f"DATASETS.TRAIN must be labeled, but e.g. {missing[0]} has no 'sem_seg_file_name'; "
            "put unlabeled datasets in DATASETS.TRAIN_UNLABELED."
        )
    check_class_count(cfg.DATASETS.TRAIN, cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES)
    workers = cfg.DATALOADER.NUM_WORKERS
    labeled = TrainStream(
        labeled_dicts, mapper, cfg.SOLVER.IMS_PER_BATCH_LABELED, workers, _stream_seed(cfg, 0)
    )
    if not adversarial_enabled(cfg):
        if cfg.DATASETS.TRAIN_UNLABELED:
            logger.info("No adversarial loss configured: DATASETS.TRAIN_UNLABELED is not loaded.")
        return TwoStreamLoader(labeled)

    domains = {d["domain"] for d in labeled_dicts}
    unlabeled = None
    if cfg.DATASETS.TRAIN_UNLABELED:
        unlabeled_dicts = load_dataset_dicts(
            cfg.DATASETS.TRAIN_UNLABELED, "DATASETS.TRAIN_UNLABELED, unlabeled"
        )
        # Labels of an "unlabeled" set are never used; dropping them keeps the streams distinct.
        unlabeled_dicts = [
            {k: v for k, v in d.items() if k != "sem_seg_file_name"} for d in unlabeled_dicts
        ]
        domains |= {d["domain"] for d in unlabeled_dicts}
        unlabeled = TrainStream(
            unlabeled_dicts,
            mapper,
            cfg.SOLVER.IMS_PER_BATCH_UNLABELED,
            workers,
            _stream_seed(cfg, 1),
        )
    if domains != {"image", "video"}:
        raise ValueError(
            f"Adversarial training needs both domains, but the training data has only {domains}. "
            "Add image or video datasets to DATASETS.TRAIN or DATASETS.TRAIN_UNLABELED."
        )
    return TwoStreamLoader(labeled, unlabeled)

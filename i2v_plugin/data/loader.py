"""The two-stream training loader: a labeled stream and an unlabeled stream, each with its own
sampler and workers, zipped into one mixed batch per step.

Unlabeled datasets of encoded videos (single frames) are read by the video stream
(``video_stream.py``, ``DATALOADER.VIDEO_STREAM``); every other stream maps one sample at a time.
Each step records its skipped samples (``skips.py``) as ``i2v/skipped_samples``.
"""

import logging

from detectron2.data import (
    DatasetCatalog,
    DatasetFromList,
    MetadataCatalog,
    build_batch_data_loader,
)
from detectron2.utils import comm
from detectron2.utils.events import get_event_storage

from ..utils.input_needs import InputNeeds, needs_of
from .datasets.video_folder import resolve_video_folder_name
from .mapper import I2VDatasetMapper
from .samplers import ResumableTrainingSampler, SeededMapDataset
from .skips import SKIPPED_KEY, SKIPPED_METRIC
from .video_stream import VideoFrameStream, VideoTrainStream

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
    and nothing is dropped or shared between streams. Inside training (an active
    ``EventStorage``) each batch's skipped samples are recorded as ``i2v/skipped_samples`` of the
    step that fetches it; ``skipped_samples`` totals them since this loader started.
    """

    def __init__(self, labeled, unlabeled=None):
        """
        Args:
            labeled: a ``TrainStream``, or a list of them (one per labeled dataset,
                ``DATASETS.TRAIN_SAMPLES_PER_STEP``), concatenated in that order.
            unlabeled: ``TrainStream`` or ``VideoTrainStream``, or None.
        """
        labeled = list(labeled) if isinstance(labeled, (list, tuple)) else [labeled]
        self.streams = [s for s in (*labeled, unlabeled) if s is not None]
        self.skipped_samples = 0

    def set_start_iter(self, start_iter: int) -> None:
        for stream in self.streams:
            stream.set_start_iter(start_iter)

    def __iter__(self):
        for batches in zip(*self.streams):
            batch = [sample for batch in batches for sample in batch]
            skipped = sum(int(sample.get(SKIPPED_KEY, 0)) for sample in batch)
            self.skipped_samples += skipped
            storage = _active_storage()
            if storage is not None:
                storage.put_scalar(SKIPPED_METRIC, skipped, smoothing_hint=False)
            yield batch


def _active_storage():
    """The training ``EventStorage``, or None outside training (tools, tests)."""
    try:
        return get_event_storage()
    except (AssertionError, IndexError):
        return None


def load_dataset_dicts(names, role: str) -> list[dict]:
    """Concatenate registered datasets; an empty one is an error naming it and its role.

    A name ``video_folder:<path>`` is the folder of videos at ``<path>`` (registered on first use,
    see ``datasets/video_folder.py``).
    """
    dicts = []
    for name in names:
        resolve_video_folder_name(name)
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


def uses_video_stream(cfg, dicts: list[dict]) -> bool:
    """Whether unlabeled ``dicts`` are read by the video stream: it is enabled, samples are
    single frames, and every dict is an encoded video."""
    if not cfg.DATALOADER.VIDEO_STREAM.ENABLED:
        return False
    if cfg.INPUT.CLIP.LENGTH > 1:
        logger.info("Unlabeled clips are read one sample at a time (INPUT.CLIP.LENGTH > 1).")
        return False
    if not all("video_file" in d for d in dicts):
        logger.info(
            "Unlabeled data is read one sample at a time: the video stream needs every "
            "DATASETS.TRAIN_UNLABELED sample to be an encoded video."
        )
        return False
    return True


def build_unlabeled_stream(cfg, dicts: list[dict], mapper, seed: int):
    """The unlabeled stream: ``VideoTrainStream`` when ``uses_video_stream``, else a
    ``TrainStream``."""
    batch, workers = cfg.SOLVER.IMS_PER_BATCH_UNLABELED, cfg.DATALOADER.NUM_WORKERS
    if not uses_video_stream(cfg, dicts):
        return TrainStream(dicts, mapper, batch, workers, seed)
    options = cfg.DATALOADER.VIDEO_STREAM
    sizes = cfg.INPUT.MIN_SIZE_TRAIN
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
    short_edge = long_edge = 0
    if options.DOWNSCALE and 0 not in sizes:  # a size of 0 keeps the native size
        short_edge, long_edge = max(sizes), cfg.INPUT.MAX_SIZE_TRAIN
    dataset = VideoFrameStream(
        dicts,
        mapper,
        total_batch_size=batch,
        seed=seed,
        frames_per_window=options.FRAMES_PER_WINDOW,
        windows_per_block=options.WINDOWS_PER_BLOCK,
        short_edge=short_edge,
        long_edge=long_edge,
        max_skip_fraction=options.MAX_SKIP_FRACTION,
    )
    logger.info(
        "Unlabeled videos: %d frames per decoded window, %d windows per block (%d steps).",
        options.FRAMES_PER_WINDOW,
        options.WINDOWS_PER_BLOCK,
        dataset.steps_per_block,
    )
    return VideoTrainStream(dataset, workers)


def build_labeled_streams(cfg, mapper, per_dataset: list[list[dict]]) -> list[TrainStream]:
    """The labeled stream(s): one over all of ``DATASETS.TRAIN`` with
    ``SOLVER.IMS_PER_BATCH_LABELED`` samples per step, or, with
    ``DATASETS.TRAIN_SAMPLES_PER_STEP``, one per dataset with its own count (the paper's joint
    batches: 4 labeled images + 4 labeled frames every step, whatever the datasets' sizes).

    Args:
        per_dataset: the dicts of each ``DATASETS.TRAIN`` dataset, in order.
    """
    names, counts = list(cfg.DATASETS.TRAIN), list(cfg.DATASETS.TRAIN_SAMPLES_PER_STEP)
    workers = cfg.DATALOADER.NUM_WORKERS
    total = cfg.SOLVER.IMS_PER_BATCH_LABELED
    if not counts:
        dicts = [d for items in per_dataset for d in items]
        return [TrainStream(dicts, mapper, total, workers, _stream_seed(cfg, 0))]
    world = comm.get_world_size()
    if len(counts) != len(names) or sum(counts) != total or min(counts) < 1:
        raise ValueError(
            f"DATASETS.TRAIN_SAMPLES_PER_STEP {tuple(counts)} must give one count >= 1 per "
            f"DATASETS.TRAIN dataset {tuple(names)}, summing to SOLVER.IMS_PER_BATCH_LABELED "
            f"({total})"
        )
    if any(count % world for count in counts):
        raise ValueError(
            f"DATASETS.TRAIN_SAMPLES_PER_STEP {tuple(counts)}: every count must be a multiple of "
            f"the number of processes ({world})"
        )
    streams = []
    for index, (dicts, count) in enumerate(zip(per_dataset, counts)):
        # The first stream keeps the single-stream seed; the others get their own.
        offset = 0 if index == 0 else 100 + index
        streams.append(TrainStream(dicts, mapper, count, workers, _stream_seed(cfg, offset)))
    return streams


def build_i2v_train_loader(cfg, needs: InputNeeds | None = None) -> TwoStreamLoader:
    """Build the training loader from ``cfg.DATASETS.TRAIN`` (labeled) and
    ``cfg.DATASETS.TRAIN_UNLABELED``.

    Args:
        cfg: the config.
        needs: what the model's objectives need (the trainer passes
            ``modeling.objectives.required_inputs(cfg)``); None asks the registered provider
            (``utils/input_needs.py``), which gives the same answer.
    Returns:
        ``TwoStreamLoader``; the unlabeled stream exists when ``needs.unlabeled`` and
        ``DATASETS.TRAIN_UNLABELED`` is set. With ``needs.both_domains`` the training data must
        hold images and videos.
    """
    needs = needs_of(cfg) if needs is None else needs
    if not cfg.DATASETS.TRAIN:
        raise ValueError("DATASETS.TRAIN is empty: the segmentation loss needs labeled data.")
    mapper = I2VDatasetMapper(cfg, is_train=True)
    per_dataset = [
        load_dataset_dicts([name], "DATASETS.TRAIN, labeled") for name in cfg.DATASETS.TRAIN
    ]
    labeled_dicts = [d for items in per_dataset for d in items]
    missing = [d.get("file_name") for d in labeled_dicts[:1000] if "sem_seg_file_name" not in d]
    if missing:
        raise ValueError(
            f"DATASETS.TRAIN must be labeled, but e.g. {missing[0]} has no 'sem_seg_file_name'; "
            "put unlabeled datasets in DATASETS.TRAIN_UNLABELED."
        )
    check_class_count(cfg.DATASETS.TRAIN, cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES)
    labeled = build_labeled_streams(cfg, mapper, per_dataset)
    if not needs.unlabeled:
        if cfg.DATASETS.TRAIN_UNLABELED:
            logger.info("No loss uses unlabeled data: DATASETS.TRAIN_UNLABELED is not loaded.")
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
        unlabeled = build_unlabeled_stream(cfg, unlabeled_dicts, mapper, _stream_seed(cfg, 1))
    if needs.both_domains and domains != {"image", "video"}:
        raise ValueError(
            f"Adversarial training needs both domains, but the training data has only {domains}. "
            "Add image or video datasets to DATASETS.TRAIN or DATASETS.TRAIN_UNLABELED."
        )
    return TwoStreamLoader(labeled, unlabeled)

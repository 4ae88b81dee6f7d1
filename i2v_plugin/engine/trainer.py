"""``I2VTrainer``: Detectron2's ``DefaultTrainer`` with the plugin's loader, evaluators, optimizer
and schedule. The training step itself is Detectron2's stock ``SimpleTrainer.run_step``."""

import logging
import os
import weakref

import torch
from detectron2.data import MetadataCatalog, build_detection_test_loader
from detectron2.engine import (
    DefaultTrainer,
    SimpleTrainer,
    TrainerBase,
    create_ddp_model,
)
from detectron2.engine import hooks as d2_hooks
from detectron2.evaluation import DatasetEvaluators, SemSegEvaluator
from detectron2.projects.deeplab import build_lr_scheduler
from detectron2.solver import get_default_optimizer_params
from detectron2.solver.build import maybe_add_gradient_clipping
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..data import I2VDatasetMapper, build_i2v_train_loader
from ..data.label_io import load_label_for_evaluator
from ..data.loader import TrainStream, build_unlabeled_stream, load_dataset_dicts
from ..evaluation import ForegroundBackgroundEvaluator, VideoSemSegEvaluator
from ..modeling.objectives import has_discriminators, required_inputs
from .adabn import AdaBNHook, effective_unlabeled_bn
from .amp import I2VAMPTrainer
from .checkpoint import AtomicCheckpointer
from .discriminator_health import DiscriminatorHealthHook
from .grad_clip import GroupClipHook
from .hooks import StepSeedHook
from .periodic_eval import averaged_network_for_evaluation
from .weight_ema import WeightEMAHook, build_weight_ema

logger = logging.getLogger(__name__)


class I2VTrainer(DefaultTrainer):
    """Trainer for ``I2VSemanticSegmentor`` (two-stream data, adversarial losses, resumable)."""

    def __init__(self, cfg):
        """``DefaultTrainer.__init__`` with four changes: DDP also works for CPU models (gloo),
        checkpoints are written atomically, ``REFERENCE_WORLD_SIZE`` scales the two
        per-stream batch sizes, and ``SOLVER.AMP`` autocasts on the model's device
        (``amp.py``). Copied because Detectron2 hard-codes GPU device ids in it;
        ``tests/engine/test_trainer_constructor.py`` fails if Detectron2's version changes."""
        TrainerBase.__init__(self)
        if not logging.getLogger("detectron2").isEnabledFor(logging.INFO):
            setup_logger()
        cfg = self.auto_scale_workers(cfg, comm.get_world_size())
        model = self.build_model(cfg)
        optimizer = self.build_optimizer(cfg, model)
        data_loader = self.build_train_loader(cfg)
        # Detectron2 passes device_ids=[local rank], which DDP accepts only for GPU models.
        on_gpu = next(model.parameters()).device.type == "cuda"
        device_ids = [comm.get_local_rank()] if on_gpu else None
        model = create_ddp_model(model, broadcast_buffers=False, device_ids=device_ids)
        if cfg.SOLVER.AMP.ENABLED:
            self._trainer = I2VAMPTrainer(model, data_loader, optimizer, cfg.SOLVER.AMP.PRECISION)
        else:
            self._trainer = SimpleTrainer(model, data_loader, optimizer)
        self.scheduler = self.build_lr_scheduler(cfg, optimizer)
        self.checkpointer = AtomicCheckpointer(model, cfg.OUTPUT_DIR, trainer=weakref.proxy(self))
        if effective_unlabeled_bn(cfg) != cfg.MODEL.I2V.UNLABELED_BN:
            logger.warning(
                "MODEL.I2V.UNLABELED_BN 'update' has no effect here: the running statistics are "
                "re-estimated after training (SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS or TEST.ADABN), "
                "so this run trains and evaluates the same network as with 'batch'"
            )
        self.weight_ema = None
        if cfg.SOLVER.WEIGHT_EMA.ENABLED:
            # Built before resume_or_load, so that --resume restores the average too.
            self.weight_ema = build_weight_ema(model, cfg.SOLVER.WEIGHT_EMA.DECAY)
            self.checkpointer.add_checkpointable("weight_ema", self.weight_ema)
        if cfg.SOLVER.GROUP_CLIP.ENABLED:
            if cfg.SOLVER.CLIP_GRADIENTS.ENABLED:
                raise ValueError(
                    "SOLVER.GROUP_CLIP and SOLVER.CLIP_GRADIENTS both clip gradients; enable one"
                )
            # On the trainer that runs the step: it calls after_backward on its own hooks.
            self._trainer.register_hooks([GroupClipHook(model, cfg.SOLVER.GROUP_CLIP.MAX_NORM)])
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    @staticmethod
    def auto_scale_workers(cfg, num_workers: int):
        """Detectron2's ``REFERENCE_WORLD_SIZE`` scaling (LR, iterations, warm-up, periods),
        applied to the two per-stream batch sizes ``SOLVER.IMS_PER_BATCH_LABELED`` /
        ``_UNLABELED``: each keeps its per-process share. ``SOLVER.IMS_PER_BATCH`` is not read by
        this plugin; it is set to the scaled sum for the record.

        Raises:
            ValueError when ``REFERENCE_WORLD_SIZE`` does not divide a per-stream batch size.
        """
        reference = cfg.SOLVER.REFERENCE_WORLD_SIZE
        if reference == 0 or reference == num_workers:
            return cfg
        keys = ("IMS_PER_BATCH_LABELED", "IMS_PER_BATCH_UNLABELED")
        sizes = {key: cfg.SOLVER[key] for key in keys}
        uneven = {f"SOLVER.{k}": v for k, v in sizes.items() if v % reference}
        if uneven:
            raise ValueError(
                f"SOLVER.REFERENCE_WORLD_SIZE {reference} must divide the per-stream batch sizes, "
                f"got {uneven}; set REFERENCE_WORLD_SIZE 0 to turn the scaling off"
            )
        # One sample per reference process makes Detectron2's scale exactly world / reference.
        base = cfg.clone()
        base.defrost()
        base.SOLVER.IMS_PER_BATCH = reference
        scaled = DefaultTrainer.auto_scale_workers(base, num_workers)
        for key, size in sizes.items():
            scaled.SOLVER[key] = size // reference * num_workers
        scaled.SOLVER.IMS_PER_BATCH = sum(scaled.SOLVER[key] for key in keys)
        if cfg.is_frozen():
            scaled.freeze()
        return scaled

    @classmethod
    def build_train_loader(cls, cfg):
        """The two-stream loader, with the unlabeled input the config's objectives need."""
        return build_i2v_train_loader(cfg, required_inputs(cfg))

    @classmethod
    def build_test_loader(cls, cfg, dataset_name):
        return build_detection_test_loader(
            cfg,
            dataset_name,
            mapper=I2VDatasetMapper(cfg, is_train=False),
            batch_size=cfg.TEST.IMS_PER_BATCH,
        )

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        """By the dataset's ``evaluator_type``: ``sem_seg`` -> Detectron2's ``SemSegEvaluator``;
        ``video_sem_seg`` -> ``VideoSemSegEvaluator`` (adds per-sequence mIoU, J&F, VC)."""
        evaluator_type = MetadataCatalog.get(dataset_name).get("evaluator_type")
        if output_folder is None:
            output_folder = os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)
        if evaluator_type == "sem_seg":
            evaluator = SemSegEvaluator(
                dataset_name,
                distributed=True,
                output_dir=output_folder,
                sem_seg_loading_fn=load_label_for_evaluator,
            )
        elif evaluator_type == "video_sem_seg":
            evaluator = VideoSemSegEvaluator(
                dataset_name, distributed=True, output_dir=output_folder
            )
        else:
            raise NotImplementedError(
                f"No evaluator for dataset {dataset_name!r} (evaluator_type={evaluator_type!r}); "
                "DATASETS.TEST takes labeled splits ('sem_seg' or 'video_sem_seg')."
            )
        classes = MetadataCatalog.get(dataset_name).stuff_classes
        if len(classes) == 2 and cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES > 2:
            # Foreground/background ground truth (e.g. FBMS without a class table).
            evaluator = ForegroundBackgroundEvaluator(evaluator)
        elif len(classes) != cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES:
            raise ValueError(
                f"Dataset {dataset_name!r} has {len(classes)} classes {classes} but "
                f"MODEL.SEM_SEG_HEAD.NUM_CLASSES is {cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES}"
            )
        return DatasetEvaluators([evaluator])

    @classmethod
    def build_optimizer(cls, cfg, model):
        """AdamW or SGD over Detectron2's default parameter groups: no weight decay on norms and
        relative position tables; the parameters of objectives that own discriminators get
        ``MODEL.I2V.DISC_LR_FACTOR``."""
        disc_factor = cfg.MODEL.I2V.DISC_LR_FACTOR
        prefixes = tuple(
            f"objectives.{name}."
            for name, objective in model.objectives.items()
            if objective.owns_discriminators
        )
        params = get_default_optimizer_params(
            model,
            base_lr=cfg.SOLVER.BASE_LR,
            weight_decay=cfg.SOLVER.WEIGHT_DECAY,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
            lr_factor_func=lambda name: disc_factor if name.startswith(prefixes) else 1.0,
            overrides={"relative_position_bias_table": {"weight_decay": 0.0}},
        )
        name = cfg.SOLVER.OPTIMIZER
        if name == "AdamW":
            optim_cls, kwargs = torch.optim.AdamW, {"betas": (0.9, 0.999)}
        elif name == "SGD":
            optim_cls, kwargs = torch.optim.SGD, {"momentum": cfg.SOLVER.MOMENTUM}
        else:
            raise ValueError(f"SOLVER.OPTIMIZER must be 'AdamW' or 'SGD', got {name!r}")
        return maybe_add_gradient_clipping(cfg, optim_cls)(params, lr=cfg.SOLVER.BASE_LR, **kwargs)

    @classmethod
    def build_lr_scheduler(cls, cfg, optimizer):
        return build_lr_scheduler(cfg, optimizer)

    def build_hooks(self):
        hooks = super().build_hooks()
        if self.cfg.SEED >= 0:
            hooks.insert(0, StepSeedHook(self.cfg.SEED))
        self.health = None
        if has_discriminators(self.cfg) and self.cfg.MODEL.I2V.HEALTH_WINDOW > 0:
            self.health = DiscriminatorHealthHook(self.cfg.MODEL.I2V.HEALTH_WINDOW)
            hooks.append(self.health)
        # After the last step, before the final checkpoint and evaluation: the weight average
        # first, then AdaBN's statistics for those weights.
        stops = (d2_hooks.PeriodicCheckpointer, d2_hooks.EvalHook)
        if self.weight_ema is not None:
            index = next((i for i, h in enumerate(hooks) if isinstance(h, stops)), len(hooks))
            hooks.insert(index, WeightEMAHook(self.model, self.weight_ema))
            iters = self.cfg.SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS
            if iters > 0 and not self.cfg.TEST.ADABN.ENABLED:  # AdaBN replaces them anyway
                bn_hook = AdaBNHook(
                    self.model, self.build_source_bn_loader, iters, "i2v/ema_bn", "batch_average"
                )
                hooks.insert(index + 1, bn_hook)
        if self.weight_ema is not None and not self.cfg.TEST.ADABN.ENABLED:
            # Periodic evaluations see the weight average, as the final one does.
            hooks = [
                d2_hooks.EvalHook(self.cfg.TEST.EVAL_PERIOD, self._evaluate_for_eval_hook)
                if isinstance(h, d2_hooks.EvalHook)
                else h
                for h in hooks
            ]
        if self.cfg.TEST.ADABN.ENABLED:
            if not self.cfg.DATASETS.TRAIN_UNLABELED:
                raise ValueError("TEST.ADABN needs target frames: set DATASETS.TRAIN_UNLABELED")
            # Before the final checkpoint and evaluation, so that both use target statistics.
            index = next((i for i, h in enumerate(hooks) if isinstance(h, stops)), len(hooks))
            hooks.insert(
                index, AdaBNHook(self.model, self.build_adabn_loader, self.cfg.TEST.ADABN.NUM_ITER)
            )
        return hooks

    def _evaluate_for_eval_hook(self) -> dict:
        """The ``EvalHook``'s evaluation with a weight average: after the last step the model
        already holds the average and its statistics; before it (``TEST.EVAL_PERIOD``), a copy
        of the current average with statistics of its own (``engine/periodic_eval.py``)."""
        iters = self.cfg.SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS
        if self.iter + 1 >= self.max_iter or iters <= 0:
            network = self.model
        else:
            network = averaged_network_for_evaluation(
                self.weight_ema, self.build_source_bn_loader, iters
            )
        self._last_eval_results = self.test(self.cfg, network)
        return self._last_eval_results

    def build_source_bn_loader(self):
        """Batches of the labeled training samples (``DATASETS.TRAIN``, labels dropped) for the
        BatchNorm statistics of the weight average, read with the training mapper and
        augmentations, from their own seed."""
        cfg = self.cfg
        dicts = self._label_free_dicts(cfg.DATASETS.TRAIN, "DATASETS.TRAIN, weight-average BN")
        mapper = I2VDatasetMapper(cfg, is_train=True)
        batch, workers = cfg.SOLVER.IMS_PER_BATCH_LABELED, cfg.DATALOADER.NUM_WORKERS
        return TrainStream(dicts, mapper, batch, workers, self._stream_seed(3))

    def build_adabn_loader(self):
        """Batches of unlabeled target frames for ``TEST.ADABN``: ``DATASETS.TRAIN_UNLABELED``
        read as the unlabeled training stream reads it (same mapper and augmentations), from its
        own seed."""
        cfg = self.cfg
        dicts = self._label_free_dicts(
            cfg.DATASETS.TRAIN_UNLABELED, "DATASETS.TRAIN_UNLABELED, AdaBN"
        )
        mapper = I2VDatasetMapper(cfg, is_train=True)
        return build_unlabeled_stream(cfg, dicts, mapper, self._stream_seed(2))

    @staticmethod
    def _label_free_dicts(names, what: str) -> list[dict]:
        """The dataset dicts of ``names`` without their label files (for BatchNorm passes)."""
        dicts = load_dataset_dicts(names, what)
        return [{k: v for k, v in d.items() if k != "sem_seg_file_name"} for d in dicts]

    def _stream_seed(self, offset: int) -> int:
        """Seed of an extra data stream: the run's seed (shared across processes) + offset."""
        return (self.cfg.SEED if self.cfg.SEED >= 0 else comm.shared_random_seed()) + offset

    def data_report(self) -> dict:
        """Skipped unlabeled samples since this run (re)started, summed over processes; a
        collective call, so every process must make it."""
        skipped = sum(comm.all_gather(self._trainer.data_loader.skipped_samples))
        return {"skipped_samples": int(skipped), "counted_from_iter": int(self.start_iter)}

    def discriminator_report(self) -> dict:
        """Health of every discriminator at the end of training (``DiscriminatorHealthHook``);
        empty without adversarial losses."""
        return self.health.report() if self.health is not None else {}

    @classmethod
    def test(cls, cfg, model, evaluators=None):
        """Detectron2's test, always keyed by dataset: ``{dataset: {task: {metric: value}}}``.

        (Detectron2 drops the dataset level when ``DATASETS.TEST`` holds a single dataset; the
        summary table and ``final_results.json`` need it.)
        """
        results = super().test(cfg, model, evaluators)
        names = list(cfg.DATASETS.TEST)
        if len(names) == 1 and results and names[0] not in results:
            results = {names[0]: results}
        return results

    def train(self):
        """Train to ``SOLVER.MAX_ITER``; returns the final evaluation's results (main process)."""
        super().train()
        return getattr(self, "_last_eval_results", None) if comm.is_main_process() else None

    def resume_or_load(self, resume=True):
        """Detectron2's resume, plus: the data streams continue where the checkpoint stopped."""
        super().resume_or_load(resume=resume)
        self._trainer.data_loader.set_start_iter(self.start_iter)

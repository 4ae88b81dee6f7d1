"""``I2VSemanticSegmentor``: semantic segmentation trained on labeled samples, plus the
training objectives a config names (``objectives/``: the general and clustered adversarial
losses, entropy minimisation, self-training, or any registered one).

One path for everything: a still image (3, H, W) is a clip of length 1, a clip is (T, 3, H, W).
Inputs become (B, T, 3, H, W) clips, the backbone's ``forward_frames`` returns per-frame maps
(B*T, C, h, w), the head predicts every frame, the loss covers every labeled frame and the
objectives see per-frame maps labeled with their clip's domain. The time axis is squeezed
again only at the output boundary (an image input gets a plain "sem_seg").
"""

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.modeling import (
    META_ARCH_REGISTRY,
    build_backbone,
    build_sem_seg_head,
)
from detectron2.structures import ImageList
from detectron2.utils import comm
from torch import nn

from .backbone.base import TappableBackbone
from .batchnorm import UNLABELED_BN_MODES
from .clips import as_clip, frame_logits, normalized_clips
from .legacy_keys import rename_legacy_keys
from .objectives import TrainingObjective, TrainingStep, build_objectives, tap_samples
from .rng import derived_seed, forked_rng


@META_ARCH_REGISTRY.register()
class I2VSemanticSegmentor(nn.Module):
    """Backbone + segmentation head + the training objectives.

    Training: the segmentation loss uses the samples that carry ``sem_seg``; then every
    objective, in order, gets the step's ``TrainingStep`` (the labeled pass, the unlabeled
    samples, the tapped maps of all samples, the student's pass on new views) and returns its
    weighted losses. Passes over the unlabeled samples run on first request and are shared
    (``objectives/step.py``). Inference never touches the objectives (no clustering, no
    teacher).
    """

    @configurable
    def __init__(
        self,
        *,
        backbone: TappableBackbone,
        sem_seg_head: nn.Module,
        pixel_mean,
        pixel_std,
        objectives: dict[str, TrainingObjective] | None = None,
        ignore_value: int = 255,
        clip_length: int = 1,
        unlabeled_bn: str = "batch",
        seed: int = 0,
    ):
        """
        Args:
            backbone: a ``TappableBackbone`` (stops after the deepest requested map).
            sem_seg_head: a head called as ``head(features, targets)`` (Detectron2 convention).
            pixel_mean, pixel_std: per-channel normalisation (length 3).
            objectives: name -> training objective, called in this order (none: source-only
                training).
            ignore_value: label used to pad targets.
            clip_length: frames per training sample (``INPUT.CLIP.LENGTH``); training batches
                must have it (the 3D PatchGAN is built for it). Inference takes any length.
            unlabeled_bn: BatchNorm behaviour of the unlabeled passes, "batch", "frozen" or
                "update" (``modeling/batchnorm.py``).
            seed: the run's seed; each objective's random stream is derived from it, the step
                and the objective's name (``modeling/rng.py``).
        """
        super().__init__()
        self.backbone = backbone
        self.sem_seg_head = sem_seg_head
        self.objectives = nn.ModuleDict(objectives or {})
        self.ignore_value = ignore_value
        self.clip_length = int(clip_length)
        if unlabeled_bn not in UNLABELED_BN_MODES:
            raise ValueError(
                f"MODEL.I2V.UNLABELED_BN must be one of {UNLABELED_BN_MODES}, got {unlabeled_bn!r}"
            )
        self.unlabeled_bn = unlabeled_bn
        self.seed = int(seed)
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(-1, 1, 1), False)
        # Checkpoints written before the objectives were modules load too.
        self._register_load_state_dict_pre_hook(rename_legacy_keys, with_module=True)

    @classmethod
    def from_config(cls, cfg):
        # The segmentation network draws from the main stream, the objectives from their own:
        # a row and its source-only baseline start from the same weights at the same seed.
        seed = cfg.SEED if cfg.SEED >= 0 else torch.initial_seed()
        backbone = build_backbone(cfg)
        head = build_sem_seg_head(cfg, backbone.output_shape())
        objectives = build_objectives(cfg, backbone, head, seed=seed)
        return {
            "backbone": backbone,
            "sem_seg_head": head,
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
            "objectives": objectives,
            "ignore_value": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "clip_length": cfg.INPUT.CLIP.LENGTH,
            "unlabeled_bn": cfg.MODEL.I2V.UNLABELED_BN,
            "seed": seed,
        }

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    @property
    def taps(self) -> list[str]:
        """Every backbone map the objectives read (sorted)."""
        return sorted({name for o in self.objectives.values() for name in o.taps})

    # ---- inputs ---------------------------------------------------------------------------------

    def clips(self, batched_inputs: list[dict]) -> ImageList:
        """Normalised clips padded together: tensor (B, T, C, H, W); image_sizes per clip."""
        return normalized_clips(
            batched_inputs, self.pixel_mean, self.pixel_std, self.backbone.size_divisibility
        )

    def _targets(self, batched_inputs: list[dict], clips: ImageList) -> torch.Tensor:
        """Labels of every frame, padded with the ignore value: (B*T, H, W)."""
        targets = [as_clip(x["sem_seg"], 2).to(self.device) for x in batched_inputs]
        padded = ImageList.from_tensors(
            targets, self.backbone.size_divisibility, pad_value=self.ignore_value
        ).tensor[..., : clips.tensor.shape[-2], : clips.tensor.shape[-1]]
        if padded.shape[:2] != clips.tensor.shape[:2]:
            raise ValueError(
                f"Labels of shape {tuple(padded.shape[1:])} per clip do not match clips of "
                f"{clips.tensor.shape[1]} frames"
            )
        return padded.flatten(0, 1)

    @staticmethod
    def _split(batched_inputs: list[dict]) -> tuple[list[dict], list[dict]]:
        labeled = [x for x in batched_inputs if "sem_seg" in x]
        unlabeled = [x for x in batched_inputs if "sem_seg" not in x]
        return labeled, unlabeled

    # ---- training -------------------------------------------------------------------------------

    def forward(self, batched_inputs: list[dict]):
        """
        Args:
            batched_inputs: list of dicts from ``I2VDatasetMapper``: "image" (3, H, W) uint8 or,
                for clips, (T, 3, H, W); "domain" ("image" or "video"); "sem_seg" (H, W) or
                (T, H, W) long when labeled; "height"/"width" (output size) at inference; for
                clips optionally "clip_key_index" (the frame the sample stands for). Unlabeled
                training samples may carry "valid" (H, W) bool (False on padding) and, for
                temporal self-training, "pair_image" (3, H, W) (the frame k frames later).
        Returns:
            training: dict of weighted losses, ``loss_sem_seg`` and every objective's
            (``loss_adv_<placement>``, ``loss_adv_cluster``, ``loss_entropy``,
            ``loss_self_training``, ...); inference: see ``inference``.
        """
        if not self.training:
            return self.inference(batched_inputs)
        labeled, unlabeled = self._split(batched_inputs)
        if not labeled:
            raise ValueError("A training batch needs at least one labeled sample (with 'sem_seg').")
        clips = self.clips(labeled)
        if clips.tensor.shape[1] != self.clip_length:
            raise ValueError(
                f"Training clips have {clips.tensor.shape[1]} frames but the model was built for "
                f"clips of {self.clip_length} frames (INPUT.CLIP.LENGTH)"
            )
        head_features = self.sem_seg_head.in_features
        taps = self.taps
        features = self.backbone.forward_frames(
            clips.tensor, sorted(set(head_features) | set(taps))
        )
        _, losses = self.sem_seg_head(
            {k: features[k] for k in head_features}, self._targets(labeled, clips)
        )
        step = TrainingStep(self, labeled, unlabeled, clips, features, taps)
        for name, objective in self.objectives.items():
            # Each objective's draws (dropout, augmentations) come from its own stream.
            stream = derived_seed(self.seed, "step", step.iteration, comm.get_rank(), name)
            with forked_rng(stream, self.device):
                losses.update(objective(step))
        return losses

    def tapped_features(
        self, batched_inputs: list[dict], names=None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The backbone maps the objectives see, for any batch.

        Args:
            batched_inputs: mapper outputs, labeled and unlabeled mixed.
            names: backbone maps to return (default: every objective's taps).
        Returns:
            (dict name -> (N, C, h, w) with N = frames of all samples, labeled samples first
            then unlabeled, each clip's frames in order; (N,) int64 domain ids, 0 image,
            1 video). Exactly what a training step hands to the objectives.
        """
        if names is None:
            if not self.taps:
                raise ValueError("tapped_features needs names: no objective of this model taps")
            names = self.taps
        labeled, unlabeled = self._split(batched_inputs)
        return tap_samples(self, labeled, unlabeled, list(names))

    def segment_frames(self, batched_inputs: list[dict]) -> torch.Tensor:
        """Logits (N, num_classes, H, W) of every frame of any batch at the padded input size,
        in the model's current mode and without losses or labels: the pass AdaBN
        (``engine/adabn.py``) re-estimates BatchNorm statistics with."""
        return frame_logits(self.backbone, self.sem_seg_head, self.clips(batched_inputs).tensor)

    # ---- inference ------------------------------------------------------------------------------

    def inference(self, batched_inputs: list[dict]) -> list[dict]:
        """Segment every frame of every input.

        Returns, per input: ``{"sem_seg": (num_classes, height, width) logits}``; a clip input
        adds ``"clip_sem_seg"`` (T, num_classes, height, width) and its "sem_seg" is the frame at
        "clip_key_index" (default: the centre frame, (T - 1) // 2).
        """
        # Inputs are grouped by clip length so that one call may mix images and clips.
        groups: dict[int, list[int]] = {}
        for i, x in enumerate(batched_inputs):
            groups.setdefault(as_clip(x["image"], 3).shape[0], []).append(i)
        by_index = {}
        for indices in groups.values():
            inputs = [batched_inputs[i] for i in indices]
            clips = self.clips(inputs)
            features = self.backbone.forward_frames(clips.tensor, self.sem_seg_head.in_features)
            logits, _ = self.sem_seg_head(features)
            logits = logits.view(*clips.tensor.shape[:2], *logits.shape[1:])
            for i, x, clip_logits, size in zip(indices, inputs, logits, clips.image_sizes):
                by_index[i] = self._result(x, clip_logits, size)
        return [by_index[i] for i in range(len(batched_inputs))]

    @staticmethod
    def _result(x: dict, logits: torch.Tensor, image_size) -> dict:
        """(T, C, Hpad, Wpad) logits of one input -> its result dict (see ``inference``)."""
        height = x.get("height", image_size[0])
        width = x.get("width", image_size[1])
        frames = logits[:, :, : image_size[0], : image_size[1]]
        frames = F.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False)
        key = x.get("clip_key_index", (frames.shape[0] - 1) // 2)
        result = {"sem_seg": frames[key]}
        if x["image"].dim() == 4:
            result["clip_sem_seg"] = frames
        return result

"""Training steps at the paper's size, shared by the train suite (CPU ratios) and the GPU suite.

The network is the paper's (Swin-T + UperNet, the real ``configs/swin_*.yaml``), the batch 4
labeled + 4 unlabeled samples of 224 x 224 crops, generated here (smooth random images, blob
labels, frame pairs shifted by a few pixels), so no dataset and no weight file is needed: a
step's cost does not depend on what the pixels show or on the weights. Entropy minimisation and
self-training have no paper config; they are the source-only config with the keys of the
synthetic rows (``configs/synthetic/swin_entropy.yaml``, ``swin_self_training.yaml``,
``swin_self_training_temporal.yaml``). Temporal self-training keeps 4 unlabeled samples, each
with its pair (8 unlabeled frames).

A step is the trainer's own: Detectron2's ``SimpleTrainer.run_step`` in float32,
``I2VAMPTrainer.run_step`` (autocast, loss scaling for float16) in mixed precision.
"""

import itertools

import torch
import torch.nn.functional as F
from detectron2.engine import SimpleTrainer
from detectron2.modeling import build_model

from i2v_plugin.engine.amp import I2VAMPTrainer
from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.objectives import required_inputs

SELF_TRAINING = [
    "MODEL.I2V.SELF_TRAINING.ENABLED", "True",
    "MODEL.I2V.SELF_TRAINING.CLASSMIX", "True",
    "MODEL.I2V.SELF_TRAINING.CLASS_PORTION", "0.5",
]  # fmt: skip
# mode -> (config, overrides)
PAPER_MODES = {
    "source_only": ("configs/swin_source_only.yaml", []),
    "spatial": ("configs/swin_spatial.yaml", []),
    "global": ("configs/swin_global.yaml", []),
    "clustered": ("configs/swin_clustered.yaml", []),
    "entropy": ("configs/swin_source_only.yaml", ["MODEL.I2V.ENTROPY.ENABLED", "True"]),
    "self_training": ("configs/swin_source_only.yaml", SELF_TRAINING),
    "self_training_temporal": (
        "configs/swin_source_only.yaml",
        SELF_TRAINING
        + [
            "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED",
            "True",
            "INPUT.UNLABELED_PAIR_DISTANCE",
            "2",
        ],
    ),
}
PRECISIONS = ("float32", "float16", "bfloat16")
CROP = 224
LABELED = UNLABELED = 4


def paper_cfg(repo_root: str, mode: str, device: str, opts=()):
    """The frozen config of ``mode`` (``PAPER_MODES``) on ``device``; ``opts`` are appended."""
    config, overrides = PAPER_MODES[mode]
    return build_cfg(
        f"{repo_root}/{config}", [*overrides, "MODEL.DEVICE", device, "MODEL.WEIGHTS", "", *opts]
    )


def _smooth(generator, channels: int, cells: int, size: int) -> torch.Tensor:
    coarse = torch.rand(1, channels, cells, cells, generator=generator)
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)[0]


def paper_batch(
    num_classes: int, pairs: bool, labeled=LABELED, unlabeled=UNLABELED, size=CROP, seed=0
) -> list[dict]:
    """A training batch of mapper-like samples (CPU tensors).

    Args:
        num_classes: labels are drawn in [0, num_classes).
        pairs: give every unlabeled sample a "pair_image" (the frame shifted by (2, -3) px).
        labeled, unlabeled: samples of each kind; size: side of the square crops.
        seed: the batch's generator seed.
    Returns:
        ``labeled`` image-domain dicts ("image" (3, size, size) uint8, "sem_seg" (size, size)
        int64), then ``unlabeled`` video-domain dicts ("image", "valid", maybe "pair_image").
    """
    generator = torch.Generator().manual_seed(seed)

    def image():
        pixels = 255 * _smooth(generator, 3, 14, size) + 16 * torch.randn(
            3, size, size, generator=generator
        )
        return pixels.clamp(0, 255).to(torch.uint8)

    batch = []
    for _ in range(labeled):
        labels = _smooth(generator, num_classes, 7, size).argmax(0)
        batch.append({"image": image(), "domain": "image", "sem_seg": labels})
    for _ in range(unlabeled):
        sample = {"image": image(), "domain": "video", "valid": torch.ones(size, size).bool()}
        if pairs:
            sample["pair_image"] = torch.roll(sample["image"], (2, -3), dims=(-2, -1))
        batch.append(sample)
    return batch


def batch_for(cfg) -> list[dict]:
    """``paper_batch`` for ``cfg``: pairs when it uses them, no unlabeled sample when its
    objectives read none (source-only)."""
    needs = required_inputs(cfg)
    batch = paper_batch(cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES, cfg.INPUT.UNLABELED_PAIR_DISTANCE > 0)
    return batch if needs.unlabeled else [d for d in batch if "sem_seg" in d]


def build_step(cfg, precision: str = "float32", seed: int = 0):
    """A built model and a callable running one trainer step on ``batch_for(cfg)``.

    Args:
        cfg: a ``paper_cfg``.
        precision: "float32" (Detectron2's ``SimpleTrainer``), "float16" or "bfloat16"
            (``I2VAMPTrainer``).
        seed: torch seed of the initial weights.
    Returns:
        (trainer, step): ``step()`` runs ``trainer.run_step()`` (call it inside an
        ``EventStorage``); the trainer holds ``model`` and ``optimizer``.
    """
    torch.manual_seed(seed)
    model = build_model(cfg).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loader = itertools.repeat(batch_for(cfg))
    if precision == "float32":
        trainer = SimpleTrainer(model, loader, optimizer)
    else:
        trainer = I2VAMPTrainer(model, loader, optimizer, precision)
    return trainer, trainer.run_step

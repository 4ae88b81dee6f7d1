"""Helpers the tests share: the repository root, small configs that train in seconds on CPU,
and random training batches. Tree builders of the published dataset layouts live in
``dataset_trees``, tool loading in ``tools``, weight-conversion helpers in ``weights`` and a
backbone registered from the tests alone in ``toy_backbone``.

``tests/conftest.py`` sets ``$DETECTRON2_DATASETS`` before any of this imports ``i2v_plugin``.
"""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Overrides that shrink the synthetic configs to a few seconds of CPU work.
TINY_MODEL_OPTS = [
    "MODEL.SWIN.EMBED_DIM", "16",
    "MODEL.SWIN.NUM_HEADS", "[1, 1, 2, 2]",
    "MODEL.SEM_SEG_HEAD.CONVS_DIM", "16",
    "MODEL.I2V.DISC_HIDDEN_DIMS", "[16]",
    "MODEL.I2V.CLUSTER.NUM_CLUSTERS", "4",
    "INPUT.MIN_SIZE_TRAIN", "(64,)",
    "INPUT.CROP.SIZE", "(64, 64)",
    "SOLVER.IMS_PER_BATCH_LABELED", "2",
    "SOLVER.IMS_PER_BATCH_UNLABELED", "2",
    "SOLVER.WARMUP_ITERS", "2",
    "DATALOADER.NUM_WORKERS", "0",
    "SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS", "2",
    # No synthetic pretraining: the tiny model starts from random weights.
    "MODEL.WEIGHTS", "",
]  # fmt: skip


def tiny_cfg(config="configs/synthetic/swin_source_only.yaml", *opts):
    """A frozen config from a repo config file plus the tiny overrides and ``opts``."""
    from i2v_plugin.engine.setup import build_cfg

    return build_cfg(os.path.join(REPO_ROOT, config), TINY_MODEL_OPTS + list(opts))


def random_batch(labeled=2, unlabeled=2, size=64, classes=11):
    """A training batch of random uint8 images: ``labeled`` image-domain samples with random
    labels, then ``unlabeled`` video-domain samples without."""
    import torch

    def sample(domain, with_label):
        d = {"image": torch.randint(0, 256, (3, size, size), dtype=torch.uint8), "domain": domain}
        if with_label:
            d["sem_seg"] = torch.randint(0, classes, (size, size))
        return d

    return [sample("image", True) for _ in range(labeled)] + [
        sample("video", False) for _ in range(unlabeled)
    ]


SYNTH = "configs/synthetic/swin_source_only.yaml"
DEEPLAB = "configs/synthetic/deeplab_source_only.yaml"
SELF_TRAINING = ["MODEL.I2V.SELF_TRAINING.ENABLED", "True"]
TEMPORAL = SELF_TRAINING + [
    "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED", "True",
    "INPUT.UNLABELED_PAIR_DISTANCE", "2",
]  # fmt: skip


def seeded_batch(labeled=2, unlabeled=2, size=64, pairs=False, pad=0):
    """A fixed training batch (seed 0): ``labeled`` labeled images, then ``unlabeled`` video
    frames with "valid" masks (the last ``pad`` columns invalid) and, with ``pairs``, a
    "pair_image" shifted by (2, -3) pixels."""
    import torch

    gen = torch.Generator().manual_seed(0)

    def image():
        return torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=gen)

    out = [
        {"image": image(), "domain": "image", "sem_seg": torch.randint(0, 11, (size, size))}
        for _ in range(labeled)
    ]
    for _ in range(unlabeled):
        d = {"image": image(), "domain": "video", "valid": torch.ones(size, size, dtype=torch.bool)}
        if pad:
            d["valid"][:, size - pad :] = False
        if pairs:
            d["pair_image"] = torch.roll(d["image"], (2, -3), dims=(-2, -1))
        out.append(d)
    return out


def train_step(model, inputs, iteration=0):
    """One training forward of ``model`` on ``inputs`` inside an ``EventStorage`` at
    ``iteration``; returns (losses, storage)."""
    from detectron2.utils.events import EventStorage

    model.train()
    with EventStorage(iteration) as storage:
        losses = model(inputs)
    return losses, storage

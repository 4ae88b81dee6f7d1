"""How much each backbone map varies from sample to sample.

A map that is the same for every input carries no information about it: a discriminator placed
there (e.g. the "global" placement, the encoder output) sees one constant vector for both domains
and cannot learn. ``spread_ratio`` measures this as the mean over features of the across-sample
standard deviation, divided by the root mean square over features of the across-sample mean
(0 for a constant map; about 0.5-1 for a randomly initialised Swin at every stage).
"""

import torch

from ..inference.frame_predictor import FramePredictor
from ..inference.sources import read_rgb_image
from ..visualization.grid import pick_samples


def spread_ratio(features: torch.Tensor) -> float:
    """Across-sample spread of ``features`` (N, ...), N >= 2, relative to their mean.

    Returns mean_f SD_n(x[n, f]) / sqrt(mean_f mean_n(x[n, f])^2), in float64; ValueError for
    fewer than two samples. A map whose mean is 0 everywhere gives inf (or nan if also constant).
    """
    if features.shape[0] < 2:
        raise ValueError(
            f"spread_ratio needs at least 2 samples, got shape {tuple(features.shape)}"
        )
    flat = features.detach().flatten(1).double()
    sd = flat.std(dim=0).mean()
    rms_mean = flat.mean(dim=0).pow(2).mean().sqrt()
    return float(sd / rms_mean)


@torch.no_grad()
def feature_spread(cfg, weights: str | None, dataset: str, num: int) -> dict[str, tuple]:
    """The spread of every backbone stage over ``num`` frames of a labeled split.

    Args:
        cfg: a config from ``build_cfg`` (the model to build).
        weights: checkpoint path or ``i2v-pretrained://<family>``; None: ``cfg.MODEL.WEIGHTS``;
            "": random initialisation.
        dataset: a registered labeled split; ``num`` frames spread evenly over it.
    Returns:
        stage name -> (map shape (N, C, h, w), ``spread_ratio``), in depth order; the model
        in evaluation mode (BatchNorm running statistics), as at test time.
    """
    predictor = FramePredictor(cfg, weights)
    model = predictor.model
    inputs = [
        predictor.preprocess(read_rgb_image(d["file_name"])) for d in pick_samples(dataset, num)
    ]
    names = list(model.backbone.stage_names)
    maps = model.backbone.forward_frames(model.clips(inputs).tensor, names)
    return {name: (tuple(maps[name].shape), spread_ratio(maps[name])) for name in names}

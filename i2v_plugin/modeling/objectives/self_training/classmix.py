"""ClassMix (Olsson et al., 2021; used by DACS and DAFormer) between labeled images and unlabeled
frames: half of the classes of a labeled image are pasted onto an unlabeled frame."""

import torch


def classmix_masks(
    labels: torch.Tensor, num_views: int, ignore_value: int, frames_per_draw: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which pixels of each unlabeled view take the labeled image's pixels.

    View ``v`` mixes with labeled sample ``v % L``: ``ceil(n / 2)`` of the n classes of that
    sample (ignore excluded) are drawn with torch's global generator; the view takes the
    labeled pixels of those classes.

    Args:
        labels: (L * frames_per_draw, H, W) long labels of the labeled samples' frames.
        num_views: V, the number of unlabeled samples (of ``frames_per_draw`` frames each).
        ignore_value: label that is never pasted.
        frames_per_draw: frames per sample (a clip's frames share one draw).
    Returns:
        (masks (V * frames_per_draw, H, W) bool, source (V * frames_per_draw,) long: the labeled
        frame each view frame mixes with).
    """
    t = frames_per_draw
    num_labeled = labels.shape[0] // t
    masks, sources = [], []
    for view in range(num_views):
        sample = view % num_labeled
        frames = labels[sample * t : (sample + 1) * t]
        classes = torch.unique(frames)
        classes = classes[classes != ignore_value]
        count = (classes.numel() + 1) // 2
        chosen = classes[torch.randperm(classes.numel())[:count].to(classes.device)]
        masks.append(torch.isin(frames, chosen))
        sources.append(torch.arange(sample * t, (sample + 1) * t))
    return torch.cat(masks), torch.cat(sources).to(labels.device)

"""Temporal agreement of pseudo-labels on pairs of nearby video frames.

The teacher labels frame t and frame t + k of the same video. Frame t's prediction is aligned to
frame t + k by one global shift, estimated by phase correlation of the two grayscale frames
(``torch.fft``; no optical-flow network is available offline, and a global shift captures camera
pan and shake, the dominant motion of hand-held video). A pixel keeps its pseudo-label only where
the teacher is confident on both frames and gives the same class on both: an object that moved
differently from the camera, or a prediction that flickers, is left out. The agreement of frame t
is the agreement of frame t + k shifted back.

Where the camera is static and objects move (the synthetic benchmark), the estimated shift is
about 0 and the alignment does nothing; agreement then drops the pixels an object swept between
the two frames. ``TEMPORAL.ALIGN "none"`` turns the alignment off.
"""

import torch

from ....utils.precision import float32_region
from .pseudo_labels import confident_pseudo_labels

ALIGN_MODES = ("phase", "none")
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def grey_levels(images: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 3, H, W) RGB -> (N, H, W) luma; invalid (padding) pixels get the frame's mean luma so
    that the padding's edges do not pull phase correlation towards a zero shift."""
    grey = (images.float() * _LUMA.to(images.device).view(1, 3, 1, 1)).sum(dim=1)
    if valid is None:
        return grey
    mean = (grey * valid).flatten(1).sum(1) / valid.flatten(1).sum(1).clamp_min(1)
    return torch.where(valid, grey, mean.view(-1, 1, 1))


def phase_correlation_shift(
    reference: torch.Tensor, moved: torch.Tensor, max_shift: float = 0.5
) -> torch.Tensor:
    """The integer global shift of ``moved`` relative to ``reference``, by phase correlation.

    For ``moved = torch.roll(reference, (dy, dx), dims=(-2, -1))`` it returns exactly
    ``(dy, dx)`` (signed, |dy| <= H / 2, |dx| <= W / 2).

    Computed in float32 with autocast off (a half-precision FFT would blur the peak).

    Args:
        reference, moved: (N, H, W) float images.
        max_shift: largest |shift| considered, as a fraction of each side (<= 0.5).
    Returns:
        (N, 2) long (dy, dx).
    """
    reference, moved = reference.float(), moved.float()
    with float32_region(reference.device):
        n, h, w = reference.shape
        a = reference - reference.mean(dim=(1, 2), keepdim=True)
        b = moved - moved.mean(dim=(1, 2), keepdim=True)
        cross = torch.fft.fft2(b) * torch.fft.fft2(a).conj()
        surface = torch.fft.ifft2(cross / cross.abs().clamp_min(1e-12)).real
        # Signed offsets of every cell of the correlation surface.
        dy = torch.fft.fftfreq(h, 1.0 / h, device=surface.device).round().long()
        dx = torch.fft.fftfreq(w, 1.0 / w, device=surface.device).round().long()
        allowed = (dy.abs() <= max_shift * h).view(-1, 1) & (dx.abs() <= max_shift * w).view(1, -1)
        surface = surface.masked_fill(~allowed, float("-inf"))
        peak = surface.flatten(1).argmax(dim=1)
        return torch.stack([dy[peak // w], dx[peak % w]], dim=1)


def shift_frames(x: torch.Tensor, shifts: torch.Tensor, fill=0) -> torch.Tensor:
    """Shift each frame of ``x`` (N, ..., H, W) by its (dy, dx) of ``shifts`` (N, 2): output
    pixel p holds input pixel p - shift; pixels that come from outside the frame get ``fill``."""
    out = torch.full_like(x, fill)
    h, w = x.shape[-2:]
    for i, (dy, dx) in enumerate(shifts.tolist()):
        if abs(dy) >= h or abs(dx) >= w:
            continue
        out[i, ..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
            i, ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out


def temporal_pseudo_labels(
    probs_t: torch.Tensor,
    probs_k: torch.Tensor,
    valid: torch.Tensor,
    threshold: float,
    shifts: torch.Tensor,
    class_portion: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    """Pseudo-labels of both frames of each pair, kept where the pair agrees.

    Args:
        probs_t, probs_k: (N, C, H, W) teacher probabilities of frames t and t + k.
        valid: (N, H, W) bool, False on padding (one augmentation: the same for both frames).
        threshold: confidence threshold.
        shifts: (N, 2) long, frame t + k's shift relative to frame t (zeros: no alignment).
        class_portion: class-balanced selection of each frame's pseudo-labels
            (``confident_pseudo_labels``).
    Returns:
        (labels_t, keep_t, labels_k, keep_k, stats): labels (N, H, W) long and kept pixels
        (N, H, W) bool of each frame; stats "agreement" (of the pixels confident on both aligned
        frames, the fraction with the same class) and "shift" (mean |dy| + |dx| in pixels).
    """
    labels_t, confident_t = confident_pseudo_labels(probs_t, threshold, valid, class_portion)
    labels_k, confident_k = confident_pseudo_labels(probs_k, threshold, valid, class_portion)
    # Frame t seen from frame t + k; pixels shifted in from outside are not confident.
    aligned_labels = shift_frames(labels_t, shifts)
    aligned_confident = shift_frames(confident_t, shifts, fill=False)
    both = confident_k & aligned_confident
    keep_k = both & (labels_k == aligned_labels)
    keep_t = shift_frames(keep_k, -shifts, fill=False)
    stats = {
        "agreement": float(keep_k.sum()) / max(1, int(both.sum())),
        "shift": float(shifts.abs().sum(dim=1).float().mean()),
    }
    return labels_t, keep_t, labels_k, keep_k, stats

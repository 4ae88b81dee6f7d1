"""The strong view of self-training: photometric augmentation of a batch on the model's device.

Colour jitter (brightness, contrast, saturation), Gaussian blur and Gaussian noise, as in the
strong augmentation of DACS / DAFormer, applied to the weakly augmented frames (the mapper's
output, or a ClassMix of it). Geometry is unchanged, so a pixel of the strong view is the pixel
of the teacher's weak view and pseudo-labels stay aligned.

Randomness comes from torch's global CPU generator, which ``StepSeedHook`` seeds from the trainer
iteration before every step: a resumed run draws the same views.
"""

import math

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma weights of (R, G, B).
_LUMA = (0.299, 0.587, 0.114)


def gaussian_blur(images: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Blur each image with its own sigma (pixels; 0 leaves it unchanged).

    Args:
        images: (N, C, H, W) float.
        sigmas: (N,) float, >= 0.
    Returns:
        (N, C, H, W): separable Gaussian filter, replicated borders.
    """
    n, c, h, w = images.shape
    radius = max(1, math.ceil(3.0 * float(sigmas.max())))
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    sigma = sigmas.to(images.device, images.dtype).clamp_min(1e-3).view(n, 1)
    kernel = torch.exp(-(offsets.view(1, -1) ** 2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)
    x = images.reshape(1, n * c, h, w)
    x = F.conv2d(
        F.pad(x, (radius, radius, 0, 0), mode="replicate"),
        kernel.view(n * c, 1, 1, -1),
        groups=n * c,
    )
    x = F.conv2d(
        F.pad(x, (0, 0, radius, radius), mode="replicate"),
        kernel.view(n * c, 1, -1, 1),
        groups=n * c,
    )
    return x.view(n, c, h, w)


class StrongPhotometric:
    """Random colour jitter, blur and noise of a batch of frames in 0..255 units."""

    def __init__(
        self,
        jitter: float = 0.2,
        blur_sigma: float = 1.5,
        blur_prob: float = 0.5,
        noise_std: float = 4.0,
        image_format: str = "RGB",
    ):
        """
        Args:
            jitter: brightness, contrast and saturation factors are drawn in
                [1 - jitter, 1 + jitter]; 0 turns the jitter off.
            blur_sigma: largest blur sigma in pixels (drawn in [0.1, 1] x it); 0 turns blur off.
            blur_prob: probability that a frame is blurred.
            noise_std: largest std of the additive Gaussian noise (drawn in [0, noise_std]).
            image_format: channel order of the frames, "RGB" or "BGR" (for the grey level).
        """
        if not 0.0 <= jitter < 1.0:
            raise ValueError(
                f"MODEL.I2V.SELF_TRAINING.STRONG.JITTER must lie in [0, 1), got {jitter}"
            )
        if blur_sigma < 0 or noise_std < 0 or not 0.0 <= blur_prob <= 1.0:
            raise ValueError(
                "MODEL.I2V.SELF_TRAINING.STRONG: BLUR_SIGMA and NOISE_STD must be >= 0 and "
                f"BLUR_PROB in [0, 1], got {blur_sigma}, {noise_std}, {blur_prob}"
            )
        self.jitter = float(jitter)
        self.blur_sigma = float(blur_sigma)
        self.blur_prob = float(blur_prob)
        self.noise_std = float(noise_std)
        luma = _LUMA if image_format == "RGB" else _LUMA[::-1]
        self.luma = torch.tensor(luma).view(1, 3, 1, 1)

    def __call__(self, images: torch.Tensor, frames_per_draw: int = 1) -> torch.Tensor:
        """
        Args:
            images: (N, 3, H, W) float frames in 0..255.
            frames_per_draw: consecutive frames that share one draw (the T frames of a clip).
        Returns:
            (N, 3, H, W) strong views, clamped to 0..255.
        """
        n = images.shape[0] // frames_per_draw
        device = images.device

        def draw(low: float, high: float) -> torch.Tensor:
            values = low + (high - low) * torch.rand(n)
            return values.repeat_interleave(frames_per_draw).to(device).view(-1, 1, 1, 1)

        x = images.float()
        luma = self.luma.to(device)
        if self.jitter > 0:
            low, high = 1.0 - self.jitter, 1.0 + self.jitter
            x = (x * draw(low, high)).clamp(0, 255)
            mean = (x * luma).sum(dim=1, keepdim=True).mean(dim=(2, 3), keepdim=True)
            x = ((x - mean) * draw(low, high) + mean).clamp(0, 255)
            grey = (x * luma).sum(dim=1, keepdim=True)
            x = ((x - grey) * draw(low, high) + grey).clamp(0, 255)
        if self.blur_sigma > 0 and self.blur_prob > 0:
            on = (torch.rand(n) < self.blur_prob).float()
            sigmas = on * (0.1 + 0.9 * torch.rand(n)) * self.blur_sigma
            x = gaussian_blur(x, sigmas.repeat_interleave(frames_per_draw))
        if self.noise_std > 0:
            std = draw(0.0, self.noise_std)
            # The noise field comes from a generator on the frames' device, seeded by the global
            # CPU generator (drawing it on the CPU and copying would cost more than the step).
            generator = torch.Generator(device=device)
            generator.manual_seed(int(torch.randint(0, 2**62, (1,))))
            x = x + std * torch.randn(x.shape, generator=generator, device=device)
        return x.clamp(0, 255)

"""Video-like augmentations of labeled images (``INPUT.VIDEO_AUG``): the ``source_only_aug``
baseline, which measures how much of the image-to-video gap augmentation alone closes.

Video frames differ from photos by their exposure and colour, motion and defocus blur, sensor
noise, lower resolution and compression artefacts. Detectron2 has the photometric part
(``RandomBrightness``, ``RandomContrast``, ``RandomSaturation``, ``RandomLighting``); the
degradations it lacks (Gaussian blur, Gaussian noise, down-then-up resampling, JPEG compression)
are ``T.Augmentation``s here that return a ``T.ColorTransform``. Every one of them changes pixels
only: segmentation labels pass through untouched and geometry never changes.

The mapper samples them once per sample, after the geometric augmentations (resize, crop, flip)
and before the padding to the crop size, so they act at the training resolution and the padding
stays blank.
"""

import io

import numpy as np
from detectron2.data import transforms as T
from PIL import Image, ImageFilter


def _pil(image: np.ndarray, image_format: str) -> Image.Image:
    rgb = image[:, :, ::-1] if image_format == "BGR" else image
    return Image.fromarray(np.ascontiguousarray(rgb))


def _array(image: Image.Image, image_format: str) -> np.ndarray:
    out = np.asarray(image)
    return np.ascontiguousarray(out[:, :, ::-1] if image_format == "BGR" else out)


class RandomGaussianBlur(T.Augmentation):
    """Gaussian blur (defocus, motion) with sigma uniform in ``[sigma_min, sigma_max]`` pixels."""

    def __init__(self, sigma_min: float, sigma_max: float):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        sigma = float(np.random.uniform(self.sigma_min, self.sigma_max))

        def blur(img: np.ndarray) -> np.ndarray:
            out = Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius=sigma))
            return np.asarray(out)

        return T.ColorTransform(blur)


class RandomGaussianNoise(T.Augmentation):
    """Additive Gaussian sensor noise, std uniform in ``[0, std_max]`` (0..255 units)."""

    def __init__(self, std_max: float):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        std = float(np.random.uniform(0.0, self.std_max))
        # The noise field is drawn now, so that every frame of a clip gets the same one.
        noise = np.random.normal(0.0, std, size=image.shape).astype(np.float32)

        def add_noise(img: np.ndarray) -> np.ndarray:
            return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)

        return T.ColorTransform(add_noise)


class RandomDownscale(T.Augmentation):
    """Down-then-up resampling (low-resolution capture): the image is resized by a factor
    uniform in ``[scale_min, 1]`` (bilinear) and back to its size (bilinear); its size and
    geometry do not change."""

    def __init__(self, scale_min: float):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        scale = float(np.random.uniform(self.scale_min, 1.0))

        def resample(img: np.ndarray) -> np.ndarray:
            h, w = img.shape[:2]
            small = (max(1, round(w * scale)), max(1, round(h * scale)))
            pil = Image.fromarray(img).resize(small, Image.BILINEAR)
            return np.asarray(pil.resize((w, h), Image.BILINEAR))

        return T.ColorTransform(resample)


class RandomJPEG(T.Augmentation):
    """JPEG compression artefacts: encode and decode at a quality uniform in
    ``[quality_min, quality_max]`` (PIL's JPEG, 4:2:0 chroma subsampling)."""

    def __init__(self, quality_min: int, quality_max: int = 95, image_format: str = "RGB"):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        quality = int(np.random.randint(self.quality_min, self.quality_max + 1))
        image_format = self.image_format

        def compress(img: np.ndarray) -> np.ndarray:
            buffer = io.BytesIO()
            _pil(img, image_format).save(buffer, format="JPEG", quality=quality)
            buffer.seek(0)
            return _array(Image.open(buffer).convert("RGB"), image_format)

        return T.ColorTransform(compress)


def build_video_augmentations(cfg) -> list[T.Augmentation]:
    """The ``INPUT.VIDEO_AUG`` degradations, each applied with probability ``PROB``; an empty
    list when ``ENABLED`` is False or every strength is off.

    Photometric ones are Detectron2's own; a strength of 0 (or a ``DOWNSCALE`` of 1) leaves its
    augmentation out.
    """
    aug = cfg.INPUT.VIDEO_AUG
    if not aug.ENABLED:
        return []
    if not 0.0 <= aug.PROB <= 1.0:
        raise ValueError(f"INPUT.VIDEO_AUG.PROB must lie in [0, 1], got {aug.PROB}")
    if not 0.0 < aug.DOWNSCALE <= 1.0:
        raise ValueError(f"INPUT.VIDEO_AUG.DOWNSCALE must lie in (0, 1], got {aug.DOWNSCALE}")
    if not 0 <= aug.JPEG_QUALITY <= 95:
        raise ValueError(
            f"INPUT.VIDEO_AUG.JPEG_QUALITY must lie in [0, 95], got {aug.JPEG_QUALITY}"
        )
    augs = []
    if aug.BRIGHTNESS > 0:
        augs.append(T.RandomBrightness(1 - aug.BRIGHTNESS, 1 + aug.BRIGHTNESS))
    if aug.CONTRAST > 0:
        augs.append(T.RandomContrast(1 - aug.CONTRAST, 1 + aug.CONTRAST))
    if aug.SATURATION > 0:
        augs.append(T.RandomSaturation(1 - aug.SATURATION, 1 + aug.SATURATION))
    if aug.LIGHTING > 0:
        augs.append(T.RandomLighting(aug.LIGHTING))
    if aug.BLUR_SIGMA > 0:
        augs.append(RandomGaussianBlur(0.1 * aug.BLUR_SIGMA, aug.BLUR_SIGMA))
    if aug.DOWNSCALE < 1:
        augs.append(RandomDownscale(aug.DOWNSCALE))
    if aug.NOISE_STD > 0:
        augs.append(RandomGaussianNoise(aug.NOISE_STD))
    if aug.JPEG_QUALITY > 0:
        augs.append(RandomJPEG(aug.JPEG_QUALITY, image_format=cfg.INPUT.FORMAT))
    return [T.RandomApply(a, prob=aug.PROB) for a in augs]

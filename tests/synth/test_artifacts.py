"""Video-domain degradations: each is neutral at its "off" value and acts as documented."""

import numpy as np
import pytest

from i2v_plugin.synth.artifacts import (
    average_exposure,
    camera_shake,
    colour_cast,
    low_light,
    low_resolution,
    sample_channel_gains,
    sensor_noise,
    shake_margin,
    to_uint8,
)


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (32, 40, 3)).astype(np.float32)


def high_frequency_energy(img: np.ndarray) -> float:
    return float((np.diff(img, axis=0) ** 2).mean() + (np.diff(img, axis=1) ** 2).mean())


def test_neutral_strengths_leave_the_image_unchanged(image):
    rng = np.random.default_rng(1)
    np.testing.assert_allclose(low_light(image, 1.0, 1.0), image, atol=1e-6)
    np.testing.assert_allclose(colour_cast(image, np.ones(3)), image, atol=1e-6)
    np.testing.assert_allclose(sensor_noise(image, rng, 0.0, 0.0), image, atol=1e-6)
    np.testing.assert_array_equal(low_resolution(image, 1.0), image)
    np.testing.assert_array_equal(sample_channel_gains(rng, 0.0), np.ones(3, np.float32))
    assert not camera_shake(rng, 10, 0.0).any()
    render_calls = []
    average_exposure(lambda t: render_calls.append(t) or image, 3.0, 0.0, 5)
    assert render_calls == [3.0]


def test_low_light_darkens_monotonically(image):
    darker = low_light(image, 0.5, 1.0)
    np.testing.assert_allclose(darker, image * 0.5, atol=1e-6)
    crushed = low_light(image, 1.0, 2.0)
    assert (crushed <= image + 1e-6).all()
    # Gamma hits mid-tones harder than highlights.
    mid, high = np.float32([[[0.5, 0.5, 0.5]]]), np.float32([[[0.95, 0.95, 0.95]]])
    assert low_light(mid, 1.0, 2.0).mean() / 0.5 < low_light(high, 1.0, 2.0).mean() / 0.95


def test_colour_cast_scales_each_channel(image):
    gains = sample_channel_gains(np.random.default_rng(2), 0.2)
    assert ((gains >= 0.8) & (gains <= 1.2)).all() and len(set(gains.tolist())) == 3
    cast = colour_cast(image * 0.5, gains)
    np.testing.assert_allclose(cast, image * 0.5 * gains, atol=1e-6)


def test_sensor_noise_has_the_documented_signal_dependent_spread():
    rng = np.random.default_rng(3)
    read, shot = 0.02, 0.1
    for level in (0.1, 0.6):
        flat = np.full((200, 200, 3), level, np.float32)
        noisy = sensor_noise(flat, rng, read, shot)
        expected = np.sqrt(read**2 + shot**2 * level)
        assert (noisy - flat).std() == pytest.approx(expected, rel=0.05)
        assert abs((noisy - flat).mean()) < 0.01


def test_sensor_noise_draws_the_same_values_whatever_its_strength(image):
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    sensor_noise(image, rng_a, 0.0, 0.0)
    sensor_noise(image, rng_b, 0.05, 0.05)
    assert rng_a.random() == rng_b.random()


def test_low_resolution_removes_fine_detail_but_keeps_coarse_content():
    checker = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float32)
    fine = np.repeat(checker[..., None], 3, axis=2)
    assert high_frequency_energy(low_resolution(fine, 2.0)) < 0.05 * high_frequency_energy(fine)
    ramp = np.repeat(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], 64, 0)
    ramp = np.repeat(ramp, 3, axis=2)
    reduced = low_resolution(ramp, 2.0)
    assert reduced.shape == ramp.shape and reduced.dtype == np.float32
    assert np.abs(reduced - ramp)[:, 2:-2].max() < 0.02


def test_motion_blur_spreads_a_moving_bar_along_its_motion():
    def render(time: float) -> np.ndarray:
        frame = np.zeros((8, 64, 3), np.float32)
        x = int(round(20 + 4 * time))  # 4 pixels per frame to the right
        frame[:, x : x + 2] = 1.0
        return frame

    sharp = average_exposure(render, 2.0, 0.0, 9)
    blurred = average_exposure(render, 2.0, 1.0, 9)
    longer = average_exposure(render, 2.0, 2.0, 9)
    width = [int((img[0, :, 0] > 0).sum()) for img in (sharp, blurred, longer)]
    assert width[0] == 2 and width[0] < width[1] < width[2]
    # Blur moves no light: the total brightness and its centre stay the same.
    for img in (blurred, longer):
        assert img.sum() == pytest.approx(sharp.sum(), rel=1e-5)
        columns = np.arange(64)
        centre = (img[0, :, 0] * columns).sum() / img[0, :, 0].sum()
        assert centre == pytest.approx((sharp[0, :, 0] * columns).sum() / 2, abs=0.6)
    # Motion is horizontal, so every row is blurred the same way.
    np.testing.assert_array_equal(blurred[0], blurred[7])


def test_camera_shake_offsets_have_the_requested_spread_and_stay_in_the_margin():
    offsets = camera_shake(np.random.default_rng(5), 4000, 2.0)
    assert offsets.shape == (4000, 2) and offsets.dtype == np.int64
    assert offsets.std() == pytest.approx(2.0, rel=0.1)
    assert np.abs(offsets).max() <= shake_margin(2.0) == 6
    assert abs(offsets.mean()) < 0.15


def test_to_uint8_rounds_and_clips():
    values = np.float32([[[-0.2, 0.5, 1.3]]])
    np.testing.assert_array_equal(to_uint8(values), np.uint8([[[0, 128, 255]]]))

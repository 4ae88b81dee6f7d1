"""Sealed degradations: each is neutral at its "off" value and acts as documented."""

import numpy as np
import pytest

from i2v_plugin.synth.sealed import (
    chromatic_aberration,
    haze,
    haze_depth,
    interlace_fields,
    pan_offset,
    rolling_shutter_rows,
    vignette,
)


def grey_frame(value=0.5, size=33):
    return np.full((size, size, 3), value, np.float32)


def test_pan_offset_oscillates_within_its_amplitude():
    values = [pan_offset(t / 4, 6.0, 8.0, 0.3) for t in range(64)]
    assert max(values) <= 6.0 and min(values) >= -6.0
    assert max(values) > 5.5 and min(values) < -5.5
    assert pan_offset(3.0, 0.0, 8.0, 0.3) == 0.0


def test_rolling_shutter_rows_lean_during_a_pan_and_not_without_readout():
    # At phase 0 and time 0 the pan moves fastest (sin' = 1): rows read later are shifted more.
    rows = rolling_shutter_rows(64, 0.0, 1.0, 8.0, 8.0, 0.0)
    assert rows.shape == (64,) and rows.dtype == np.int64
    assert np.all(np.diff(rows) >= 0) and rows[-1] - rows[0] >= 5
    assert rows[32] in (0, 1)  # the middle row is read at the frame time
    global_shutter = rolling_shutter_rows(64, 0.0, 0.0, 8.0, 8.0, 0.0)
    assert np.all(global_shutter == global_shutter[0])


def test_interlace_takes_even_rows_from_the_first_field_and_odd_from_the_second():
    first, second = np.zeros((6, 4), np.uint8), np.ones((6, 4), np.uint8)
    out = interlace_fields(first, second)
    np.testing.assert_array_equal(out[:, 0], [0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="different shapes"):
        interlace_fields(first, np.ones((5, 4), np.uint8))


def test_vignette_darkens_the_corners_and_spares_the_centre():
    frame = grey_frame()
    out = vignette(frame, 0.5)
    assert out[16, 16].mean() == pytest.approx(0.5, abs=1e-6)
    assert out[0, 0].mean() == pytest.approx(0.25, abs=1e-3)
    assert out[0, 16].mean() > out[0, 0].mean()
    np.testing.assert_allclose(vignette(frame, 0.0), frame)


def test_chromatic_aberration_fringes_edges_off_centre_only():
    frame = np.zeros((33, 33, 3), np.float32)
    frame[:, 26:] = 1.0  # a vertical edge right of the centre
    out = chromatic_aberration(frame, 0.2)
    np.testing.assert_array_equal(out[..., 1], frame[..., 1])  # green untouched
    # Red is magnified (its edge moves outwards), blue shrunk (its edge moves inwards).
    assert out[16, 25, 2] > 0.5 and out[16, 26, 0] < 0.5
    flat = grey_frame(0.3)
    np.testing.assert_allclose(chromatic_aberration(flat, 0.1), flat, atol=1e-5)
    np.testing.assert_array_equal(chromatic_aberration(frame, 0.0), frame)


def test_haze_veils_far_pixels_more_than_near_ones():
    depth = haze_depth(np.random.default_rng(0), 32, 32)
    assert depth.shape == (32, 32) and depth.min() >= 0 and depth.max() <= 1
    assert depth[:4].mean() > depth[-4:].mean()  # far at the top
    dark = grey_frame(0.1, 32)
    airlight = np.array([0.9, 0.9, 0.9], np.float32)
    out = haze(dark, depth, 1.0, airlight)
    assert out[:4].mean() > out[-4:].mean() > 0.1
    np.testing.assert_allclose(haze(dark, depth, 0.0, airlight), dark, atol=1e-6)
    # Contrast shrinks: two grey levels come closer.
    pair = np.concatenate([grey_frame(0.1, 32)[:, :16], grey_frame(0.6, 32)[:, 16:]], axis=1)
    hazy = haze(pair, np.ones((32, 32), np.float32), 1.0, airlight)
    assert hazy[:, 16:].mean() - hazy[:, :16].mean() < 0.5 * 0.5

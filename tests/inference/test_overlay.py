"""Overlays and palette masks."""

import numpy as np

from i2v_plugin.inference.overlay import blend, overlay_frame
from i2v_plugin.inference.palette import CLASS_PALETTE, save_mask_png
from tests.helpers.media import read_mask

CONFIG = "configs/synthetic/swin_source_only.yaml"


def test_overlay_blend_and_palette_masks(tmp_path):
    frame = np.full((4, 6, 3), 100, np.uint8)
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 3
    full = blend(frame, mask, alpha=1.0)
    assert np.array_equal(full[mask == 3], np.tile(CLASS_PALETTE[3], (6, 1)))
    assert np.array_equal(full[mask == 0], frame[mask == 0])  # background stays the frame
    assert np.array_equal(blend(frame, mask, alpha=0.0), frame)
    tinted = blend(frame, mask, alpha=1.0, background=None)
    assert np.array_equal(tinted[mask == 0][0], CLASS_PALETTE[0])
    # Odd sizes are padded to even ones for yuv420p.
    assert overlay_frame(frame[:3, :5], mask[:3, :5]).shape == (4, 6, 3)

    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    save_mask_png(values, tmp_path / "m.png")
    assert np.array_equal(read_mask(tmp_path / "m.png"), values)
    # Every class 1..254 has its own colour.
    assert len({tuple(c) for c in CLASS_PALETTE[1:255]}) == 254

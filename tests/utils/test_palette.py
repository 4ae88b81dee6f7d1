"""The palettes: background black and ignore white in all, the published DAVIS / VOC colours,
and class colours that differ for every class index."""

import numpy as np

from i2v_plugin.utils.palette import CLASS_PALETTE, DAVIS_PALETTE, IGNORE_INDEX, hsv_palette


def test_shapes_background_and_ignore():
    for palette in (CLASS_PALETTE, DAVIS_PALETTE, hsv_palette({1: (0.0, 1.0, 1.0)})):
        assert palette.shape == (256, 3) and palette.dtype == np.uint8
        assert palette[0].tolist() == [0, 0, 0]
    assert CLASS_PALETTE[IGNORE_INDEX].tolist() == [255, 255, 255]


def test_davis_palette_is_the_published_colour_map():
    # Colours of the DAVIS / Pascal VOC annotation PNGs, written out by hand.
    published = {
        1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128), 8: (64, 0, 0),
        15: (192, 128, 128), 20: (0, 64, 128), 255: (224, 224, 192),
    }  # fmt: skip
    for index, colour in published.items():
        assert tuple(DAVIS_PALETTE[index]) == colour
    assert len({tuple(c) for c in DAVIS_PALETTE}) == 256


def test_hsv_palette_places_given_colours_only():
    palette = hsv_palette({1: (0.0, 1.0, 1.0), 3: (1 / 3, 1.0, 0.5)})
    assert palette[1].tolist() == [255, 0, 0] and palette[3].tolist() == [0, 128, 0]
    assert palette[2].tolist() == [0, 0, 0] and palette[255].tolist() == [255, 255, 255]
    assert len({tuple(c) for c in CLASS_PALETTE[1:IGNORE_INDEX]}) == IGNORE_INDEX - 1

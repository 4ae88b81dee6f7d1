"""Shape rasterisers of the synthetic benchmark: extent, structure, distinctness, transforms."""

import itertools
import math

import numpy as np
import pytest

from i2v_plugin.synth.shapes import (
    SHAPE_NAMES,
    Pose,
    local_coordinates,
    rasterize_ellipse,
    rasterize_shape,
)

SIZE = 96
CENTRE = Pose(cx=47.5, cy=47.5, size=80.0, angle=0.3)


def test_there_are_ten_distinct_names():
    assert len(SHAPE_NAMES) == len(set(SHAPE_NAMES)) == 10


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_shape_is_a_substantial_bool_mask_inside_its_enclosing_circle(name):
    mask = rasterize_shape(name, CENTRE, SIZE, SIZE)
    assert mask.dtype == bool and mask.shape == (SIZE, SIZE)
    area_fraction = mask.sum() / (math.pi * (CENTRE.size / 2) ** 2)
    assert 0.15 < area_fraction <= 1.05
    rows, cols = np.nonzero(mask)
    radius = np.hypot(cols - CENTRE.cx, rows - CENTRE.cy)
    assert radius.max() <= CENTRE.size / 2 + 1.5


def test_every_pair_of_shapes_differs():
    masks = {name: rasterize_shape(name, CENTRE, SIZE, SIZE) for name in SHAPE_NAMES}
    for a, b in itertools.combinations(SHAPE_NAMES, 2):
        iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
        assert iou < 0.85, f"{a} and {b} are nearly the same mask (IoU {iou:.2f})"


@pytest.mark.parametrize(("hollow", "solid"), [("ring", "disk"), ("frame", "square")])
def test_hollow_shapes_have_a_hole_where_their_solid_twin_is_filled(hollow, solid):
    centre = (round(CENTRE.cy), round(CENTRE.cx))
    assert rasterize_shape(solid, CENTRE, SIZE, SIZE)[centre]
    assert not rasterize_shape(hollow, CENTRE, SIZE, SIZE)[centre]
    # The hollow shape is the solid one minus the hole.
    hollow_mask = rasterize_shape(hollow, CENTRE, SIZE, SIZE)
    solid_mask = rasterize_shape(solid, CENTRE, SIZE, SIZE)
    assert (hollow_mask & ~solid_mask).sum() <= 0.02 * hollow_mask.sum()


@pytest.mark.parametrize("name", ["triangle", "arrow", "crescent", "star"])
def test_rotation_moves_pixels_but_keeps_area(name):
    turned = Pose(CENTRE.cx, CENTRE.cy, CENTRE.size, CENTRE.angle + 1.0)
    a = rasterize_shape(name, CENTRE, SIZE, SIZE)
    b = rasterize_shape(name, turned, SIZE, SIZE)
    assert abs(int(a.sum()) - int(b.sum())) < 0.05 * a.sum()
    assert (a ^ b).sum() > 0.1 * a.sum()


def test_translation_shifts_the_mask():
    a = rasterize_shape("cross", CENTRE, SIZE, SIZE)
    b = rasterize_shape(
        "cross", Pose(CENTRE.cx + 7, CENTRE.cy - 4, CENTRE.size, CENTRE.angle), SIZE, SIZE
    )
    np.testing.assert_array_equal(
        np.roll(a, (-4, 7), axis=(0, 1))[10:-10, 10:-10], b[10:-10, 10:-10]
    )


def test_area_grows_with_the_square_of_size():
    small = rasterize_shape("hexagon", Pose(47.5, 47.5, 30.0), SIZE, SIZE).sum()
    large = rasterize_shape("hexagon", Pose(47.5, 47.5, 60.0), SIZE, SIZE).sum()
    assert large / small == pytest.approx(4.0, rel=0.1)


def test_shapes_partly_out_of_frame_are_clipped():
    inside = rasterize_shape("disk", Pose(47.5, 47.5, 40.0), SIZE, SIZE).sum()
    at_edge = rasterize_shape("disk", Pose(0.0, 47.5, 40.0), SIZE, SIZE).sum()
    outside = rasterize_shape("disk", Pose(-100.0, 47.5, 40.0), SIZE, SIZE).sum()
    assert at_edge == pytest.approx(inside / 2, rel=0.1)
    assert outside == 0


def test_unknown_shape_name_lists_valid_names():
    with pytest.raises(ValueError, match="hexagon"):
        rasterize_shape("pentagon", CENTRE, SIZE, SIZE)


def test_ellipse_aspect_controls_its_area():
    round_area = rasterize_ellipse(Pose(47.5, 47.5, 60.0, 0.7), 1.0, SIZE, SIZE).sum()
    flat_area = rasterize_ellipse(Pose(47.5, 47.5, 60.0, 0.7), 0.3, SIZE, SIZE).sum()
    assert flat_area / round_area == pytest.approx(0.3, rel=0.12)


def test_local_coordinates_follow_the_pose():
    pose = Pose(cx=40.0, cy=20.0, size=10.0, angle=math.pi / 2)
    u, v = local_coordinates(pose, 64, 64)
    assert u.shape == v.shape == (64, 64) and u.dtype == np.float32
    assert (u[20, 40], v[20, 40]) == (pytest.approx(0.0, abs=1e-5), pytest.approx(0.0, abs=1e-5))
    # Rotated a quarter turn: the shape's u axis points down the image (+y).
    assert u[30, 40] == pytest.approx(1.0, abs=1e-5)
    assert v[30, 40] == pytest.approx(0.0, abs=1e-5)
    assert v[20, 30] == pytest.approx(1.0, abs=1e-5)

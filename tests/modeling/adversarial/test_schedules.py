"""GRL coefficient schedules: endpoints, monotonicity, purity, factory errors."""

import math

import pytest

from i2v_plugin.modeling.adversarial.schedules import (
    ConstantSchedule,
    SigmoidRampSchedule,
    build_schedule,
)


def test_constant_is_constant():
    schedule = ConstantSchedule(0.3)
    assert {schedule(i) for i in (0, 1, 50, 10**6)} == {0.3}


def test_sigmoid_endpoints_and_clamping():
    schedule = SigmoidRampSchedule(low=0.1, high=1.0, gamma=10.0, max_iter=1000)
    assert schedule(0) == pytest.approx(0.1, abs=1e-12)
    assert schedule(1000) == pytest.approx(1.0, abs=1e-3)
    assert schedule(1000) == pytest.approx(0.1 + 0.9 * math.tanh(5.0), abs=1e-12)
    assert schedule(-5) == schedule(0)
    assert schedule(5000) == schedule(1000)


def test_sigmoid_matches_formula_midway():
    schedule = SigmoidRampSchedule(low=0.0, high=2.0, gamma=4.0, max_iter=200)
    expected = 2.0 * (2.0 / (1.0 + math.exp(-4.0 * 0.25)) - 1.0)
    assert schedule(50) == pytest.approx(expected, rel=1e-12)


def test_sigmoid_is_monotone():
    schedule = SigmoidRampSchedule(low=0.0, high=1.0, gamma=10.0, max_iter=100)
    values = [schedule(i) for i in range(0, 120)]
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert values[50] > values[10]


def test_schedule_is_pure_function_of_iteration():
    schedule = SigmoidRampSchedule(low=0.0, high=1.0, gamma=10.0, max_iter=100)
    first_pass = [schedule(i) for i in range(100)]
    fresh = SigmoidRampSchedule(low=0.0, high=1.0, gamma=10.0, max_iter=100)
    # Querying out of order (as after a resume) gives the same values.
    assert [fresh(i) for i in reversed(range(100))][::-1] == first_pass


def test_build_schedule():
    assert build_schedule("constant", value=0.5)(123) == 0.5
    ramp = build_schedule("sigmoid", low=0.0, high=1.0, gamma=10.0, max_iter=10)
    assert isinstance(ramp, SigmoidRampSchedule)
    with pytest.raises(ValueError, match="unknown schedule name 'linear'"):
        build_schedule("linear")
    with pytest.raises(TypeError, match="sigmoid"):
        build_schedule("sigmoid", value=1.0)
    with pytest.raises(ValueError, match="max_iter"):
        build_schedule("sigmoid", low=0.0, high=1.0, gamma=10.0, max_iter=0)

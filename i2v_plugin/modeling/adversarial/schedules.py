"""Schedules for the gradient-reversal coefficient as pure functions of the training iteration.

No schedule keeps a counter, so resuming training at iteration ``i`` gives the same coefficient
as an uninterrupted run.
"""

import math


class ConstantSchedule:
    """Always returns ``value``.

    Args:
        value: the coefficient (float).
    """

    def __init__(self, value: float):
        self.value = float(value)

    def __call__(self, iteration: int) -> float:
        """Return the coefficient at ``iteration`` (int, ignored)."""
        return self.value

    def __repr__(self) -> str:
        return f"ConstantSchedule(value={self.value})"


class SigmoidRampSchedule:
    """The DANN ramp from ``low`` towards ``high``.

    ``coeff(i) = low + (high - low) * (2 / (1 + exp(-gamma * p)) - 1)`` with
    ``p = clamp(i / max_iter, 0, 1)``. It starts at ``low`` and ends at
    ``low + (high - low) * tanh(gamma / 2)`` (about ``high`` for the usual ``gamma = 10``).

    Args:
        low: coefficient at iteration 0.
        high: coefficient approached as ``p -> 1`` for a large ``gamma``.
        gamma: steepness (>= 0; 0 keeps the coefficient at ``low``).
        max_iter: iteration at which the ramp ends (> 0).
    """

    def __init__(self, low: float, high: float, gamma: float, max_iter: int):
        if max_iter <= 0:
            raise ValueError(f"SigmoidRampSchedule: max_iter must be > 0, got {max_iter}")
        if gamma < 0:
            raise ValueError(f"SigmoidRampSchedule: gamma must be >= 0, got {gamma}")
        self.low = float(low)
        self.high = float(high)
        self.gamma = float(gamma)
        self.max_iter = int(max_iter)

    def __call__(self, iteration: int) -> float:
        """Return the coefficient (float) at ``iteration`` (int; values outside the ramp clamp)."""
        progress = min(max(iteration / self.max_iter, 0.0), 1.0)
        ramp = 2.0 / (1.0 + math.exp(-self.gamma * progress)) - 1.0
        return self.low + (self.high - self.low) * ramp

    def __repr__(self) -> str:
        return (
            f"SigmoidRampSchedule(low={self.low}, high={self.high}, gamma={self.gamma}, "
            f"max_iter={self.max_iter})"
        )


_SCHEDULES = {"constant": ConstantSchedule, "sigmoid": SigmoidRampSchedule}


def build_schedule(name: str, **kwargs) -> ConstantSchedule | SigmoidRampSchedule:
    """Build a schedule by name.

    Args:
        name: "constant" (kwargs: ``value``) or "sigmoid" (kwargs: ``low``, ``high``, ``gamma``,
            ``max_iter``).

    Returns:
        A callable ``schedule(iteration: int) -> float``.
    """
    if name not in _SCHEDULES:
        raise ValueError(
            f"build_schedule: unknown schedule name {name!r}; expected one of {sorted(_SCHEDULES)}"
        )
    try:
        return _SCHEDULES[name](**kwargs)
    except TypeError as err:
        raise TypeError(f"build_schedule: bad arguments for schedule {name!r}: {err}") from err

"""experiments.statistics: paired t-interval, minimum detectable effect, share of the gap closed,
checked against small examples worked by hand and closed-form t quantiles."""

import math

import pytest

from i2v_plugin.experiments.statistics import gap_closed, paired_difference, t_quantile


def by_seed(*values):
    return dict(enumerate(values))


def t_df2(p):
    """Student's t quantile with 2 degrees of freedom in closed form."""
    return (2 * p - 1) / math.sqrt(2 * p * (1 - p))


def t_df1(p):
    """Student's t quantile with 1 degree of freedom (Cauchy) in closed form."""
    return math.tan(math.pi * (p - 0.5))


def test_t_quantile_matches_the_closed_forms():
    for p in (0.6, 0.8, 0.975):
        assert t_quantile(p, 2) == pytest.approx(t_df2(p), rel=1e-9)
        assert t_quantile(p, 1) == pytest.approx(t_df1(p), rel=1e-9)
    assert t_quantile(0.975, 2) == pytest.approx(4.302653, abs=1e-6)


def test_interval_and_mde_of_a_worked_example():
    # Differences 1, 2, 3: mean 2, sd 1, n 3.
    d = paired_difference(by_seed(11.0, 12.0, 13.0), by_seed(10.0, 10.0, 10.0))
    half = t_df2(0.975) / math.sqrt(3)
    assert (d.n, d.mean, d.sd) == (3, pytest.approx(2.0), pytest.approx(1.0))
    assert (d.low, d.high) == (pytest.approx(2 - half), pytest.approx(2 + half))
    assert d.mde == pytest.approx((t_df2(0.975) + t_df2(0.8)) / math.sqrt(3))
    assert d.low < 0 < d.high and d.verdict == "no" and not d.claimed


def test_runs_are_paired_by_seed_and_unpaired_seeds_left_out():
    row = {0: 5.0, 1: 7.0, 3: 100.0}
    against = {0: 4.0, 1: 6.0, 2: -100.0}
    d = paired_difference(row, against)
    assert d.seeds == (0, 1) and d.mean == pytest.approx(1.0)
    assert paired_difference({0: 1.0}, {1: 1.0}) is None


def test_a_constant_difference_gives_a_zero_width_interval_and_a_claim():
    d = paired_difference(by_seed(3.0, 9.0, 5.0, 1.0), by_seed(2.5, 8.5, 4.5, 0.5))
    assert d.low == pytest.approx(0.5) and d.high == pytest.approx(0.5)
    assert d.mde == pytest.approx(0.0) and d.verdict == "yes"
    same = paired_difference(by_seed(3.0, 9.0), by_seed(3.0, 9.0))
    assert (same.low, same.high, same.verdict) == (0.0, 0.0, "no")  # identical runs: no gain


def test_swapping_the_rows_flips_the_sign():
    a, b = by_seed(20.0, 25.0, 18.0, 30.0), by_seed(15.0, 21.0, 19.0, 22.0)
    ab, ba = paired_difference(a, b), paired_difference(b, a)
    assert ba.mean == pytest.approx(-ab.mean)
    assert (ba.low, ba.high) == (pytest.approx(-ab.high), pytest.approx(-ab.low))
    assert ba.mde == pytest.approx(ab.mde)


def test_a_loss_is_reported_as_lower_not_as_a_gain():
    d = paired_difference(by_seed(1.0, 2.0, 3.0), by_seed(5.0, 6.5, 7.0))
    assert d.high < 0 and d.verdict == "lower" and not d.claimed


def test_mde_decreases_with_more_seeds_at_the_same_spread():
    mdes = []
    for n in (3, 5, 10):
        diffs = [(-1.0) ** i for i in range(n)]  # spread close to 1 for every n
        d = paired_difference(by_seed(*diffs), by_seed(*[0.0] * n))
        mdes.append(d.mde / d.sd)  # per unit of spread
    assert mdes[0] > mdes[1] > mdes[2]


def test_one_seed_gives_a_difference_without_interval():
    d = paired_difference({4: 3.0}, {4: 1.0})
    assert d.mean == 2.0 and d.low is None and d.mde is None and d.verdict == "no"


def test_gap_closed_by_a_row_halfway_is_one_half():
    source, oracle = by_seed(10.0, 14.0, 12.0), by_seed(30.0, 40.0, 32.0)
    row = {s: source[s] + 0.5 * (oracle[s] - source[s]) for s in source}
    g = gap_closed(row, source, oracle)
    assert g.share == pytest.approx(0.5) and g.low == pytest.approx(0.5)
    assert g.high == pytest.approx(0.5)


def test_gap_closed_delta_method_interval_by_hand():
    # u = row - source = (1, 3), v = oracle - source = (10, 10): R = 2 / 10 = 0.2,
    # Var(R) = s_uu / (n v̄²) = 2 / (2 * 100) = 0.01 (v constant), half-width t(0.975, 1) * 0.1.
    g = gap_closed(by_seed(1.0, 3.0), by_seed(0.0, 0.0), by_seed(10.0, 10.0))
    half = t_df1(0.975) * 0.1
    assert g.share == pytest.approx(0.2)
    assert (g.low, g.high) == (pytest.approx(0.2 - half), pytest.approx(0.2 + half))


def test_gap_closed_needs_a_positive_gap():
    assert gap_closed(by_seed(5.0), by_seed(5.0), by_seed(4.0)) is None
    assert gap_closed(by_seed(5.0), by_seed(4.0), by_seed(6.0)).low is None  # one seed

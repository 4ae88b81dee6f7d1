"""Statistics over seeds: runs are paired by seed (same seed = same data order, initial weights
and augmentation draws), so comparisons use per-seed differences.

Paired difference of row A against row B over the n seeds both have, d_i = A_i - B_i:

- mean d̄ and sample standard deviation s (n - 1 in the denominator);
- 95% confidence interval d̄ ± t(1 - α/2, n - 1) · s / √n (paired t-interval, α = 0.05);
- minimum detectable effect, two-sided α = 0.05, power 0.8:
  MDE = (t(1 - α/2, n - 1) + t(0.8, n - 1)) · s / √n,
  the true mean difference that a paired t-test on n seeds with this spread would detect 80% of
  the time (the usual normal-approximation formula with t quantiles);
- a gain is claimed only where the interval lies above 0.

Share of the gap closed by a row, R = mean(row - source) / mean(upper - source) (upper: the
family's upper bound), with u_i = row_i - source_i and v_i = upper_i - source_i over the
seeds all three have; its 95% interval by the delta method:
Var(R) ≈ (s_uu - 2 R s_uv + R² s_vv) / (n v̄²) with sample (co)variances,
R ± t(1 - α/2, n - 1) · √Var(R). Deterministic; it assumes v̄ is well away from 0 (a large
gap), which is the only case where the share means anything.

t quantiles come from ``scipy.stats`` (installed with scikit-learn).
"""

import dataclasses
import math
import statistics

from scipy import stats

ALPHA = 0.05
POWER = 0.8


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t distribution with ``df`` degrees of freedom."""
    return float(stats.t.ppf(p, df))


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """Row minus reference over paired seeds; ``low``/``high``/``mde`` are None for one pair."""

    seeds: tuple[int, ...]
    mean: float
    sd: float | None
    low: float | None
    high: float | None
    mde: float | None

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def claimed(self) -> bool:
        """A gain: the interval excludes 0 from above."""
        return self.low is not None and self.low > 0

    @property
    def verdict(self) -> str:
        """ "yes" (interval above 0), "lower" (below 0) or "no" (contains 0, or one pair)."""
        if self.claimed:
            return "yes"
        if self.high is not None and self.high < 0:
            return "lower"
        return "no"


def paired_difference(
    row: dict[int, float], against: dict[int, float], alpha: float = ALPHA, power: float = POWER
) -> PairedDifference | None:
    """Paired mean difference ``row - against`` over the seeds both have.

    Args:
        row, against: seed -> value.
        alpha: two-sided level of the interval and of the MDE.
        power: power of the MDE.
    Returns:
        a ``PairedDifference``, or None when no seed is shared.
    """
    seeds = tuple(sorted(set(row) & set(against)))
    if not seeds:
        return None
    diffs = [row[s] - against[s] for s in seeds]
    n = len(diffs)
    mean = statistics.fmean(diffs)
    if n < 2:
        return PairedDifference(seeds, mean, None, None, None, None)
    sd = statistics.stdev(diffs)
    scale = sd / math.sqrt(n)
    t_ci = t_quantile(1 - alpha / 2, n - 1)
    mde = (t_ci + t_quantile(power, n - 1)) * scale
    return PairedDifference(seeds, mean, sd, mean - t_ci * scale, mean + t_ci * scale, mde)


@dataclasses.dataclass(frozen=True)
class GapShare:
    """Share of the source-to-upper-bound gap closed; ``low``/``high`` None for one seed."""

    seeds: tuple[int, ...]
    share: float
    low: float | None
    high: float | None


def gap_closed(
    row: dict[int, float],
    source: dict[int, float],
    upper: dict[int, float],
    alpha: float = ALPHA,
) -> GapShare | None:
    """(row - source) / (upper - source) over the seeds all three have, with its delta-method
    interval.

    Args:
        row, source, upper: seed -> value (upper: the family's upper bound).
        alpha: two-sided level of the interval.
    Returns:
        a ``GapShare``, or None when no seed is shared or the mean gap is not positive.
    """
    seeds = tuple(sorted(set(row) & set(source) & set(upper)))
    if not seeds:
        return None
    u = [row[s] - source[s] for s in seeds]
    v = [upper[s] - source[s] for s in seeds]
    n, u_bar, v_bar = len(seeds), statistics.fmean(u), statistics.fmean(v)
    if v_bar <= 0:
        return None
    share = u_bar / v_bar
    if n < 2:
        return GapShare(seeds, share, None, None)
    s_uu = statistics.variance(u)
    s_vv = statistics.variance(v)
    s_uv = sum((a - u_bar) * (b - v_bar) for a, b in zip(u, v)) / (n - 1)
    variance = max(0.0, (s_uu - 2 * share * s_uv + share**2 * s_vv) / (n * v_bar**2))
    half = t_quantile(1 - alpha / 2, n - 1) * math.sqrt(variance)
    return GapShare(seeds, share, share - half, share + half)

"""A fixed-size sample of a large week, stratified by township, for the Evidently comparison.

Why a sample is enough, and how wrong it can be
-----------------------------------------------
Evidently's per-column verdicts are effect sizes (normed Wasserstein distance, Jensen-Shannon
distance), not p-values, so they do not need every row; they need the week's distribution up to a
known error. For a simple random sample of ``n`` rows from a week (within each township, and the
townships in their true proportions), the Dvoretzky-Kiefer-Wolfowitz inequality bounds the error
of the sample's cumulative distribution of any column, whatever its shape:

    P( sup_x |F_n(x) - F(x)| > eps ) <= 2 exp(-2 n eps^2)

so with ``n = 5000`` the whole empirical CDF is within ``eps = sqrt(ln(2/alpha) / (2n)) = 0.019``
of the week's CDF with 95 % confidence (``alpha = 0.05``). The Kolmogorov-Smirnov statistic
moves by at most that much, and the Wasserstein distance, the area between the two CDFs, by at
most ``eps`` times the column's range (divided by the reference's standard deviation once normed).
For a share (a category, a yes/no column, the share of drifted features) the binomial standard
error is at most ``sqrt(0.25 / n) = 0.007`` (95 % half-width 0.014). Sampling a finite week without
replacement only tightens these bounds. Townships are sampled in proportion, so no township is
over-represented; the per-township checks in :mod:`monitoring.drift` use every row, not the
sample.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DEFAULT_SIZE = 5000


def dkw_epsilon(n: int, alpha: float = 0.05) -> float:
    """Largest CDF error of an ``n``-row sample at confidence ``1 - alpha`` (DKW inequality)."""
    if n <= 0:
        return float("inf")
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def share_half_width(n: int, z: float = 1.96) -> float:
    """Worst-case 95 % half-width of a share estimated from ``n`` rows (p = 0.5)."""
    if n <= 0:
        return float("inf")
    return z * math.sqrt(0.25 / n)


def stratified_sample(
    frame: pd.DataFrame, size: int = DEFAULT_SIZE, by: str = "township", seed: int = 0
) -> pd.DataFrame:
    """At most ``size`` rows, each stratum in proportion to its share of the frame.

    Args:
        frame: rows to sample from (returned whole when it has ``size`` rows or fewer).
        size: target number of rows.
        by: stratum column (the township); a frame without it is sampled simply.
        seed: random seed, so a week's report is reproducible.

    Returns:
        The sampled rows in their original order (index kept).
    """
    if len(frame) <= size:
        return frame
    rng = np.random.default_rng(seed)
    if by not in frame.columns:
        keep = np.sort(rng.choice(len(frame), size=size, replace=False))
        return frame.iloc[keep]
    positions = pd.Series(np.arange(len(frame)), index=frame.index)
    groups = positions.groupby(frame[by].astype(str).to_numpy(), sort=True)
    counts = groups.size()
    quota = np.floor(counts / len(frame) * size).astype(int)
    # Largest remainders get the rows left over by rounding down.
    left = size - int(quota.sum())
    if left > 0:
        remainder = (counts / len(frame) * size) - quota
        quota[remainder.sort_values(ascending=False).index[:left]] += 1
    chosen = []
    for name, pos in groups:
        k = min(int(quota[name]), len(pos))
        chosen.append(rng.choice(pos.to_numpy(), size=k, replace=False))
    keep = np.sort(np.concatenate(chosen))
    return frame.iloc[keep]
